"""PySceneDetect's hard-cut detectors with their frame score computed faster, same numbers.

ContentDetector scores a frame by the mean absolute difference of hue, saturation and value
against the previous frame, summing each channel through an int32 copy in numpy; that is most of
the detector's cost. OpenCV's saturating ``absdiff`` and ``sumElems`` (or, with equal weights,
one L1 ``norm``) give the same integer sums several times faster, so the scores agree to the last
bit or two of a double. Everything else (thresholds, the adaptive window, minimum shot length,
flash filter) is PySceneDetect's own code. When a configuration needs the edge component or a
stats manager, the original method runs.

The one override replaces a private method, so it is pinned: ``OVERRIDDEN_SHA256`` is the hash
of the source it stands in for, and a test fails if a new PySceneDetect changes that source.
"""

from __future__ import annotations

import hashlib
import inspect

import cv2
import numpy as np
from scenedetect import AdaptiveDetector, ContentDetector, FrameTimecode

# sha256 of ContentDetector._calculate_frame_score's source in scenedetect 0.7.2.
OVERRIDDEN_SHA256 = "bbbc1e2fa9c42afa4af26585142e668cad1dfd97553db875d0b609f92625a93c"


def overridden_source_hash() -> str:
    """The hash of the installed PySceneDetect's version of the method overridden here."""
    source = inspect.getsource(ContentDetector._calculate_frame_score)
    return hashlib.sha256(source.encode()).hexdigest()


def _hsv_score(weights: ContentDetector.Components, prev: np.ndarray, hsv: np.ndarray) -> float:
    pixels = float(hsv.shape[0] * hsv.shape[1])
    if weights.delta_hue == weights.delta_sat == weights.delta_lum != 0:
        # Equal weights (the defaults): the score is the plain L1 distance, read in one pass
        # over both frames without writing a difference image.
        w = weights.delta_hue
        return float(w * cv2.norm(hsv, prev, cv2.NORM_L1) / pixels / (3 * abs(w)))
    sums = cv2.sumElems(cv2.absdiff(hsv, prev))
    components = (sums[0] / pixels, sums[1] / pixels, sums[2] / pixels, 0.0)
    total = sum(c * w for c, w in zip(components, weights, strict=True))
    return float(total / sum(abs(w) for w in weights))


class FastContentDetector(ContentDetector):
    """ContentDetector with an OpenCV frame score (the same values)."""

    _prev_hsv: np.ndarray | None = None

    def _calculate_frame_score(self, timecode: FrameTimecode, frame_img: np.ndarray) -> float:
        if self._weights.delta_edges > 0.0 or self.stats_manager is not None:
            return float(super()._calculate_frame_score(timecode, frame_img))
        hsv = cv2.cvtColor(frame_img, cv2.COLOR_BGR2HSV)
        prev, self._prev_hsv = self._prev_hsv, hsv
        if prev is None or prev.shape != hsv.shape:
            return 0.0
        return _hsv_score(self._weights, prev, hsv)


class FastAdaptiveDetector(FastContentDetector, AdaptiveDetector):
    """AdaptiveDetector with the same frame score: the method comes first in the MRO, and
    AdaptiveDetector's constructor and adaptive window are its own."""
