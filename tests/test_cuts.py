"""The cut detectors fed frame by frame: hard cuts, fades through black, both detectors."""

from __future__ import annotations

import pytest

from adref.video.cuts import CutDetectors
from adref.video.light import channel_means
from tests.support.frames import flat, frame_clock


def _feed(
    colours: list[tuple[int, int, int]], detector: str = "adaptive", fades: float = 12.0
) -> tuple[list[tuple[int, str]], CutDetectors, list[float | None]]:
    times = frame_clock()
    threshold = 27.0 if detector == "content" else 3.0
    cuts = CutDetectors(detector, threshold, fades, 0.5, times)
    found: list[tuple[int, str]] = []
    fading: list[float | None] = []
    for i, colour in enumerate(colours):
        small = flat(colour)
        found += cuts.feed(times.add(i, 1), small, channel_means(small))
        fading.append(cuts.fade_out_since())
    return found + cuts.finish(), cuts, fading


@pytest.mark.parametrize("detector", ["adaptive", "content"])
def test_a_hard_cut_is_found_at_its_first_frame(detector: str) -> None:
    found, _, _ = _feed([(20, 40, 200)] * 30 + [(200, 220, 30)] * 30, detector)
    assert found == [(30, "content")]


def test_a_fade_through_black_is_placed_in_its_black_middle() -> None:
    picture = [(90, 120, 160)] * 30
    black = [(0, 0, 0)] * 10
    found, _, fading = _feed(picture + black + picture)
    assert (35, "fade") in found
    assert fading[29] is None and fading[35] == pytest.approx(1.2)  # open while dark
    assert fading[-1] is None


def test_fades_off_leaves_only_hard_cuts() -> None:
    found, cuts, _ = _feed(
        [(90, 120, 160)] * 30 + [(0, 0, 0)] * 10 + [(90, 120, 160)] * 30, fades=0
    )
    assert cuts.fade is None and all(kind == "content" for _, kind in found)
