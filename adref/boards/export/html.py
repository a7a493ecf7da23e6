"""A board as one self-contained HTML page: frames inlined as data URIs, every text escaped.

Nothing on the page is fetched from anywhere (no fonts, scripts, styles or images by address), so
it opens the same offline, attached to an e-mail, or years later.
"""

from __future__ import annotations

import base64
from html import escape

from adref.boards.frames import Frame, frames, jpeg
from adref.warehouse.media_store import MediaStore
from adref.warehouse.moodboards import BoardView

_STYLE = """
body{margin:0;background:#faf9f6;color:#1c1c1e;
font-family:"Noto Sans CJK KR","Apple SD Gothic Neo","Malgun Gothic",system-ui,sans-serif}
main{max-width:1400px;margin:0 auto;padding:48px}
h1{font-size:2.2rem;margin:0 0 .4rem}
.desc{color:#6e6e76;white-space:pre-wrap;margin:0 0 .4rem}
.meta{color:#6e6e76;font-size:.85rem;margin:0 0 2rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:28px}
figure{margin:0}
.frame{aspect-ratio:16/9;background:#141416;display:flex;align-items:center;justify-content:center}
.frame img{max-width:100%;max-height:100%;display:block}
figcaption{padding-top:.5rem}
.cap{display:flex;justify-content:space-between;gap:1rem;font-weight:600}
.cap .tc{font-weight:400;color:#6e6e76;font-variant-numeric:tabular-nums}
.note{color:#6e6e76;font-size:.9rem;white-space:pre-wrap;margin-top:.25rem}
"""


def _figure(frame: Frame) -> str:
    data = base64.b64encode(jpeg(frame.image)).decode("ascii")
    note = f'<div class="note">{escape(frame.note)}</div>' if frame.note else ""
    return (
        "<figure>"
        f'<div class="frame"><img alt="{escape(frame.title)} {escape(frame.timecode)}" '
        f'src="data:image/jpeg;base64,{data}"></div>'
        f'<figcaption><div class="cap"><span>{escape(frame.title)}</span>'
        f'<span class="tc">{escape(frame.timecode)}</span></div>{note}</figcaption>'
        "</figure>"
    )


def board_html(view: BoardView, media: MediaStore) -> str:
    items = frames(view, media)
    b = view.board
    desc = f'<p class="desc">{escape(b.description)}</p>' if b.description else ""
    return (
        '<!doctype html>\n<html lang="ko"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(b.name)}</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{escape(b.name)}</h1>{desc}"
        f'<p class="meta">{len(items)} frames · {escape(b.owner)}</p>'
        f'<section class="grid">{"".join(_figure(f) for f in items)}</section>'
        "</main></body></html>\n"
    )
