"""Which pictures a model sees, at the size its vendor bills least for what it shows.

One keyframe per scene group (``analysis_groups``), in time order, never larger than the video
itself. ``ADREF_MAX_ANALYSIS_IMAGES`` caps the images sent, not the groups: in ``frames`` mode
that is one group per image, so groups are dropped past it; contact sheets instead fit every
group onto that many sheets (see ``image_cap``):

- ``frames``: one image per group, shrunk to the largest size that costs the vendor's minimum.
  OpenAI: fit in 512x512 at detail "high", one tile, 255 tokens; "low" (85 tokens) is a blurred
  512 px pass that loses on-screen text, and text (captions, prices, calls to action) is half of
  what an ad says. Anthropic: long edge 512 (~200 tokens at 16:9), small text still legible.
  Gemini: fit in 384x384, the size billed as one 258-token image.
- ``contact_sheet``: the frames tiled in order into as few sheets as fit the vendor's
  efficient size while every frame keeps at least ~180 px on its short side, each frame
  labelled on the picture. OpenAI: at most 6 tiles (a 2x3 tile budget) with the short side at
  most 768 so nothing is shrunk server-side; Anthropic: long edge 1568 and 1.15 MP (its
  no-resize size); Gemini: 768x768, one 258-token tile. Among the layouts a sheet can take, the
  cheapest wins, then the one with the largest frames. When the groups need more sheets than the
  cap allows, the sheets take more frames each, smaller than ~180 px (never over
  ``image_cap.SHEET_MOST_GROUPS`` a sheet), still within the vendor's size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from adref.errors import InputError
from adref.providers.base import AnalysisRequest
from adref.providers.remote.cost_estimates import (
    CLAUDE_MAX_SIDE,
    DEFAULT_MODELS,
    GEMINI_TILE,
    OPENAI_MAX_SHORT,
    OPENAI_MAX_SIDE,
    image_tokens,
    openai_tiles,
)
from adref.providers.remote.image_cap import ImageMode
from adref.providers.remote.vendor_call import ImagePart, Vendor

JPEG_QUALITY = 85
MIN_CELL_SHORT = 180  # a contact-sheet frame keeps at least this on its short side
SHEET_GAP = 2  # px of black between frames on a sheet
FRAME_BOX: dict[Vendor, tuple[int, int]] = {
    "openai": (512, 512),
    "anthropic": (512, 512),
    "gemini": (384, 384),
}
OPENAI_SHEET_TILES = 6
CLAUDE_SHEET_PIXELS = 1_150_000
_MAX_GRID = 64


@dataclass(frozen=True)
class Frame:
    group_index: int
    start_s: float
    end_s: float
    jpeg: bytes
    width: int
    height: int
    label: str


@dataclass(frozen=True)
class SheetLayout:
    """A grid of ``count`` frames, ``cols`` x ``rows`` cells of ``cell_w`` x ``cell_h``."""

    count: int
    cols: int
    rows: int
    cell_w: int
    cell_h: int
    gap: int = SHEET_GAP

    @property
    def width(self) -> int:
        return self.cols * self.cell_w + (self.cols - 1) * self.gap

    @property
    def height(self) -> int:
        return self.rows * self.cell_h + (self.rows - 1) * self.gap

    def cell_origin(self, i: int) -> tuple[int, int]:
        """Top-left (x, y) of the ``i``-th frame: left to right, top to bottom."""
        row, col = divmod(i, self.cols)
        return col * (self.cell_w + self.gap), row * (self.cell_h + self.gap)


@dataclass(frozen=True)
class PreparedImage:
    """An image ready to send and the scene groups it shows (to check none is lost)."""

    part: ImagePart
    groups: tuple[int, ...]
    layout: SheetLayout | None = None  # set for a contact sheet


def select_frames(request: AnalysisRequest) -> list[Frame]:
    """The representative keyframe of every analysed group, in time order."""
    groups = {g.group_index: g for g in request.grouping.groups}
    shots = {s.shot_index: s for s in request.shots}
    chosen = [groups[i] for i in request.grouping.analysis_groups if i in groups]
    missing = [i for i in request.grouping.analysis_groups if i not in groups]
    if missing:
        raise InputError(f"analysis groups {missing} are not in the grouping")
    frames: list[Frame] = []
    for g in sorted(chosen, key=lambda g: (g.start_s, g.group_index)):
        shot = shots.get(g.representative_shot)
        if shot is None:
            raise InputError(f"group {g.group_index}'s representative shot is missing")
        jpeg, w, h = _no_larger_than_video(shot.keyframe_jpeg, request, shot.shot_index)
        label = f"group {g.group_index} · {g.start_s:.1f}-{g.end_s:.1f} s"
        frames.append(Frame(g.group_index, g.start_s, g.end_s, jpeg, w, h, label))
    return frames


def _no_larger_than_video(
    jpeg: bytes, request: AnalysisRequest, shot_index: int
) -> tuple[bytes, int, int]:
    """The keyframe, shrunk to the video's own size if the thumbnail enlarged a small video:
    pixels the video never had cost tokens and show nothing."""
    image = decode_jpeg(jpeg, f"shot {shot_index}'s keyframe")
    h, w = image.shape[:2]
    sw, sh = request.stream.width, request.stream.height
    if sw < 1 or sh < 1 or (w <= sw and h <= sh):
        return jpeg, w, h
    w, h = fit_within(w, h, sw, sh)
    return encode_jpeg(_resize(image, w, h)), w, h


def prepare_images(
    frames: list[Frame], vendor: Vendor, mode: ImageMode, max_sheets: int | None = None
) -> list[ImagePart]:
    """The images to send, resized and encoded for ``vendor``; see the module docstring."""
    return [p.part for p in prepare(frames, vendor, mode, max_sheets)]


def prepare(
    frames: list[Frame], vendor: Vendor, mode: ImageMode, max_sheets: int | None = None
) -> list[PreparedImage]:
    """``prepare_images`` with the groups each image shows and each sheet's layout."""
    detail: Literal["high", "auto"] = "high" if vendor == "openai" else "auto"
    if mode == "frames":
        return [_single(f, vendor, detail) for f in frames]
    out: list[PreparedImage] = []
    start = 0
    if not frames:
        return out
    for layout in plan_sheets(len(frames), frames[0].width, frames[0].height, vendor, max_sheets):
        chunk = frames[start : start + layout.count]
        start += layout.count
        part = ImagePart(
            data=encode_jpeg(render_sheet(chunk, layout)),
            width=layout.width,
            height=layout.height,
            label=sheet_label(chunk),
            detail=detail,
        )
        out.append(PreparedImage(part, tuple(f.group_index for f in chunk), layout))
    return out


def fit_within(width: int, height: int, max_w: int, max_h: int) -> tuple[int, int]:
    """The largest size of the same shape inside ``max_w`` x ``max_h``, never enlarged."""
    scale = min(1.0, max_w / width, max_h / height)
    if scale >= 1.0:
        return width, height
    return max(1, min(max_w, round(width * scale))), max(1, min(max_h, round(height * scale)))


def frame_size(vendor: Vendor, width: int, height: int) -> tuple[int, int]:
    return fit_within(width, height, *FRAME_BOX[vendor])


def sheet_fits(vendor: Vendor, width: int, height: int) -> bool:
    """Whether a sheet this size is billed as sent (no server-side shrink) within budget."""
    if vendor == "openai":
        return (
            max(width, height) <= OPENAI_MAX_SIDE
            and min(width, height) <= OPENAI_MAX_SHORT
            and openai_tiles(width, height) <= OPENAI_SHEET_TILES
        )
    if vendor == "anthropic":
        return max(width, height) <= CLAUDE_MAX_SIDE and width * height <= CLAUDE_SHEET_PIXELS
    return width <= GEMINI_TILE and height <= GEMINI_TILE


def cell_size(width: int, height: int, short: int) -> tuple[int, int]:
    """A frame of ``width`` x ``height`` scaled so its short side is ``short``."""
    if width >= height:
        return max(1, round(width * short / height)), short
    return short, max(1, round(height * short / width))


def min_cell_short(vendor: Vendor, width: int, height: int) -> int:
    """The smallest short side a sheet frame may have: ~180 px, less only for a frame that is
    smaller already or too elongated to fit a sheet at 180."""
    short = min(MIN_CELL_SHORT, width, height)
    while short > 1 and not sheet_fits(vendor, *cell_size(width, height, short)):
        short -= 1
    return short


def squeezed_short(vendor: Vendor, width: int, height: int, count: int) -> int:
    """The largest short side, at most the usual minimum, at which ``count`` frames fit one sheet:
    how far frames shrink when the cap on sheets makes each hold more."""
    short = min_cell_short(vendor, width, height)
    while short > 1 and sheet_capacity(vendor, width, height, short) < count:
        short -= 1
    return short


def sheet_capacity(vendor: Vendor, width: int, height: int, short: int | None = None) -> int:
    """Most frames one sheet holds with every frame's short side at ``short`` (its minimum)."""
    if short is None:
        short = min_cell_short(vendor, width, height)
    cw, ch = cell_size(width, height, short)
    best = 1
    for cols in range(1, _MAX_GRID + 1):
        for rows in range(1, _MAX_GRID + 1):
            layout = SheetLayout(cols * rows, cols, rows, cw, ch)
            if not sheet_fits(vendor, layout.width, layout.height):
                break
            best = max(best, cols * rows)
    return best


def sheet_layout(count: int, width: int, height: int, vendor: Vendor) -> SheetLayout:
    """The cheapest layout for ``count`` frames on one sheet, then the one with the largest
    frames, then the squarest sheet (a long strip reads worse), then the smallest."""
    model = DEFAULT_MODELS[vendor]
    lo = squeezed_short(vendor, width, height, count)
    best: SheetLayout | None = None
    best_key: tuple[int, int, float, int] | None = None
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        for short in range(min(width, height), lo - 1, -1):
            cw, ch = cell_size(width, height, short)
            if cw > width or ch > height:
                continue
            layout = SheetLayout(count, cols, rows, cw, ch)
            if not sheet_fits(vendor, layout.width, layout.height):
                continue
            tokens = image_tokens(vendor, model, layout.width, layout.height, "high")
            squareness = round(abs(math.log(layout.width / layout.height)), 2)
            key = (tokens, -(cw * ch), squareness, layout.width * layout.height)
            if best_key is None or key < best_key:
                best, best_key = layout, key
    if best is None:
        raise InputError(f"{count} frames of {width}x{height} do not fit one {vendor} sheet")
    return best


def plan_sheets(
    count: int, width: int, height: int, vendor: Vendor, max_sheets: int | None = None
) -> list[SheetLayout]:
    """As few sheets as hold ``count`` frames, filled as evenly as possible, in order; at most
    ``max_sheets``, each then holding more (smaller) frames."""
    if count < 1:
        return []
    sheets = math.ceil(count / sheet_capacity(vendor, width, height))
    if max_sheets is not None:
        sheets = max(1, min(sheets, max_sheets))
    base, extra = divmod(count, sheets)
    sizes = [base + 1] * extra + [base] * (sheets - extra)
    return [sheet_layout(n, width, height, vendor) for n in sizes]


def sheet_label(frames: list[Frame]) -> str:
    """One line naming the groups on a sheet, e.g. ``groups 0-5 · 0.0-12.4 s``."""
    if len(frames) == 1:
        return frames[0].label
    ids = [f.group_index for f in frames]
    if ids == list(range(ids[0], ids[0] + len(ids))):
        names = f"groups {ids[0]}-{ids[-1]}"
    else:
        names = "groups " + ", ".join(str(i) for i in ids)
    span = f"{frames[0].start_s:.1f}-{frames[-1].end_s:.1f} s"
    return f"{names} · {span} (each frame labelled; left to right, top to bottom)"


def render_sheet(frames: list[Frame], layout: SheetLayout) -> np.ndarray:
    """The frames pasted into the layout's cells, each with its label drawn on it."""
    sheet = np.zeros((layout.height, layout.width, 3), np.uint8)
    for i, frame in enumerate(frames):
        x, y = layout.cell_origin(i)
        image = decode_jpeg(frame.jpeg, frame.label)
        w, h = fit_within(image.shape[1], image.shape[0], layout.cell_w, layout.cell_h)
        image = _resize(image, w, h)
        ox, oy = x + (layout.cell_w - w) // 2, y + (layout.cell_h - h) // 2
        sheet[oy : oy + h, ox : ox + w] = image
        draw_label(sheet, drawn_text(frame.label), x, y, layout.cell_w, layout.cell_h)
    return sheet


def drawn_text(label: str) -> str:
    """The label in the ASCII that OpenCV's Hershey fonts can draw."""
    text = label.replace(" · ", " | ").replace("–", "-")
    return text.encode("ascii", "replace").decode()


def label_box(text: str, cell_w: int, cell_h: int) -> tuple[float, int, int, int]:
    """(font scale, thickness, box width, box height) of a label for a cell: about 1/14 of the
    cell's height, shrunk to fit its width."""
    font, pad = cv2.FONT_HERSHEY_SIMPLEX, 3
    scale = min(1.0, max(0.45, cell_h / 360))
    thick = 2 if scale >= 0.8 else 1
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    if tw + 2 * pad > cell_w:
        scale *= (cell_w - 2 * pad) / tw
        (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    return scale, thick, tw + 2 * pad, th + base + 2 * pad


def draw_label(image: np.ndarray, text: str, x: int, y: int, cell_w: int, cell_h: int) -> None:
    """White text on a black box in the cell's top-left corner: legible on any picture."""
    scale, thick, bw, bh = label_box(text, cell_w, cell_h)
    cv2.rectangle(image, (x, y), (x + bw - 1, y + bh - 1), (0, 0, 0), -1)
    (_, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    origin = (x + 3, y + 3 + th)
    cv2.putText(
        image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA
    )


def decode_jpeg(data: bytes, what: str) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise InputError(f"{what} cannot be decoded", "it is empty or not an image")
    return image


def encode_jpeg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("OpenCV could not encode an image as JPEG")
    return buf.tobytes()


def _single(frame: Frame, vendor: Vendor, detail: Literal["high", "auto"]) -> PreparedImage:
    w, h = frame_size(vendor, frame.width, frame.height)
    data = frame.jpeg
    if (w, h) != (frame.width, frame.height):
        data = encode_jpeg(_resize(decode_jpeg(frame.jpeg, frame.label), w, h))
    part = ImagePart(data=data, width=w, height=h, label=frame.label, detail=detail)
    return PreparedImage(part, (frame.group_index,))


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if (image.shape[1], image.shape[0]) == (width, height):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
