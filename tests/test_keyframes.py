"""Keyframe candidates: segments split at raw cuts, merged by the shot-length rule."""

from __future__ import annotations

import numpy as np

from adref.video.keyframes import CANDIDATES, Candidates, choose
from tests.support.frames import decoded, flat


def _offered(n: int, stride: int = 1, dark: range = range(0)) -> Candidates:
    cands = Candidates(stride)
    for i in range(n):
        level = 5 if i in dark else 150
        cands.offer(decoded(i, flat((level, level, level))), level / 255)
    return cands


def test_a_segment_keeps_a_bounded_even_spread() -> None:
    cands = _offered(500)
    kept = [c.index for c in cands.segments[0].candidates]
    assert len(kept) <= CANDIDATES and kept[0] == 0 and kept[-1] > 300
    assert len(set(np.diff(kept))) == 1


def test_a_cut_splits_and_a_late_one_takes_a_recent_frame() -> None:
    cands = _offered(40, stride=10)
    cands.cut(38, "content")  # no candidate sampled at or after 38: the recent frames give one
    assert [s.start for s in cands.segments] == [0, 38]
    assert [c.index for c in cands.segments[1].candidates] == [38]
    cands.cut(0, "content")  # at the start of the settled video: dropped
    assert [s.start for s in cands.segments] == [0, 38]


def test_close_cuts_merge_keeping_the_hard_cut() -> None:
    cands = _offered(100)
    for index, kind in [(40, "fade"), (45, "content"), (80, "content"), (84, "fade")]:
        cands.cut(index, kind)
    cands.merge(lambda a, b: b - a >= 10)
    assert [(s.start, s.kind) for s in cands.segments] == [
        (0, "start"),
        (45, "content"),
        (80, "content"),
    ]


def test_the_keyframe_is_bright_and_near_the_middle() -> None:
    cands = _offered(60, dark=range(25, 35))
    seg = cands.segments[0]
    times = [i / 25 for i in range(60)]
    light = [5 / 255 if i in range(25, 35) else 150 / 255 for i in range(60)]
    choice = choose(seg, 60, times, 60 / 25, light, 12 / 255, [])
    assert choice.key.brightness > 0.5 and 10 <= choice.key.index <= 50
    assert choice.pooled.shape[1] == 3 and (choice.pooled > 100).all()
