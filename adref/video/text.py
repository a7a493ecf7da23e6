"""Find text-like regions (captions, supers, end-card lines) without an OCR model.

Overlay text in ads is drawn in uniform, high-contrast strokes, so each letter is a maximally
stable extremal region (MSER) of letter-like size and shape, and letters sit in rows of similar
height with small gaps. Shapes that happen to look like one letter (a sun, a bottle, a button)
rarely line up three in a row at a letter's spacing; rows of three or more are counted as text.
"""

from __future__ import annotations

import cv2
import numpy as np

_MIN_LETTERS = 3
_SHORT_SIDE = 162  # working size: letters down to ~6 px tall (1/28 of the height) are found
_MIN_HEIGHT = 0.035  # of the shorter picture side
_MAX_HEIGHT = 0.3

Box = tuple[int, int, int, int]


def text_regions(gray: np.ndarray) -> float:
    """Share of the picture covered by text lines (0 when none are found)."""
    lines = text_lines(gray)
    if not lines:
        return 0.0
    h, w = gray.shape
    mask = np.zeros((h, w), np.uint8)
    for x, y, bw, bh in lines:
        mask[y : y + bh, x : x + bw] = 1
    return float(np.count_nonzero(mask)) / float(h * w)


def text_lines(gray: np.ndarray) -> list[Box]:
    """Bounding boxes of rows of letter-like regions, in the given image's pixels."""
    h, w = gray.shape
    scale = min(1.0, _SHORT_SIDE / min(h, w))
    if scale >= 1.0:
        return _group_lines(_letters(gray))
    small = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    back = 1.0 / scale
    return [
        (int(x * back), int(y * back), round(bw * back), round(bh * back))
        for x, y, bw, bh in _group_lines(_letters(small))
    ]


def _letters(gray: np.ndarray) -> list[Box]:
    h, w = gray.shape
    short = min(h, w)
    lo, hi = _MIN_HEIGHT * short, _MAX_HEIGHT * short
    mser = cv2.MSER.create(5, max(8, int(lo * lo * 0.25)), max(64, int(hi * hi * 1.2)))
    regions, boxes = mser.detectRegions(gray)
    out: list[Box] = []
    for (x, y, bw, bh), pts in zip(np.asarray(boxes).tolist(), regions, strict=True):
        if not lo <= bh <= hi or bw > 1.6 * bh or bw < 0.08 * bh:
            continue
        fill = len(pts) / float(bw * bh)
        if 0.2 <= fill <= 0.95:
            out.append((x, y, bw, bh))
    out.sort()
    unique: list[Box] = []
    for b in out:
        x, y, bw, bh = b
        for ux, uy, uw, uh in unique[-8:]:  # MSER nests near-identical regions: keep one
            if abs(x - ux) <= 3 and abs(y - uy) <= 3 and abs(bw - uw) <= 3 and abs(bh - uh) <= 3:
                break
        else:
            unique.append(b)
    return unique


def _group_lines(letters: list[Box]) -> list[Box]:
    used = [False] * len(letters)
    lines: list[Box] = []
    for i, first in enumerate(letters):
        if used[i]:
            continue
        group = [first]
        last = first
        for j in range(i + 1, len(letters)):
            if used[j]:
                continue
            cand = letters[j]
            if _next_letter(last, cand):
                group.append(cand)
                used[j] = True
                last = cand
        if len(group) >= _MIN_LETTERS:
            x0 = min(b[0] for b in group)
            y0 = min(b[1] for b in group)
            x1 = max(b[0] + b[2] for b in group)
            y1 = max(b[1] + b[3] for b in group)
            lines.append((x0, y0, x1 - x0, y1 - y0))
    return lines


def _next_letter(last: Box, cand: Box) -> bool:
    lx, ly, lw, lh = last
    cx, cy, _cw, ch = cand
    size = max(lh, ch)
    similar = 0.66 < ch / lh < 1.5
    aligned = abs((ly + lh / 2) - (cy + ch / 2)) < 0.35 * size
    close = cx - (lx + lw) < 1.2 * size
    advances = cx >= lx + 0.3 * lw
    return similar and aligned and close and advances
