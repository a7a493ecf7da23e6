"""The search page (placeholder until the search index lands: lists the newest videos)."""

from __future__ import annotations

import contextlib
from html import escape

import panel as pn

from adref.viewer.context import ViewerContext
from adref.viewer.style import CARD_CSS


def page(ctx: ViewerContext) -> pn.viewable.Viewable:
    with contextlib.closing(ctx.warehouse.connect(read_only=True)) as con:
        rows = con.execute(
            "SELECT v.video_id, v.title, s.keyframe_path FROM videos v LEFT JOIN shots s "
            "ON s.video_id = v.video_id AND s.shot_index = 0 ORDER BY v.ingested_at DESC LIMIT 48"
        ).fetchall()
    cards = "".join(
        f'<div class="card"><a href="{escape(ctx.link("video", id=vid))}">'
        f'<img src="{escape(ctx.media_url(kf) or "")}" alt="">'
        f'<span class="title">{escape(title or vid)}</span></a></div>'
        for vid, title, kf in rows
    )
    return pn.pane.HTML(
        f"<div class='grid'>{cards}</div>", stylesheets=[CARD_CSS], sizing_mode="stretch_width"
    )
