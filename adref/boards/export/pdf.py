"""A board as a PDF: A4 landscape pages of 3 x 2 frames, text in an embedded CJK font.

The font is embedded (subset) so Korean titles and notes are real, selectable text on any
machine, not boxes and not pictures of letters.
"""

from __future__ import annotations

import io
import math

from fpdf import FPDF

from adref.boards.frames import BOX, FRAME_RATIO, INK, MUTED, Frame, cjk_font, frames, jpeg
from adref.warehouse.media_store import MediaStore
from adref.warehouse.moodboards import BoardView

COLUMNS, ROWS = 3, 2
MARGIN = 14.0  # mm
GUTTER = 8.0
NOTE_CHARS = 160  # about three lines under a frame
NOTE_LINE_H = 4.2
DESCRIPTION_LINES = 4  # as the PNG: the frames keep the page


class _Sheet(FPDF):
    board_name = ""

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("cjk", size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{self.board_name} · {self.page_no()}", align="R")


def _setup(view: BoardView) -> _Sheet:
    pdf = _Sheet(orientation="landscape", unit="mm", format="A4")
    pdf.board_name = view.board.name
    for style, bold in (("", False), ("B", True)):
        f = cjk_font(bold)
        pdf.add_font("cjk", style, str(f.path), collection_font_number=f.index)
    pdf.set_title(view.board.name)
    pdf.set_author(view.board.owner)
    pdf.set_creator("adref")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    return pdf


def _header(pdf: _Sheet, view: BoardView, count: int) -> None:
    pdf.set_font("cjk", "B", 22)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 10, view.board.name, new_x="LMARGIN", new_y="NEXT")
    if view.board.description:
        pdf.set_font("cjk", size=11)
        pdf.set_text_color(*MUTED)
        text = _capped(pdf, view.board.description, pdf.w - 2 * MARGIN, DESCRIPTION_LINES)
        pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 7, f"{count} frames · {view.board.owner}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def board_pdf(view: BoardView, media: MediaStore) -> bytes:
    items = frames(view, media)
    pdf = _setup(view)
    per_page = COLUMNS * ROWS
    pages = max(1, math.ceil(len(items) / per_page))
    for page in range(pages):
        pdf.add_page()
        if page == 0:
            _header(pdf, view, len(items))
        top = pdf.get_y()
        usable_w = pdf.w - 2 * MARGIN
        cell_w = (usable_w - GUTTER * (COLUMNS - 1)) / COLUMNS
        cell_h = (pdf.h - 12 - top - GUTTER * (ROWS - 1)) / ROWS
        image_h = min(cell_w * FRAME_RATIO, cell_h - 16)
        chunk = items[page * per_page : (page + 1) * per_page]
        for i, frame in enumerate(chunk):
            x = MARGIN + (i % COLUMNS) * (cell_w + GUTTER)
            y = top + (i // COLUMNS) * (cell_h + GUTTER)
            _cell(pdf, frame, x, y, cell_w, image_h, cell_h)
        if not items:
            pdf.set_font("cjk", size=11)
            pdf.cell(0, 8, "(empty board)")
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()


def _capped(pdf: _Sheet, text: str, width: float, max_lines: int) -> str:
    """The text as the current font wraps it in ``width``, at most ``max_lines`` lines, the
    last ending in "…" when some is left out (a long text would push the frames off the page,
    or under the next row)."""
    lines: list[str] = list(pdf.multi_cell(width, 5, text, dry_run=True, output="LINES"))  # type: ignore[arg-type]
    if len(lines) <= max_lines:
        return text
    last = lines[max_lines - 1]
    while last and pdf.get_string_width(last + "…") > width - 1:
        last = last[:-1]
    return "\n".join([*lines[: max_lines - 1], last + "…"])


def _cell(pdf: _Sheet, frame: Frame, x: float, y: float, w: float, h: float, cell_h: float) -> None:
    pdf.set_fill_color(*BOX)
    pdf.rect(x, y, w, h, style="F")
    img = frame.image
    scale = min(w / img.width, h / img.height)
    iw, ih = img.width * scale, img.height * scale
    pdf.image(io.BytesIO(jpeg(img)), x=x + (w - iw) / 2, y=y + (h - ih) / 2, w=iw, h=ih)
    pdf.set_xy(x, y + h + 1.5)
    pdf.set_font("cjk", size=8.5)
    pdf.set_text_color(*MUTED)
    stamp_w = pdf.get_string_width(frame.timecode) + 2
    pdf.set_font("cjk", "B", 9.5)
    pdf.set_text_color(*INK)
    title = frame.title
    while title and pdf.get_string_width(title) > w - stamp_w - 2:
        title = title[:-2] + "…" if len(title) > 2 else ""
    pdf.cell(w - stamp_w, 5, title)
    pdf.set_font("cjk", size=8.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(stamp_w, 5, frame.timecode, align="R", new_x="LEFT", new_y="NEXT")
    room = math.floor((cell_h - h - 1.5 - 5) / NOTE_LINE_H)  # below the picture and title
    if frame.note and room > 0:
        pdf.set_x(x)
        note = frame.note if len(frame.note) <= NOTE_CHARS else frame.note[:NOTE_CHARS] + "…"
        pdf.multi_cell(w, NOTE_LINE_H, _capped(pdf, note, w, room), new_x="LEFT", new_y="NEXT")
