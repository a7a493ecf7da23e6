"""The Analyze page (``/analyze[?run=FLOW_RUN_ID]``): paste a URL or pick a file from the input
folders, choose the provider and tags, and start an ``analyze-video`` deployment run; its stages
then show live, and a link opens the video when it is done. ``?run=`` follows a run already
started (a reload keeps following). With no Prefect server it says, in one line, how to start one.
"""

from __future__ import annotations

from html import escape

import panel as pn

from adref.errors import AdrefError
from adref.providers.registry import available
from adref.sources.inbox import list_input_files, picked_file
from adref.viewer import runs
from adref.viewer.context import ViewerContext
from adref.viewer.following import Follower
from adref.viewer.plain import alert

NO_FILE = ""


def page(ctx: ViewerContext) -> pn.viewable.Viewable:
    settings = ctx.settings
    try:
        runs.api_url(settings)
        server_line = None
    except runs.NoServer as exc:
        server_line = exc.one_line()

    folders = settings.input_folders
    files = list_input_files(folders)
    several = len(folders) > 1
    file_options = {"(none: use the URL)": NO_FILE} | {
        (f"{folders[f.folder].name}/{f.relative}" if several else f.relative)
        + f" ({f.size_bytes / 1e6:.1f} MB)": f"{f.folder}:{f.relative}"
        for f in files
    }
    providers = available()
    url = pn.widgets.TextInput(
        label="Video URL", placeholder="https://www.youtube.com/watch?v=…", width=520
    )
    picked = pn.widgets.Select(label="…or a file from the input folders", options=file_options)
    provider = pn.widgets.Select(
        label="Provider",
        options=providers,
        value=settings.provider if settings.provider in providers else "local",
    )
    model = pn.widgets.TextInput(
        label="Model", placeholder=runs.default_model(str(provider.value)), width=260
    )
    provider.param.watch(
        lambda e: setattr(model, "placeholder", runs.default_model(e.new)), "value"
    )
    tags = pn.widgets.TextInput(label="Tags (comma-separated)", width=260)
    start = pn.widgets.Button(label="Start", color="primary", width=120)
    feedback = pn.Column(sizing_mode="stretch_width", name="feedback")
    if server_line:
        feedback.append(alert(server_line, alert_type="warning", name="no-server"))

    def on_start(_: object) -> None:
        try:
            source = url.value
            if picked.value != NO_FILE:
                folder, relative = str(picked.value).split(":", 1)
                source = str(picked_file(folders, int(folder), relative))
            started = runs.start_analyze(
                settings,
                source=source,
                provider=provider.value,
                model=model.value,
                tags=(tags.value or "").split(","),
                owner=ctx.user,
            )
        except AdrefError as exc:
            feedback[:] = [alert(exc.one_line(), alert_type="danger", name="error")]
            return
        feedback[:] = [follow_run(ctx, started)]

    start.on_click(on_start)
    if run_id := ctx.param("run"):
        feedback[:] = [_follow_existing(ctx, run_id)]
    hint = (
        f"Files are listed from {', '.join(escape(str(f)) for f in folders)} "
        "(ADREF_INPUT_DIRS); the run goes to the Prefect server's worker."
    )
    return pn.Column(
        pn.pane.HTML(f"<h2>Analyze a video</h2><p class='meta'>{hint}</p>"),
        url,
        picked,
        pn.Row(provider, model, tags),
        start,
        feedback,
        sizing_mode="stretch_width",
        name="analyze",
    )


def follow_run(ctx: ViewerContext, started: runs.StartedRun) -> pn.viewable.Viewable:
    return Follower(ctx, started, "Open the video").start().pane


def _follow_existing(ctx: ViewerContext, run_id: str) -> pn.viewable.Viewable:
    try:
        ui_url = runs.ui_link(runs.api_url(ctx.settings), run_id)
    except AdrefError:
        ui_url = ""  # the follower shows why, in one line
    return follow_run(ctx, runs.StartedRun(run_id, run_id, ui_url))
