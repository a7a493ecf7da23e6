"""Frame times: detector timecodes map back to frames, and gaps are reckoned exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest
from scenedetect import FrameTimecode

from adref.video.timeline import Timeline

NTSC = Fraction(30000, 1001)


def _ntsc(frames: int) -> Timeline:
    times = Timeline(Fraction(1, 30000), NTSC)
    for i in range(frames):
        times.add(i * 1001, 1001)
    return times


def test_detector_timecodes_name_their_frames() -> None:
    times = Timeline(Fraction(1, 12800), Fraction(25))
    tcs = [times.add(i * 512, 512) for i in range(10)]
    assert [times.index_of(tc) for tc in tcs] == list(range(10))
    # ThresholdDetector reports frame numbers: the nearest frame in time
    assert times.index_of(FrameTimecode(7, fps=25.0)) == 7


def test_a_gap_of_exactly_the_minimum_is_kept_at_ntsc_rates() -> None:
    times = _ntsc(200)
    minimum = float(15 / NTSC)
    pairs = [(a, a + 15) for a in range(0, 180, 5)]
    assert all(times.apart(a, b, minimum) for a, b in pairs)
    assert not any(times.apart(a, b - 1, minimum) for a, b in pairs)
    float_lost = [p for p in pairs if times.times[p[1]] - times.times[p[0]] < minimum]
    assert float_lost, "float subtraction loses some exact 15-frame gaps (why apart exists)"


def test_the_end_is_the_last_frame_plus_its_duration() -> None:
    times = _ntsc(30)
    assert times.end() == pytest.approx(30 * 1001 / 30000)
    unknown = Timeline(Fraction(1, 1000), Fraction(25))
    for pts in (0, 40, 80, 160):
        unknown.add(pts, 0)
    assert unknown.end() == pytest.approx(0.16 + 0.04)  # the median recent step
    single = Timeline(Fraction(1, 1000), Fraction(25))
    single.add(0, 0)
    assert single.end() == pytest.approx(0.04)
