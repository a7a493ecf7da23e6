"""Per-frame light and motion, measured on the detect-size frame the cut detectors see."""

from __future__ import annotations

from array import array

import cv2
import numpy as np

from adref.video.decode import DecodedFrame
from adref.video.timeline import Timeline

MOTION_SCALE = 24.0  # mean abs luma change per 1/25 s that counts as full motion


def channel_means(small: np.ndarray) -> tuple[float, float, float]:
    """Mean B, G, R (0-255). sumElems: cv2.mean of a 3-channel image costs ~15x as much."""
    pixels = small.shape[0] * small.shape[1]
    b, g, r, _ = (x / pixels for x in cv2.sumElems(small))
    return b, g, r


class LightAndMotion:
    """Brightness (0-1, BT.601 luma of the mean colour) and luma change per 1/25 s, per frame."""

    def __init__(self) -> None:
        self.light = array("f")
        self.motion = array("f")
        self._prev_luma: np.ndarray | None = None

    def feed(
        self, frame: DecodedFrame, means: tuple[float, float, float], times: Timeline
    ) -> float:
        b, g, r = means
        light = (0.114 * b + 0.587 * g + 0.299 * r) / 255.0
        self.light.append(light)
        luma = frame.luma
        if self._prev_luma is None or self._prev_luma.shape != luma.shape:
            self.motion.append(0.0)
        else:
            dt = max(1e-3, times.times[-1] - times.times[-2])
            change = cv2.norm(luma, self._prev_luma, cv2.NORM_L1) / luma.size * frame.luma_gain
            self.motion.append(change / (dt * 25.0))
        self._prev_luma = luma
        return light

    def shot_motion(self, start: int, end: int) -> float:
        """0-1: the shot's mean change between its own frames (its first is a cut's)."""
        motion = self.motion[start + 1 : end]
        return min(1.0, (sum(motion) / len(motion)) / MOTION_SCALE) if motion else 0.0
