"""The video page's Re-analyse button: another provider or model for a stored video, run as a
``reanalyze-video`` deployment run, its progress shown in place. The new analysis sits beside
the others once the run is done (a reload of the page shows it)."""

from __future__ import annotations

import panel as pn

from adref.errors import AdrefError
from adref.providers.registry import available
from adref.viewer import runs
from adref.viewer.context import ViewerContext
from adref.viewer.following import Follower
from adref.viewer.plain import alert
from adref.warehouse.detail import VideoView


def action(ctx: ViewerContext, view: VideoView) -> pn.viewable.Viewable:
    used = {a.provider for a in view.analyses}
    providers = available()
    fresh = [p for p in providers if p not in used]
    provider = pn.widgets.Select(
        label="Provider", options=providers, value=(fresh or providers)[0], width=140
    )
    model = pn.widgets.TextInput(
        label="Model", placeholder=runs.default_model(str(provider.value)), width=180
    )
    provider.param.watch(
        lambda e: setattr(model, "placeholder", runs.default_model(e.new)), "value"
    )
    button = pn.widgets.Button(label="Re-analyse", color="primary", align="end")
    out = pn.Column(sizing_mode="stretch_width", name="reanalyse-progress")

    def on_click(_: object) -> None:
        try:
            started = runs.start_reanalyze(ctx.settings, view.video_id, provider.value, model.value)
        except AdrefError as exc:
            out[:] = [alert(exc.one_line(), alert_type="danger", name="error")]
            return
        out[:] = [Follower(ctx, started, "Reload to see the new analysis").start().pane]

    button.on_click(on_click)
    return pn.Column(pn.Row(provider, model, button), out, name="reanalyse")
