"""adref's hard cuts are PySceneDetect's: the same frames its own SceneManager finds.

Each clip is made here from data (``tests/support/conformance.py``), decoded by PySceneDetect
its own way (OpenCV) and by adref's one pass, and the cut frames compared with fades off and
the same detector and parameters. No tolerance: where the two may only differ because the
decoders differ, the clip says so and why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adref.video.decode import VideoReader
from tests.support.conformance import (
    Clip,
    adref_frames,
    fade,
    make,
    params_for,
    pyscenedetect_frames,
    pyscenedetect_view,
    shot,
)

DETECTORS = ["adaptive", "content"]
NTSC = "30000/1001"

# The three clips of issue 12, each of which today's adref got wrong.
GREY_FADE = Clip(
    "grey-fade-mpeg4",
    (fade(0, 255, 45), fade(255, 0, 45)) * 3,
    size=(480, 320),
    fps=NTSC,
    codec="mpeg4",
    grey_input=True,
)
TRIMMED = Clip("trimmed-edit-list", (shot(10, 1), shot(40, 2), shot(30, 3)), trim_s=1.0)
LAST_CUT = Clip(
    "cut-15-frames-before-end",
    (shot(40, 1), shot(40, 2), shot(40, 3), shot(15, 4), shot(15, 5)),
    fps=NTSC,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("conformance")


def _agree(clip: Clip, folder: Path, kind: str) -> list[int]:
    path = folder / f"{clip.name}.{clip.ext}"
    if not path.exists():
        make(clip, folder)
    params = params_for(kind, clip.fps)
    theirs = pyscenedetect_frames(path, kind, params)
    assert adref_frames(path, params) == theirs
    return theirs


@pytest.mark.parametrize("kind", DETECTORS)
def test_neutral_grey_fade_makes_no_false_cuts(folder: Path, kind: str) -> None:
    _agree(GREY_FADE, folder, kind)


def test_greys_reach_the_detector_as_pyscenedetect_sees_them(folder: Path) -> None:
    """One level off turns a neutral grey's hue from 0 to 90: compare every pixel."""
    path = make(GREY_FADE, folder)
    theirs = pyscenedetect_view(path)
    with VideoReader(path) as reader:
        ours = [f.small for f in reader.frames()]
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a.shape == b.shape, i
        assert np.array_equal(a, b), (i, a[0, 0], b[0, 0])


@pytest.mark.parametrize("kind", DETECTORS)
def test_a_clip_trimmed_by_an_edit_list(folder: Path, kind: str) -> None:
    """Its container counts the frames the edit list hides; only the shown ones are the video."""
    assert _agree(TRIMMED, folder, kind) == [25]


@pytest.mark.parametrize("kind", DETECTORS)
def test_a_cut_fifteen_frames_before_the_end_at_ntsc_rate(folder: Path, kind: str) -> None:
    """Exactly the minimum shot length apart: float times lost it, exact ones keep it."""
    assert _agree(LAST_CUT, folder, kind) == [40, 80, 120, 135]
