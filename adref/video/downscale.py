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
mixes two), the caller converts just that grid to BGR, and ``apply`` (``apply_planes`` for planar
BGR) does OpenCV's arithmetic on it (rescaled to run in 16 bits where the weights allow: the
same results, less memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
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
    _buffers: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    _fixed: dict[int, _FixedPoint] = field(default_factory=dict, repr=False, compare=False)

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
        flat = grid.reshape(1, grid.shape[0], -1)
        n = w * grid.shape[2]
        fixed = self._fixed_point(n)
        # In place, in buffers kept from frame to frame: the arithmetic is a dozen passes over
        # ~100k values, and fresh arrays would cost as much again in page faults.
        mixed = self._buffer("horizontal", (1, len(grid), n), fixed.horizontal_type)
        np.multiply(flat[:, :, :n], fixed.x0, out=mixed)
        if fixed.x1 is not None:
            spare = self._buffer("right", mixed.shape, fixed.horizontal_type)
            np.multiply(flat[:, :, n:], fixed.x1, out=spare)
            mixed += spare
        return self._vertical(mixed, fixed).reshape(h, w, grid.shape[2])

    def apply_planes(self, planes: Sequence[np.ndarray]) -> np.ndarray:
        """The same from the grid given as three planes (B, G, R) of 16-bit words whose low
        bytes are the pixels (FFmpeg's planar output of pixels put in twice): the bytes are
        picked by the arithmetic's first pass, not copied out first. Returns interleaved BGR."""
        if self.kind != "linear":
            return self.apply(cv2.merge([(p & 0xFF).astype(np.uint8) for p in planes]))
        n = self.size[0]
        fixed = self._fixed_point(n)
        mixed = self._buffer("horizontal", (3, len(planes[0]), n), fixed.horizontal_type)
        for plane, into in zip(planes, mixed, strict=True):
            np.bitwise_and(plane[:, :n], 0xFF, out=into)
        mixed *= fixed.x0
        if fixed.x1 is not None:
            spare = self._buffer("right", mixed.shape, fixed.horizontal_type)
            for plane, into in zip(planes, spare, strict=True):
                np.bitwise_and(plane[:, n:], 0xFF, out=into)
            spare *= fixed.x1
            mixed += spare
        return cv2.merge(list(self._vertical(mixed, fixed)))

    def _fixed_point(self, n: int) -> _FixedPoint:
        """The arithmetic's weights for ``n`` values per grid row and plane."""
        return self._fixed.get(n) or self._fixed.setdefault(n, _fixed_point(self, n))

    def _vertical(self, mixed: np.ndarray, fixed: _FixedPoint) -> np.ndarray:
        """OpenCV's vertical pass over horizontally mixed rows, per plane: (planes, h, n)."""
        h = self.size[1]
        if fixed.before:
            mixed >>= fixed.before
        out = self._buffer("top", (len(mixed), h, mixed.shape[2]), fixed.vertical_type)
        np.multiply(mixed[:, :h], fixed.y0, out=out)
        out >>= fixed.after
        if fixed.y1 is not None:
            bottom = self._buffer("bottom", out.shape, fixed.vertical_type)
            np.multiply(mixed[:, h:], fixed.y1, out=bottom)
            bottom >>= fixed.after
            out += bottom
        out += 2
        return np.right_shift(out, 2, out=np.empty(out.shape, np.uint8), casting="unsafe")

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """A scratch array of this shape, kept for the next frame."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
            buffer = self._buffers[name] = np.empty(shape, dtype)
        return buffer


@dataclass(frozen=True)
class _FixedPoint:
    """OpenCV's arithmetic with its weights divided by their common powers of two.

    Per output row OpenCV takes ``((a * w0 + b * w1) >> 4) * v >> 16`` from each of its two
    source rows, then adds them and rounds 2 bits away. With ``w = x << tx`` and ``v = y <<
    ty``, each term is ``(a * x0 + b * x1) >> before``, times ``y``, ``>> after``: the same bits
    from smaller numbers, which fit 16-bit integers for most frame sizes (half the memory to
    stream as 32-bit ones, and the detect stage is bound by memory).
    """

    x0: np.ndarray  # per value of a grid row: first neighbour's weight
    x1: np.ndarray | None
    y0: np.ndarray  # per output row (a column vector laid out like the values)
    y1: np.ndarray | None
    before: int
    after: int
    horizontal_type: type
    vertical_type: type


def _fixed_point(down: Downscale, n: int) -> _FixedPoint:
    """The rescaled weights for ``n`` values per grid row, and the narrowest types that hold
    every product."""
    assert down.x is not None and down.y is not None
    w, h = down.size
    tx, ty = _twos(down.x.weights), _twos(down.y.weights)
    before = max(0, 4 - tx)  # OpenCV's >> 4 where the weights have fewer twos to cancel it
    ty = min(ty, 16 - max(0, tx - 4))  # so that ``after`` is a right shift
    after = 16 - ty - max(0, tx - 4)
    xw = np.repeat(down.x.weights >> tx, n // w, axis=0)
    yw = down.y.weights >> ty
    widest = 255 * int(xw.sum(axis=1).max())
    horizontal = _narrowest(widest)
    vertical = _narrowest((widest >> before) * int(yw.max()))
    rows = len(down.rows)

    def laid_out(values: np.ndarray, shape: tuple[int, int], dtype: type) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(values, shape), dtype)

    return _FixedPoint(
        x0=laid_out(xw[:, 0], (rows, n), horizontal),
        x1=None if down.x.second is None else laid_out(xw[:, 1], (rows, n), horizontal),
        y0=laid_out(yw[:, :1], (h, n), vertical),
        y1=None if down.y.second is None else laid_out(yw[:, 1:], (h, n), vertical),
        before=before,
        after=after,
        horizontal_type=horizontal,
        vertical_type=vertical,
    )


def _twos(weights: np.ndarray) -> int:
    """The largest power of two (as its exponent) that divides every non-zero weight."""
    nonzero = weights[weights > 0]
    return min((int(v) & -int(v)).bit_length() - 1 for v in np.unique(nonzero))


def _narrowest(largest: int) -> type:
    return np.uint16 if largest <= np.iinfo(np.uint16).max else np.uint32


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
