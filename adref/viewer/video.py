"""The video page (``/video?id=VIDEO_ID[&t=SECONDS]``): the player from the kept copy, its shots
as a strip (a click seeks the player; under a shot's thumbnail the lines read on screen in it
and the voice-over said during it), the pacing, the palette, and every analysis of it side by
side with each scene group's description.

The player and the strip are one HTML pane, so a thumbnail finds its player in its own shadow
root and seeks without a round trip to the server. Everything from the warehouse is escaped:
titles and descriptions come from web pages and models, the lines on screen and said from
whatever the ad shows and says.

Buttons other pages add (edit, re-analyse, download, delete) go in ``ACTIONS``: each is a
function ``(ctx, view) -> Viewable`` called once per page, shown in order above the player.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import panel as pn
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure

from adref.categories import formats, genres, label
from adref.viewer.context import ViewerContext
from adref.viewer.plain import alert
from adref.viewer.style import CARD_CSS
from adref.warehouse.detail import AnalysisView, GroupView, ShotView, VideoView, video_view

Action = Callable[[ViewerContext, VideoView], pn.viewable.Viewable]
ACTIONS: list[Action] = []

_FIELD_LABELS = {
    "genre": "Genre",
    "genre_reason": "Why this genre",
    "genre_confidence": "Confidence",
    "expression_format": "Format",
    "mood": "Mood",
    "tone": "Tone",
    "target_audience": "Audience",
    "hook": "Hook",
    "call_to_action": "Call to action",
    "brand_cues": "Brand cues",
    "visual_style": "Visual style",
    "summary": "Summary",
    "model_tags": "Tags",
    "features": "Features",
    "ad_language": "Ad language",
    "output_language": "Answer language",
}


def page(ctx: ViewerContext) -> pn.viewable.Viewable:
    video_id = ctx.param("id")
    if not video_id:
        return alert("Which video? Open one from the search page.", alert_type="info")
    view = video_view(ctx.warehouse, video_id)
    if view is None:
        return alert(f"No video {video_id} in the warehouse.", alert_type="warning")
    start = _seconds(ctx.param("t"))
    return pn.Column(
        pn.pane.HTML(heading_html(ctx, view), stylesheets=[CARD_CSS], sizing_mode="stretch_width"),
        pn.FlexBox(
            *(action(ctx, view) for action in ACTIONS),
            gap="8px",
            align_items="flex-start",
            sizing_mode="stretch_width",
        ),
        pn.pane.HTML(
            player_html(ctx, view, start), stylesheets=[CARD_CSS], sizing_mode="stretch_width"
        ),
        pn.Row(
            pn.pane.Bokeh(pacing_chart(view), sizing_mode="stretch_width"),
            pn.pane.HTML(palette_html(view.palette), stylesheets=[CARD_CSS], width=320),
            sizing_mode="stretch_width",
        ),
        pn.Row(
            *(
                [analysis_card(ctx, view, a) for a in view.analyses]
                or [alert("No analysis stored for this video.", alert_type="info")]
            ),
            sizing_mode="stretch_width",
        ),
        sizing_mode="stretch_width",
        name="video",
    )


def heading_html(ctx: ViewerContext, view: VideoView) -> str:
    v = view.video
    title = escape(str(v.get("title") or view.video_id))
    facts = [
        f"{float(v['duration_s']):.1f} s" if v.get("duration_s") else None,
        f"{v['width']}×{v['height']}" if v.get("width") else None,
        f"{len(view.shots)} shots",
        f"{len(view.groups)} scene groups",
        f"owner {escape(str(v['owner']))}" if v.get("owner") else None,
    ]
    tags = [*(v.get("user_tags") or []), *(v.get("site_tags") or [])]
    source = v.get("webpage_url") or v.get("source_url")
    link = (
        f' · <a href="{escape(str(source))}" rel="noreferrer noopener" target="_blank">source</a>'
        if isinstance(source, str) and source.startswith(("http://", "https://"))
        else ""
    )
    return (
        f"<h2>{title}</h2><div class='meta'><code>{escape(view.video_id)}</code> · "
        + " · ".join(f for f in facts if f)
        + link
        + "</div><div>"
        + "".join(f"<span class='tag'>{escape(str(t))}</span>" for t in tags)
        + "</div>"
    )


def player_html(ctx: ViewerContext, view: VideoView, start: float | None) -> str:
    """The player and the shot strip; a thumbnail's click sets ``currentTime`` to its start."""
    src = ctx.media_url(view.video.get("media_path"))
    if src:
        fragment = f"#t={start:.3f}" if start else ""
        player = (
            f'<video id="player" controls preload="metadata" src="{escape(src + fragment)}">'
            "</video>"
        )
    else:
        player = "<p class='meta'>No playable copy kept for this video (ADREF_KEEP_VIDEO).</p>"
    thumbs = []
    for shot in view.shots:
        img = ctx.media_url(shot.keyframe_path)
        more = ctx.link("search", like=view.video_id, shot=shot.shot_index)
        at = " at" if start is not None and shot.start_s <= start < shot.end_s else ""
        thumbs.append(
            f'<div><button class="shot{at}" data-shot="{shot.shot_index}" '
            f'data-start="{shot.start_s:.3f}" title="shot {shot.shot_index}" '
            f"onclick=\"const v = this.getRootNode().querySelector('video'); "
            f"if (v) {{ v.currentTime = {shot.start_s:.3f}; }} "
            f"this.getRootNode().querySelectorAll('.shot').forEach(b => b.classList.remove('at')); "
            f"this.classList.add('at');\">"
            + (
                f'<img src="{escape(img)}" alt="shot {shot.shot_index}" loading="lazy">'
                if img
                else ""
            )
            + f"{_timecode(shot.start_s)}</button>"
            + _lines_html(shot)
            + f'<a class="more" href="{escape(more)}">More like this</a></div>'
        )
    return f"{player}<div class='strip'>{''.join(thumbs)}</div>"


def _lines_html(shot: ShotView) -> str:
    """What is read on screen in a shot and what is said during it, each labelled (escaped:
    anything can be written on screen or said)."""
    kinds = (
        ("screen", "On screen", "read on screen", shot.texts),
        ("said", "Said", "said in the voice-over", shot.said),
    )
    return "".join(
        f"<div class='lines {kind}' title='{title}'><b>{label}</b>"
        + "".join(f"<span>{escape(line)}</span>" for line in lines)
        + "</div>"
        for kind, label, title, lines in kinds
        if lines
    )


def pacing_chart(view: VideoView) -> Any:
    """Shot lengths over time: one bar per shot, as wide as it lasts."""
    shots = view.shots
    source = ColumnDataSource(
        {
            "x": [(s.start_s + s.end_s) / 2 for s in shots],
            "width": [max(s.end_s - s.start_s, 0.01) * 0.95 for s in shots],
            "length": [s.end_s - s.start_s for s in shots],
            "shot": [s.shot_index for s in shots],
            "start": [s.start_s for s in shots],
        }
    )
    fig = figure(
        height=220,
        title="Pacing: shot lengths over time",
        x_axis_label="time (s)",
        y_axis_label="shot length (s)",
        toolbar_location=None,
        sizing_mode="stretch_width",
        y_range=Range1d(start=0, end=max((s.end_s - s.start_s for s in shots), default=1.0) * 1.1),
    )
    fig.vbar(x="x", width="width", top="length", source=source, color="#2a6df4", alpha=0.8)
    fig.add_tools(
        HoverTool(
            tooltips=[("shot", "@shot"), ("start", "@start{0.0} s"), ("length", "@length{0.00} s")]
        )
    )
    return fig


def palette_html(palette: tuple[tuple[str, float], ...]) -> str:
    cells = "".join(
        f'<div style="background:{escape(h)};flex:{w:.4f}" title="{escape(h)} {w:.0%}">'
        f"{escape(h)}</div>"
        for h, w in palette
    )
    return f"<b>Palette</b><div class='swatches'>{cells}</div>"


def analysis_card(
    ctx: ViewerContext, view: VideoView, analysis: AnalysisView
) -> pn.viewable.Viewable:
    """One analysis: who made it and at what cost, every field, each group's description."""
    cost = f"${analysis.cost_usd:.4f}" if analysis.cost_usd is not None else "—"
    head = (
        f"<h3>{escape(analysis.provider)} · {escape(analysis.model or '—')}</h3>"
        f"<div class='meta'>prompt {escape(analysis.prompt_version or '—')} · "
        f"{escape(str(analysis.created_at or ''))[:19]}<br>"
        f"tokens {analysis.tokens_in or 0} in / {analysis.tokens_out or 0} out · cost {cost}"
        + (f" · {analysis.latency_s:.1f} s" if analysis.latency_s is not None else "")
        + "</div>"
    )
    rows = "".join(
        f"<tr><th>{_FIELD_LABELS.get(name, name)}</th><td>{_value_html(ctx, name, value)}</td></tr>"
        for name, value in analysis.fields.items()
    )
    described = {g.group_index: g for g in analysis.groups}
    group_rows = "".join(_group_row(ctx, g, described.get(g.group_index)) for g in view.groups)
    html = (
        f"{head}<table class='fields'>{rows}</table><h4>Scene groups</h4>"
        "<table class='fields groups'><tr><th>#</th><th>time</th><th></th><th>description</th>"
        f"<th>shot</th><th>camera</th></tr>{group_rows}</table>"
    )
    return pn.pane.HTML(
        html, stylesheets=[CARD_CSS], sizing_mode="stretch_width", min_width=360, name="analysis"
    )


def _group_row(ctx: ViewerContext, group: GroupView, described: Any) -> str:
    url = ctx.media_url(group.keyframe_path)
    img = f'<img src="{escape(url)}" alt="group {group.group_index}">' if url else ""
    return (
        f"<tr><td>{group.group_index}</td>"
        f"<td>{_timecode(group.start_s)}–{_timecode(group.end_s)}</td>"
        f"<td>{img}</td>"
        f"<td>{escape(getattr(described, 'description', None) or '')}</td>"
        f"<td>{escape(getattr(described, 'shot_type', None) or '')}</td>"
        f"<td>{escape(getattr(described, 'camera_movement', None) or '')}</td></tr>"
    )


def _value_html(ctx: ViewerContext, name: str, value: Any) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if name == "genre":
        return escape(f"{label(genres(), value, ctx.language)} ({value})")
    if name == "expression_format":
        return escape(f"{label(formats(), value, ctx.language)} ({value})")
    if name == "genre_confidence" and isinstance(value, int | float):
        return f"{value:.0%}"
    if isinstance(value, list | tuple):
        return "".join(f"<span class='tag'>{escape(str(v))}</span>" for v in value)
    if isinstance(value, dict):
        rows = "".join(
            f"<tr><th>{escape(str(k))}</th><td>{_value_html(ctx, '', v)}</td></tr>"
            for k, v in value.items()
        )
        return f"<table class='fields'>{rows}</table>"
    return escape(str(value))


def _timecode(seconds: float) -> str:
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def _seconds(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 and value == value else None
