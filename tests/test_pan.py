"""Camera pan: content sliding left means the camera turns right."""

from __future__ import annotations

import numpy as np
import pytest

from adref.video.pan import STEP, CameraPan
from tests.support.frames import decoded, frame_clock, texture


@pytest.mark.parametrize(("shift", "sign"), [(-2, 1), (2, -1)], ids=["right", "left"])
def test_a_sliding_picture_is_a_pan(shift: int, sign: int) -> None:
    picture = texture(3)
    times = frame_clock()
    pan = CameraPan()
    frames = 40
    for i in range(frames):
        times.add(i, 1)
        pan.feed(decoded(i, np.roll(picture, shift * i, axis=1)), times)
    vx, vy = pan.shot(0, frames)
    # 2 px a frame of a 128-px-wide picture at 25 fps: 0.39 widths a second
    assert vx == pytest.approx(sign * 2 * 25 / 128, rel=0.05)
    assert abs(vy) < 0.1 * abs(vx)  # no vertical motion, up to the sub-pixel fit
    assert pan.shot(0, frames) == (0.0, 0.0), "a shot's measurements are handed out once"


def test_a_still_picture_does_not_pan_and_short_shots_have_no_measurement() -> None:
    times = frame_clock()
    pan = CameraPan()
    for i in range(3 * STEP):
        times.add(i, 1)
        pan.feed(decoded(i, texture(4)), times)
    assert pan.shot(0, STEP) == (0.0, 0.0)
    vx, vy = pan.shot(STEP, 3 * STEP)
    assert abs(vx) < 1e-3 and abs(vy) < 1e-3
