"""Light and motion per frame, from the detect-size frame."""

from __future__ import annotations

import numpy as np
import pytest

from adref.video.light import MOTION_SCALE, LightAndMotion, channel_means
from tests.support.frames import decoded, flat, frame_clock


def _run(frames: list[np.ndarray]) -> LightAndMotion:
    times = frame_clock()
    meter = LightAndMotion()
    for i, small in enumerate(frames):
        times.add(i, 1)
        meter.feed(decoded(i, small), channel_means(small), times)
    return meter


def test_brightness_is_the_luma_of_the_mean_colour() -> None:
    meter = _run([flat((255, 255, 255)), flat((0, 0, 0)), flat((0, 0, 255))])
    assert list(meter.light) == pytest.approx([1.0, 0.0, 0.299], abs=1e-6)


def test_motion_is_luma_change_per_frame_at_25_fps() -> None:
    still = _run([flat((100, 100, 100))] * 5)
    assert list(still.motion) == [0.0] * 5 and still.shot_motion(0, 5) == 0.0
    flicker = _run([flat((100, 100, 100)), flat((124, 124, 124))] * 3)
    assert list(flicker.motion)[1:] == pytest.approx([24.0] * 5)
    assert flicker.shot_motion(0, 6) == pytest.approx(24.0 / MOTION_SCALE)
    assert flicker.shot_motion(2, 3) == 0.0  # a one-frame shot has no change of its own
