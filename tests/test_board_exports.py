"""Board exports are real files: a PNG of the expected size, a PDF whose text holds the Korean
title and every timecode (Hangul as selectable text, not boxes), an HTML page needing nothing
from outside."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from adref.boards.export import board_html, board_pdf, board_png
from adref.boards.export import png as png_layout
from adref.boards.frames import timecode
from adref.errors import InputError
from adref.warehouse import moodboards as mb
from adref.warehouse.catalog import Warehouse
from tests.board_library import build_library

BOARD_TITLE = "여름 캠페인 무드보드"
NOTE = "오프닝 컷: 파도 <소리> & 색감"


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> tuple[mb.BoardView, Warehouse]:
    wh = build_library(tmp_path_factory.mktemp("exports") / "wh")
    board = mb.create_board(wh, "mina", BOARD_TITLE, "바다와 도시 — blues against reds")
    shots = [("youtube:sea", i) for i in range(4)] + [("vimeo:city", i) for i in range(5)]
    mb.add_items(wh, board, "mina", shots)
    mb.set_note(wh, board, "mina", "youtube:sea", 0, NOTE)
    return mb.read_board(wh, board), wh


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "00:00.0"), (7.5, "00:07.5"), (59.96, "01:00.0"), (754.24, "12:34.2")]
)
def test_timecodes_read_as_editors_write_them(seconds: float, text: str) -> None:
    assert timecode(seconds) == text


def test_png_is_a_sheet_of_the_frames(view: tuple[mb.BoardView, Warehouse]) -> None:
    board, wh = view
    data = board_png(board, wh.media)
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.width == png_layout.WIDTH
    assert img.height > 3 * png_layout.WIDTH // png_layout.COLUMNS * 9 // 16, "three rows of frames"
    # the first frame's colour (the "cool" look, #2f6fb5) fills the first cell
    inner = png_layout.WIDTH - 2 * png_layout.MARGIN
    cell_w = (inner - png_layout.GUTTER * 2) // 3
    r, g, b = img.convert("RGB").getpixel((png_layout.MARGIN + cell_w // 2, 300))
    assert abs(r - 0x2F) < 20 and abs(g - 0x6F) < 20 and abs(b - 0xB5) < 20


def test_pdf_has_the_korean_title_and_every_timecode_as_text(
    view: tuple[mb.BoardView, Warehouse], tmp_path: Path
) -> None:
    board, wh = view
    path = tmp_path / "board.pdf"
    path.write_bytes(board_pdf(board, wh.media))
    assert path.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert BOARD_TITLE in text and "파도" in text
    for item in board.items:
        assert timecode(item.start_s) in text
    assert len(board.items) == 9 and "· 2" in text, "six frames a page: the seventh on page 2"
    # the page renders, and the first frame's blue is on it
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
        check=True,
    )
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    colours = {c for _, c in page.getcolors(maxcolors=1 << 16) or []}
    assert any(
        abs(r - 0x2F) < 12 and abs(g - 0x6F) < 12 and abs(b - 0xB5) < 12 for r, g, b in colours
    )


def test_html_is_self_contained_and_escaped(view: tuple[mb.BoardView, Warehouse]) -> None:
    board, wh = view
    page = board_html(board, wh.media)
    assert BOARD_TITLE in page and "&lt;소리&gt; &amp; 색감" in page and "<소리>" not in page
    assert page.count('src="data:image/jpeg;base64,') == len(board.items)
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"|url\(([^)]*)\)|@import', page)
    assert all(src.startswith("data:") for src, _ in refs if src) and not any(u for _, u in refs)
    assert "http://" not in page and "https://" not in page
    for item in board.items:
        assert timecode(item.start_s) in page


def test_a_missing_frame_becomes_a_placeholder_and_paths_leave_no_media_folder(
    view: tuple[mb.BoardView, Warehouse], tmp_path: Path
) -> None:
    board, wh = view
    outside = tmp_path / "secret.jpg"
    Image.new("RGB", (8, 8), (255, 0, 0)).save(outside)
    odd = [
        mb.Item("x", 0, 0, "", board.board.created_at, p, "odd", 1.0, 2.0)
        for p in (str(outside), "../secret.jpg", "media/keyframes/none.jpg", None)
    ]
    data = board_png(mb.BoardView(board.board, tuple(odd)), wh.media)
    img = Image.open(io.BytesIO(data)).convert("RGB")
    assert (255, 0, 0) not in {c for _, c in img.getcolors(maxcolors=1 << 20) or []}


def test_without_a_cjk_font_an_export_says_so_in_one_line(
    view: tuple[mb.BoardView, Warehouse], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import adref.boards.frames as frames_module

    monkeypatch.setattr(frames_module, "FONT_DIRS", (tmp_path / "no-fonts",))
    board, wh = view
    for export in (board_png, board_pdf):
        with pytest.raises(InputError, match="no CJK font installed") as info:
            export(board, wh.media)
        assert "fonts-noto-cjk" in str(info.value) and "\n" not in str(info.value)


def test_a_long_description_or_note_never_takes_the_frames_room(
    view: tuple[mb.BoardView, Warehouse], tmp_path: Path
) -> None:
    """A 2,000-character description shrank the first page's frames to slivers; a note of ten
    short lines ran under the next row's frame. Both are cut, with "…", as in the PNG."""
    board, wh = view

    def printed(view: mb.BoardView, name: str) -> tuple[list[str], str]:
        path = tmp_path / name
        path.write_bytes(board_pdf(view, wh.media))
        listing = subprocess.run(
            ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[2:]
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        return [row.split()[12] for row in listing], text  # each image's x-ppi: its size

    plain, _ = printed(board, "plain.pdf")
    wordy = replace(board, board=replace(board.board, description="긴 설명 " * 400))
    long_ppi, long_text = printed(wordy, "long.pdf")
    assert long_ppi == plain and "…" in long_text
    ten = "\n".join(f"line{i} grade" for i in range(1, 11))
    noted = replace(board, items=[replace(board.items[0], note=ten), *board.items[1:]])
    _, note_text = printed(noted, "note.pdf")
    assert "line1" in note_text and "line10" not in note_text and "…" in note_text
