"""Colours in CIE Lab, where a distance is roughly what a person sees as a difference.

Colour search scores a shot by how much of its palette is near the asked colour: the sum over
its palette of weight x exp(-(ΔE / 20)²), ΔE being the CIE76 distance in Lab. A shot that is half
exactly that colour scores 0.5; a colour 20 ΔE away (clearly another shade) counts a third as
much, and one 40 away almost nothing. Shots below ``MIN_SCORE`` are not matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from adref.errors import InputError

SIGMA = 20.0
MIN_SCORE = 0.05
HEX = re.compile(r"#?([0-9a-fA-F]{6})")
_WHITE = np.array([0.95047, 1.0, 1.08883])  # D65
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)


def parse_hex(value: str) -> str:
    """``"#rrggbb"`` (the hash optional, any case) as ``"#rrggbb"``; anything else is refused."""
    m = HEX.fullmatch(value.strip())
    if m is None:
        raise InputError(f"{value[:40]!r} is not a colour", hint="give it as #rrggbb, e.g. #e8883a")
    return "#" + m.group(1).lower()


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in 0..255, shape (..., 3), to CIE Lab (D65), float32."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lab = np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1
    )
    return lab.astype(np.float32)


def hex_to_lab(hexes: Sequence[str]) -> np.ndarray:
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in hexes], dtype=np.float64)
    return rgb_to_lab(rgb.reshape(-1, 3))


def hex_bytes_to_lab(codes: np.ndarray) -> np.ndarray:
    """Many ``#rrggbb`` strings as an (n, 7) uint8 array of their ASCII bytes, to Lab (n, 3)."""
    digits = codes[:, 1:7].astype(np.int16)
    values = np.where(digits >= ord("a"), digits - ord("a") + 10, digits - ord("0"))
    values = np.where(
        digits >= ord("A"), np.where(digits >= ord("a"), values, digits - ord("A") + 10), values
    )
    rgb = values[:, 0::2] * 16 + values[:, 1::2]
    return rgb_to_lab(rgb)


def scores(lab: np.ndarray, weights: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Each shot's closeness to ``target`` (Lab, shape 3): ``lab`` is (3, K, n), weights (K, n).

    In place, in float32: a million shots is a few passes over 4 MB arrays, not a 3-D temporary.
    """
    n = weights.shape[1]
    total = np.zeros(n, dtype=np.float32)
    d2, part = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
    t = np.asarray(target, dtype=np.float32)
    for k in range(weights.shape[0]):
        np.subtract(lab[0, k], t[0], out=d2)
        np.square(d2, out=d2)
        for c in (1, 2):
            np.subtract(lab[c, k], t[c], out=part)
            np.square(part, out=part)
            d2 += part
        d2 *= np.float32(-1.0 / SIGMA**2)
        np.exp(d2, out=d2)
        d2 *= weights[k]
        total += d2
    return total
