"""Decoded frames made from arrays, for testing the detect stage's per-frame consumers alone."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np

from adref.video.decode import DecodedFrame
from adref.video.timeline import Timeline


def decoded(index: int, small: np.ndarray, pts: int | None = None) -> DecodedFrame:
    """A frame as the reader hands it out: ``small`` is detect-size BGR, luma full range."""
    source = av.VideoFrame.from_ndarray(np.ascontiguousarray(small), format="bgr24")
    luma = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return DecodedFrame(index, index if pts is None else pts, 1, small, luma, 1.0, source)


def frame_clock() -> Timeline:
    """An empty 25 fps timeline whose time base is one frame, so a frame's pts is its index."""
    return Timeline(Fraction(1, 25), Fraction(25))


def flat(colour: tuple[int, int, int], size: tuple[int, int] = (64, 36)) -> np.ndarray:
    w, h = size
    frame = np.empty((h, w, 3), np.uint8)
    frame[:] = colour
    return frame


def texture(seed: int, size: tuple[int, int] = (128, 72)) -> np.ndarray:
    """Smooth random texture, grey, wrapping at the edges (for shifts by np.roll)."""
    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    waves = sum(
        np.sin(2 * np.pi * (kx * x / w + ky * y / h) + phase)
        for kx, ky, phase in zip(
            rng.integers(1, 6, 8), rng.integers(1, 4, 8), rng.random(8) * 6.3, strict=True
        )
    )
    grey = cv2.normalize(np.asarray(waves, np.float32), None, 0, 255, cv2.NORM_MINMAX)
    return cv2.cvtColor(grey.astype(np.uint8), cv2.COLOR_GRAY2BGR)
