"""A board as one PNG sheet: title, description, then a grid of frames with their captions."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont

from adref.boards.frames import BOX, FRAME_RATIO, INK, MUTED, Frame, cjk_font, frames
from adref.warehouse.media_store import MediaStore
from adref.warehouse.moodboards import BoardView

WIDTH = 1600
MARGIN = 64
GUTTER = 32
COLUMNS = 3
PAPER = (250, 249, 246)
LINE = 1.35

Draw = ImageDraw.ImageDraw
FontT = ImageFont.FreeTypeFont


def _font(size: int, bold: bool = False) -> FontT:
    f = cjk_font(bold)
    return ImageFont.truetype(str(f.path), size, index=f.index)


def wrap(draw: Draw, text: str, font: FontT, width: int, max_lines: int) -> list[str]:
    """Lines of at most ``width`` pixels, broken by character (Korean has no spaces to rely
    on everywhere), the last one ellipsised when the text does not fit."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for ch in paragraph:
            if draw.textlength(line + ch, font=font) > width and line:
                lines.append(line)
                line = ch.lstrip()
            else:
                line += ch
        lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last + "…"]
    return [ln for ln in lines if ln] if any(lines) else []


def _fit(image: Image.Image, w: int, h: int) -> Image.Image:
    box = Image.new("RGB", (w, h), BOX)
    scale = min(w / image.width, h / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    copy = image.resize(size, Image.Resampling.LANCZOS)
    box.paste(copy, ((w - copy.width) // 2, (h - copy.height) // 2))
    return box


def board_png(view: BoardView, media: MediaStore) -> bytes:
    """The board rendered at ``WIDTH`` pixels wide; height follows the number of frames."""
    title_f, desc_f = _font(44, bold=True), _font(22)
    cap_f, time_f, note_f = _font(20, bold=True), _font(18), _font(18)
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    inner = WIDTH - 2 * MARGIN
    title = wrap(scratch, view.board.name, title_f, inner, 2)
    desc = wrap(scratch, view.board.description, desc_f, inner, 4)
    header = (
        round(44 * LINE) * len(title) + round(22 * LINE) * len(desc) + round(18 * LINE) + GUTTER
    )
    cell_w = (inner - GUTTER * (COLUMNS - 1)) // COLUMNS
    image_h = round(cell_w * FRAME_RATIO)
    caption_h = round(20 * LINE) + round(18 * LINE) + 3 * round(18 * LINE) + 8
    cell_h = image_h + 12 + caption_h
    items = frames(view, media)
    rows = max(1, math.ceil(len(items) / COLUMNS))
    height = MARGIN + header + rows * cell_h + (rows - 1) * GUTTER + MARGIN
    sheet = Image.new("RGB", (WIDTH, height), PAPER)
    draw = ImageDraw.Draw(sheet)
    y = MARGIN
    for line in title:
        draw.text((MARGIN, y), line, font=title_f, fill=INK)
        y += round(44 * LINE)
    for line in desc:
        draw.text((MARGIN, y), line, font=desc_f, fill=MUTED)
        y += round(22 * LINE)
    count = f"{len(items)} frames · {view.board.owner}"
    draw.text((MARGIN, y + 4), count, font=time_f, fill=MUTED)
    y = MARGIN + header
    if not items:
        draw.text((MARGIN, y), "(empty board)", font=desc_f, fill=MUTED)
    for i, frame in enumerate(items):
        x = MARGIN + (i % COLUMNS) * (cell_w + GUTTER)
        top = y + (i // COLUMNS) * (cell_h + GUTTER)
        _cell(sheet, draw, frame, x, top, cell_w, image_h, (cap_f, time_f, note_f))
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _cell(
    sheet: Image.Image,
    draw: Draw,
    frame: Frame,
    x: int,
    y: int,
    w: int,
    h: int,
    fonts: tuple[FontT, FontT, FontT],
) -> None:
    cap_f, time_f, note_f = fonts
    sheet.paste(_fit(frame.image, w, h), (x, y))
    y += h + 12
    stamp_w = round(draw.textlength(frame.timecode, font=time_f)) + 12
    for line in wrap(draw, frame.title, cap_f, w - stamp_w, 1):
        draw.text((x, y), line, font=cap_f, fill=INK)
    draw.text((x + w - stamp_w + 12, y + 2), frame.timecode, font=time_f, fill=MUTED)
    y += round(20 * LINE) + 4
    for line in wrap(draw, frame.note, note_f, w, 3):
        draw.text((x, y), line, font=note_f, fill=MUTED)
        y += round(18 * LINE)
