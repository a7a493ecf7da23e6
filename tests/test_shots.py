"""Shot descriptions come back in order however far the worker lags."""

from __future__ import annotations

import numpy as np

from adref.video.shots import ShotPlan, ShotQueue, geometry
from tests.support.frames import decoded, flat


def test_keyframe_sizes_follow_display_and_rotation() -> None:
    geo = geometry((1920.0, 1080.0), 0, 480)
    assert geo.thumbnail == (480, 270) and geo.analysis == (480, 270) and geo.stored == (480, 270)
    turned = geometry((1080.0, 1920.0), 90, 480)
    assert turned.upright == turned.thumbnail == (480, 854)
    assert turned.stored == (854, 480)


def test_the_queue_returns_every_shot_in_order() -> None:
    queue = ShotQueue()
    queue.geometry = geometry((64.0, 36.0), 0, 64)
    try:
        for i in range(7):
            small = flat((30 * i, 100, 200 - 20 * i))
            plan = ShotPlan(
                i,
                i,
                i + 1,
                i / 25,
                (i + 1) / 25,
                i / 25,
                decoded(i, small).source,
                small.reshape(-1, 3),
                0.0,
                0.0,
                0.0,
            )
            queue.submit(plan)
        shots = queue.drain()
    finally:
        queue.close()
    assert [s.shot_index for s in shots] == list(range(7))
    assert len({s.keyframe_jpeg for s in shots}) == 7
    assert all(np.isfinite(s.brightness) for s in shots)
