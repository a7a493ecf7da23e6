"""Raw cuts, per frame, from PySceneDetect's own detectors fed with adref's decoded frames.

AdaptiveDetector or ContentDetector (with the OpenCV frame score, ``scoring``) finds hard cuts;
ThresholdDetector, when fades are on, finds fades through black. Cuts come back as frame
indices and a kind ("content" or "fade"); which of two near ones survives is the caller's rule.
"""

from __future__ import annotations

import numpy as np
from scenedetect import ContentDetector, FrameTimecode, ThresholdDetector

from adref.video.scoring import FastAdaptiveDetector, FastContentDetector
from adref.video.timeline import Timeline


class CutDetectors:
    def __init__(
        self,
        detector: str,
        threshold: float,
        fade_threshold: float,
        min_shot_s: float,
        times: Timeline,
    ) -> None:
        self.times = times
        self.content: ContentDetector
        if detector == "content":
            self.content = FastContentDetector(threshold=threshold, min_scene_len=min_shot_s)
        else:
            self.content = FastAdaptiveDetector(
                adaptive_threshold=threshold, min_scene_len=min_shot_s
            )
        self.fade: ThresholdDetector | None = None
        if fade_threshold > 0:
            self.fade = ThresholdDetector(
                threshold=fade_threshold, min_scene_len=min_shot_s, fade_bias=0.0
            )
        self._last: FrameTimecode | None = None

    def feed(
        self, tc: FrameTimecode, small: np.ndarray, means: tuple[float, float, float]
    ) -> list[tuple[int, str]]:
        """This frame's cuts (usually of a few frames back), as (frame index, kind)."""
        first = self._last is None
        self._last = tc
        found = [(self.times.index_of(c), "content") for c in self.content.process_frame(tc, small)]
        if self.fade is not None:
            # ThresholdDetector reads only the frame's mean, and a bright frame while it is not
            # in a fade changes nothing in it: it sees the mean, and only when it matters.
            mean = sum(means) / 3.0
            if first or mean < self.fade.threshold or self.fade.last_fade["type"] != "in":
                for cut in self.fade.process_frame(tc, np.array([[mean]], np.float32)):
                    found.append((self.times.index_of(cut), "fade"))
        return found

    def finish(self) -> list[tuple[int, str]]:
        """Cuts the detectors hold until the video ends."""
        if self._last is None:
            return []
        found = [(self.times.index_of(c), "content") for c in self.content.post_process(self._last)]
        if self.fade is not None:
            found += [(self.times.index_of(c), "fade") for c in self.fade.post_process(self._last)]
        return found

    def fade_out_since(self) -> float | None:
        """When an unfinished fade to black began (its boundary is not placed yet), if one did."""
        if self.fade is None or self.fade.last_fade["type"] != "out":
            return None
        out = self.fade.last_fade["frame"]
        return None if out is None else float(out.seconds)
