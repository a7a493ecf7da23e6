"""PySceneDetect's auto-downscale, bit for bit, from only the source pixels it reads.

SceneManager shrinks every frame wider (or taller) than 256 pixels with
``cv2.resize(frame, (round(w / f), round(h / f)), interpolation=INTER_LINEAR)``, ``f = longest /
256``, before its detectors see it. On 8-bit images OpenCV's linear resize is fixed point: per
axis, each output pixel mixes two neighbouring source pixels with 11-bit weights (rounded from
float32 positions), a horizontal pass in int32, then a vertical pass that drops 4 bits, keeps
the high half of 16-bit products and rounds the last 2 bits away (its SIMD path, which it takes
for every width). An exact halving on both axes is not linear at all: OpenCV switches to its
area average of each 2x2 block. A frame that scores right at a detector's threshold can only
score the same if every level is the same, so all of this is reproduced here.

Decoding does not convert whole frames: a ``Downscale`` names the source rows and columns the
resize reads (``rows`` and ``cols``: the first neighbours, then the second ones, per axis that
mixes two), the caller converts just that grid to BGR, and ``apply`` does OpenCV's arithmetic
on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

DETECT_MIN_WIDTH = 256  # PySceneDetect's DEFAULT_MIN_WIDTH for auto-downscale

_COEF_BITS = 11  # OpenCV's INTER_RESIZE_COEF_BITS
_ONE = 1 << _COEF_BITS


def detect_size(width: int, height: int) -> tuple[int, int]:
    """The size SceneManager's auto-downscale gives a frame of this size (Python's rounding)."""
    longest = max(width, height)
    if longest <= DETECT_MIN_WIDTH:
        return width, height
    factor = longest / float(DETECT_MIN_WIDTH)
    return max(1, round(width / factor)), max(1, round(height / factor))


@dataclass(frozen=True)
class Axis:
    """One axis of OpenCV's linear resize: for output ``i`` the source pixels ``first[i]`` and
    ``second[i]`` with weights ``weights[i]`` (summing to 2048). ``second`` is None where every
    output pixel is one source pixel (an odd integer scale, or the size kept)."""

    first: np.ndarray
    second: np.ndarray | None
    weights: np.ndarray  # (n, 2) int32

    @property
    def index(self) -> np.ndarray:
        """The source pixels to read along this axis, first neighbours then second ones."""
        return self.first if self.second is None else np.concatenate([self.first, self.second])


def linear_axis(source: int, target: int) -> Axis:
    """OpenCV's coefficients: a float32 source position, clamped at the edges, weights rounded
    half to even (``saturate_cast<short>``) from ``(1 - fx) * 2048`` and ``fx * 2048``."""
    scale = 1.0 / (target / source)  # as OpenCV derives it from the inverse scale
    pos = ((np.arange(target) + 0.5) * scale - 0.5).astype(np.float32)
    first = np.floor(pos).astype(np.intp)
    frac = pos - first.astype(np.float32)
    outside = (first < 0) | (first >= source - 1)
    frac[outside] = 0
    first = np.clip(first, 0, source - 1)
    w0 = np.rint((np.float32(1) - frac) * np.float32(_ONE)).astype(np.int32)
    w1 = np.rint(frac * np.float32(_ONE)).astype(np.int32)
    weights = np.stack([w0, w1], axis=1)
    if not w1.any():
        return Axis(first, None, weights)
    return Axis(first, np.minimum(first + 1, source - 1), weights)


@dataclass(frozen=True)
class Downscale:
    """What one frame size needs: the target size, the source grid to read, and the arithmetic.

    ``rows`` and ``cols`` index the source; the caller hands ``apply`` the BGR pixels at
    ``rows`` x ``cols`` (in that order, repeats included).
    """

    size: tuple[int, int]  # (width, height) as the detectors see frames
    kind: Literal["copy", "area", "linear"]
    rows: np.ndarray
    cols: np.ndarray
    x: Axis | None = None
    y: Axis | None = None
    _maps: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def corner(self, grid: np.ndarray) -> np.ndarray:
        """The first neighbour of each output pixel (one source pixel per output pixel)."""
        w, h = self.size
        return grid[:h, :w]

    def apply(self, grid: np.ndarray) -> np.ndarray:
        """``cv2.resize(frame, size, interpolation=INTER_LINEAR)`` from the pixels it reads."""
        if self.kind == "copy":
            return grid
        w, h = self.size
        if self.kind == "area":  # OpenCV's exact 2x: the rounded mean of each 2x2 block
            s = grid.astype(np.uint16)
            total = s[:h, :w] + s[:h, w:] + s[h:, :w] + s[h:, w:] + 2
            return (total >> 2).astype(np.uint8)
        assert self.x is not None and self.y is not None
        flat = grid.reshape(grid.shape[0], -1)
        n = w * grid.shape[2]
        # In place, in buffers kept from frame to frame: the arithmetic is a dozen passes over
        # ~100k values, and fresh arrays would cost as much again in page faults. The
        # horizontal pass, (a * w0 + b * w1) >> 4, is at most 255 * 128: it is done in 16 bits
        # (half the memory to stream) by splitting each weight into sixteens and a remainder.
        horizontal = self._buffer("horizontal", (len(flat), n), np.uint16)
        if self.x.second is None:
            np.left_shift(flat, _COEF_BITS - 4, out=horizontal, dtype=np.uint16)
        else:
            w0, w1, rests = self._horizontal_weights(n)
            right = self._buffer("right", (len(flat), n), np.uint16)
            np.multiply(flat[:, :n], w0, out=horizontal)
            np.multiply(flat[:, n:], w1, out=right)
            horizontal += right
            if rests is not None:  # a weight not a multiple of 16
                rest = self._buffer("rest", (len(flat), n), np.uint16)
                np.multiply(flat[:, :n], rests[0], out=rest)
                np.multiply(flat[:, n:], rests[1], out=right)
                rest += right
                rest >>= 4
                horizontal += rest
        mixed = self._buffer("mixed", (h, n), np.int32)
        if self.y.second is None:
            np.right_shift(horizontal, 16 - _COEF_BITS, out=mixed, dtype=np.int32)
        else:
            bottom = self._buffer("bottom", (h, n), np.int32)
            np.multiply(horizontal[:h], self._map("b0", n), out=mixed)
            mixed >>= 16
            np.multiply(horizontal[h:], self._map("b1", n), out=bottom)
            bottom >>= 16
            mixed += bottom
        mixed += 2
        mixed >>= 2
        return mixed.astype(np.uint8).reshape(h, w, grid.shape[2])

    def _buffer(self, name: str, shape: tuple[int, int], dtype: type) -> np.ndarray:
        """A scratch array of this shape, kept for the next frame."""
        buffer = self._maps.get(name)
        if buffer is None or buffer.shape != shape:
            buffer = self._maps[name] = np.empty(shape, dtype)
        return buffer

    def _horizontal_weights(
        self, n: int
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """Each pixel's two weights in whole sixteens, and their remainders (None where all are
        zero, as for most sizes), laid out like the pixels they multiply (built once)."""
        if "a0" not in self._maps:
            assert self.x is not None
            weights = np.repeat(self.x.weights, n // self.size[0], axis=0)
            parts = {"a0": weights[:, 0] >> 4, "a1": weights[:, 1] >> 4}
            if (weights & 15).any():
                parts |= {"rest0": weights[:, 0] & 15, "rest1": weights[:, 1] & 15}
            for name, part in parts.items():
                full = np.broadcast_to(part, (len(self.rows), n))
                self._maps[name] = np.ascontiguousarray(full, np.uint16)
        maps = self._maps
        rest = (maps["rest0"], maps["rest1"]) if "rest0" in maps else None
        return maps["a0"], maps["a1"], rest

    def _map(self, name: str, n: int) -> np.ndarray:
        """Vertical weights laid out like the rows they multiply (built once per reader)."""
        if name not in self._maps:
            assert self.y is not None
            h = self.size[1]
            row = self.y.weights[:, 0 if name == "b0" else 1]
            self._maps[name] = np.ascontiguousarray(np.broadcast_to(row[:, None], (h, n)))
        return self._maps[name]


def plan(width: int, height: int) -> Downscale:
    """How SceneManager's auto-downscale treats a frame of this size."""
    size = detect_size(width, height)
    w, h = size
    if size == (width, height):
        return Downscale(size, "copy", np.arange(height), np.arange(width))
    if width == 2 * w and height == 2 * h:
        rows = np.concatenate([np.arange(0, height, 2), np.arange(1, height, 2)])
        cols = np.concatenate([np.arange(0, width, 2), np.arange(1, width, 2)])
        return Downscale(size, "area", rows, cols)
    x, y = linear_axis(width, w), linear_axis(height, h)
    return Downscale(size, "linear", y.index, x.index, x, y)


def resize_like_opencv(image: np.ndarray, down: Downscale) -> np.ndarray:
    """The downscale of a whole BGR image, read through the same grid (for checks)."""
    return down.apply(np.ascontiguousarray(image[down.rows][:, down.cols]))
