"""Frame times as decoded, kept exact (time-base units) where the detectors reckon them exactly.

The detect stage's consumers share one timeline: frame ``i`` starts at ``pts[i]`` (relative to
the first frame, in the stream's time base) or ``times[i]`` seconds. Cut detectors report
timecodes, which map back to frame indices here.
"""

from __future__ import annotations

import bisect
import statistics
from array import array
from fractions import Fraction

from scenedetect import FrameTimecode
from scenedetect.common import Timecode


class Timeline:
    def __init__(self, time_base: Fraction, rate: Fraction) -> None:
        self.time_base = time_base
        self.rate = rate
        self.pts = array("q")
        self.times = array("d")
        self.last_duration = 0  # the last frame's own duration, in time-base units (0 unknown)
        self._tb_s = float(time_base)
        self._fps = FrameTimecode(0, fps=rate)

    def __len__(self) -> int:
        return len(self.pts)

    def add(self, pts: int, duration: int) -> FrameTimecode:
        """Append a frame; its timecode, as the detectors take it."""
        self.pts.append(pts)
        self.times.append(pts * self._tb_s)
        self.last_duration = duration
        return FrameTimecode(Timecode(pts=pts, time_base=self.time_base), fps=self._fps)

    def index_of(self, tc: FrameTimecode) -> int:
        """The frame a detector's timecode names."""
        if tc.time_base == self.time_base:
            i = bisect.bisect_left(self.pts, tc.pts)
        else:  # frame-number timecodes (ThresholdDetector's): nearest frame in time
            target = tc.seconds
            times = self.times
            i = bisect.bisect_left(times, target)
            if i > 0 and (i == len(times) or target - times[i - 1] < times[i] - target):
                i -= 1
        return min(max(i, 0), len(self.pts) - 1)

    def apart(self, a: int, b: int, seconds: float) -> bool:
        """Whether frame b starts at least ``seconds`` after frame a, reckoned as the detectors
        reckon it (exact time-base arithmetic, then one float): two float times subtracted lose
        an exact 15-frame gap at 29.97 fps, and with it a cut PySceneDetect keeps."""
        return float((self.pts[b] - self.pts[a]) * self.time_base) >= seconds

    def end(self) -> float:
        """When the last frame ends: its own duration, else the typical recent frame step."""
        n = len(self.times)
        last = self.times[n - 1]
        if self.last_duration > 0:
            return last + self.last_duration * self._tb_s
        if n > 1:
            deltas = [self.times[i] - self.times[i - 1] for i in range(max(1, n - 8), n)]
            return last + statistics.median(deltas)
        return last + 1.0 / float(self.rate)
