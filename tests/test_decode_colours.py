"""A colour matrix FFmpeg's scaler refuses (YCgCo, BT.2020 constant luminance) does not fail the
video: its frames are read as an untagged video's are, so every stage sees what the same
stream without the tag gives (OpenCV hands PySceneDetect black frames for these)."""

from __future__ import annotations

import logging
from pathlib import Path

import av
import pytest

from adref.ocr.frames import grey_frames
from adref.video.detect import detect_shots
from adref.video.params import DetectParams
from adref.video.testclips import make_clip
from tests.support.media import run_ffmpeg

_YCGCO, _BT2020_CL, _UNSPECIFIED = 8, 10, 2


def _tagged(source: Path, matrix: int, folder: Path) -> Path:
    """The same H.264 stream, its colour matrix rewritten in the bitstream (no re-encoding)."""
    out = folder / f"matrix-{matrix}.mp4"
    run_ffmpeg(
        "-i", str(source), "-c", "copy", "-bsf:v", f"h264_metadata=matrix_coefficients={matrix}",
        str(out),
    )  # fmt: skip
    with av.open(str(out)) as container:
        assert int(next(container.decode(video=0)).colorspace) == matrix
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, Path]]:
    folder = tmp_path_factory.mktemp("matrices")
    source = folder / "ad.mp4"
    make_clip("ad", source, width=320, height=180, duration_s=6.0)
    untagged = _tagged(source, _UNSPECIFIED, folder)
    return untagged, {m: _tagged(source, m, folder) for m in (_YCGCO, _BT2020_CL)}


@pytest.mark.parametrize("matrix", [_YCGCO, _BT2020_CL])
def test_detect_reads_a_refused_matrix_as_untagged(
    clips: tuple[Path, dict[int, Path]], matrix: int, caplog: pytest.LogCaptureFixture
) -> None:
    untagged, tagged = clips
    expected = detect_shots(untagged, DetectParams())
    with caplog.at_level(logging.WARNING, logger="adref.video.decode"):
        got = detect_shots(tagged[matrix], DetectParams())
    assert len(got.shots) >= 3
    assert [s.model_dump() for s in got.shots] == [s.model_dump() for s in expected.shots]
    warnings = [r for r in caplog.records if "colour matrix" in r.getMessage()]
    assert len(warnings) == 1, "one warning a video, not one a frame"


def test_text_frames_read_a_refused_matrix_as_untagged(clips: tuple[Path, dict[int, Path]]) -> None:
    untagged, tagged = clips
    times = [0.5, 2.0, 4.5]
    expected = list(grey_frames(untagged, times))
    got = list(grey_frames(tagged[_YCGCO], times))
    assert [t for t, _ in got] == times
    assert all((a == b).all() for (_, a), (_, b) in zip(got, expected, strict=True))
