"""Camera pan: the shift between frames a few apart, by phase correlation on tiny luma."""

from __future__ import annotations

import bisect

import cv2
import numpy as np

from adref.video.decode import DecodedFrame
from adref.video.timeline import Timeline

STEP = 4  # frames between measurements
_SIZE = (128, 72)
_MIN_RESPONSE = 0.2  # phase-correlation peak below which a shift is noise


class CameraPan:
    """Measures every ``STEP`` frames; a shot takes the measurements inside it, then drops them."""

    def __init__(self) -> None:
        self._found: list[tuple[int, float, float]] = []  # (frame, vx, vy) in widths/heights per s
        self._prev: np.ndarray | None = None
        self._window = cv2.createHanningWindow(_SIZE, cv2.CV_32F)

    def feed(self, frame: DecodedFrame, times: Timeline) -> None:
        if frame.index % STEP:
            return
        tiny = cv2.resize(frame.luma, _SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
        if self._prev is not None and len(times) > STEP:
            (dx, dy), response = cv2.phaseCorrelate(self._prev, tiny, self._window)
            if response > _MIN_RESPONSE:
                dt = max(1e-3, times.times[-1] - times.times[-1 - STEP])
                # Content moving left means the camera turns right: report the camera's way.
                self._found.append((frame.index, -dx / _SIZE[0] / dt, -dy / _SIZE[1] / dt))
        self._prev = tiny

    def shot(self, start: int, end: int) -> tuple[float, float]:
        """Mean pan over measurements wholly inside frames [start, end); older ones are dropped."""
        pans = [(vx, vy) for i, vx, vy in self._found if start + STEP <= i < end]
        keep = bisect.bisect_left([p[0] for p in self._found], end)
        del self._found[:keep]
        if not pans:
            return 0.0, 0.0
        return float(np.mean([p[0] for p in pans])), float(np.mean([p[1] for p in pans]))
