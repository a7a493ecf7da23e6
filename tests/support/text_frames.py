"""Made-up frames with known text, drawn with Noto Sans CJK (Debian's fonts-noto-cjk).

Each frame is 1920x1080 BGR like a 1080p ad's, with its supers on a background of a kind that
defeats OCR of a raw frame: a plain one, a noisy colour gradient, shapes behind part of the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
KOREAN = 1  # the collection's Korean face (Noto Sans CJK KR)
W, H = 1920, 1080


@dataclass(frozen=True)
class Super:
    text: str
    x: int
    y: int
    size: int
    colour: tuple[int, int, int] = (255, 255, 255)  # RGB
    shadow: bool = False


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size, index=KOREAN)


def background(kind: str, seed: int = 0) -> np.ndarray:
    """RGB pixels: ``plain`` (white), ``dark`` (near black), ``gradient`` (a noisy colour
    gradient), ``shapes`` (the gradient with bright and dark shapes scattered over it)."""
    rng = np.random.default_rng(seed)
    if kind == "plain":
        return np.full((H, W, 3), 255, np.uint8)
    if kind == "dark":
        return np.full((H, W, 3), 18, np.uint8)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r = 40 + 150 * xx / W
    g = 60 + 120 * yy / H
    b = 170 - 110 * (xx + yy) / (W + H)
    pixels = np.stack([r, g, b], axis=-1) + rng.normal(0, 18, (H, W, 3))
    pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    if kind == "shapes":
        for i in range(14):
            cx, cy = int(rng.integers(0, W)), int(rng.integers(0, H))
            radius = int(rng.integers(60, 220))
            colour = (240, 140, 70) if i % 2 else (25, 30, 60)
            cv2.circle(pixels, (cx, cy), radius, colour, -1, cv2.LINE_AA)
    return pixels


def frame(kind: str, supers: list[Super], seed: int = 0) -> np.ndarray:
    """The frame as the pipeline decodes it: BGR."""
    image = Image.fromarray(background(kind, seed))
    draw = ImageDraw.Draw(image)
    for s in supers:
        f = font(s.size)
        if s.shadow:
            draw.text((s.x + 4, s.y + 4), s.text, font=f, fill=(10, 10, 10))
        draw.text((s.x, s.y), s.text, font=f, fill=s.colour)
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


def cer(expected: str, got: str) -> float:
    """Character error rate: edits (Levenshtein) per expected character, spaces ignored."""
    a, b = expected.replace(" ", ""), got.replace(" ", "")
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(1, len(a))
