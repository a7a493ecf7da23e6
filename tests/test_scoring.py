"""The one override of PySceneDetect's private frame score: same numbers, pinned source."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import scenedetect
from scenedetect import AdaptiveDetector, ContentDetector, FrameTimecode

from adref.video.scoring import (
    OVERRIDDEN_SHA256,
    FastAdaptiveDetector,
    FastContentDetector,
    overridden_source_hash,
)


def test_the_overridden_method_is_the_one_pinned() -> None:
    assert overridden_source_hash() == OVERRIDDEN_SHA256, (
        f"scenedetect {scenedetect.__version__} changed ContentDetector._calculate_frame_score: "
        "read its new source, bring FastContentDetector's override in line (same numbers, "
        "see test_fast_scores_are_pyscenedetects), then pin the new hash in adref/video/scoring.py"
    )
    params = list(inspect.signature(ContentDetector._calculate_frame_score).parameters)
    assert params == ["self", "timecode", "frame_img"]
    assert "self._calculate_frame_score(" in inspect.getsource(ContentDetector.process_frame)
    assert "_calculate_frame_score" not in vars(AdaptiveDetector), "a second method to override"


def test_one_body_serves_both_detectors() -> None:
    assert "_calculate_frame_score" not in vars(FastAdaptiveDetector)
    fast = FastAdaptiveDetector(adaptive_threshold=2.5, window_width=3)
    assert isinstance(fast, AdaptiveDetector) and isinstance(fast, FastContentDetector)
    assert (fast.adaptive_threshold, fast.window_width) == (2.5, 3)


@pytest.mark.parametrize("detector", [ContentDetector, AdaptiveDetector])
@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0), (1.0, 0.5, 2.0)], ids=["equal", "unequal"])
def test_fast_scores_are_pyscenedetects(
    detector: type[ContentDetector], weights: tuple[float, float, float]
) -> None:
    fast_type = FastContentDetector if detector is ContentDetector else FastAdaptiveDetector
    components = ContentDetector.Components(*weights, delta_edges=0.0)
    original, fast = detector(weights=components), fast_type(weights=components)
    rng = np.random.default_rng(7)
    base = rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)
    for i in range(40):
        frame = base if i % 9 else rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)
        base = np.clip(frame.astype(int) + rng.integers(-8, 9, frame.shape), 0, 255).astype(
            np.uint8
        )
        tc = FrameTimecode(i, fps=25.0)
        assert original.process_frame(tc, base) == fast.process_frame(tc, base)
        assert fast._frame_score == pytest.approx(original._frame_score, rel=1e-12, abs=0)
