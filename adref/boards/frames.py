"""What every export of a board shows per item: its frame, source, timecode and note.

Frames are read only from the warehouse's media store, under ``media/``, whatever a row says; a frame
that is missing becomes a neutral placeholder, so one lost file never fails an export.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from adref.errors import InputError
from adref.warehouse.media_store import MediaStore, is_media_path
from adref.warehouse.moodboards import BoardView, Item

FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/google-noto-cjk"),
    Path("/usr/share/fonts/truetype/noto"),
)
KOREAN_FACE = 1  # in Noto's CJK collections: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK
PLACEHOLDER = (70, 70, 70)
# The look every export shares (RGB).
FRAME_RATIO = 9 / 16  # each frame is fitted into a 16:9 box, letterboxed
INK = (28, 28, 30)
MUTED = (110, 110, 118)
BOX = (20, 20, 22)


@dataclass(frozen=True)
class Font:
    path: Path
    index: int  # the face in a collection (.ttc); 0 for a single font


@dataclass(frozen=True)
class Frame:
    image: Image.Image  # RGB
    title: str
    timecode: str
    note: str


def timecode(seconds: float | None) -> str:
    """``mm:ss.s``, as editors read a position in a clip."""
    if seconds is None:
        return "--:--.-"
    tenths = round(max(0.0, seconds) * 10)
    minutes, rest = divmod(tenths, 600)
    return f"{minutes:02d}:{rest / 10:04.1f}"


def cjk_font(bold: bool = False) -> Font:
    """Noto Sans CJK (Korean face), so Hangul renders as letters and not as empty boxes."""
    weight = "Bold" if bold else "Regular"
    names = (f"NotoSansCJK-{weight}.ttc", f"NotoSansCJKkr-{weight}.otf", "NotoSansCJK-Regular.ttc")
    for folder in FONT_DIRS:
        for name in names:
            path = folder / name
            if path.is_file():
                return Font(path, KOREAN_FACE if path.suffix == ".ttc" else 0)
    raise InputError(
        "cannot export: no CJK font installed",
        "Noto Sans CJK was not found under /usr/share/fonts",
        "install it (Debian: apt-get install fonts-noto-cjk)",
    )


def media_bytes(media: MediaStore, rel: str | None) -> bytes | None:
    """The file a row names (relative to the warehouse root), only if it is under ``media/``;
    None when it is missing or refused. A bucket that does not answer is an error, not a
    missing file: an export must not quietly come out blank."""
    if not is_media_path(rel):
        return None
    try:
        return media.read_bytes(rel)
    except FileNotFoundError:
        return None


def frame_image(media: MediaStore, rel: str | None) -> Image.Image:
    """The keyframe at ``rel`` (relative to the warehouse root), or a placeholder."""
    data = media_bytes(media, rel)
    if data is not None:
        try:
            with Image.open(io.BytesIO(data)) as img:
                return img.convert("RGB")
        except (OSError, UnidentifiedImageError):
            pass
    return Image.new("RGB", (320, 180), PLACEHOLDER)


def frames(view: BoardView, media: MediaStore) -> list[Frame]:
    return [_frame(item, media) for item in view.items]


def _frame(item: Item, media: MediaStore) -> Frame:
    return Frame(
        image=frame_image(media, item.keyframe_path),
        title=item.title or item.video_id,
        timecode=timecode(item.start_s),
        note=item.note,
    )


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()
