"""The synthetic clips are what every detect test trusts, so check them against the file itself."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from adref.errors import InputError
from adref.video.testclips import BLACK_LEVEL, ClipTruth, make_clip

KINDS = ["clip_ad", "clip_vertical", "clip_vfr", "clip_single", "clip_rapid"]


def _decoded(path: Path) -> tuple[list[float], list[float], av.VideoFrame, str, str]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times: list[float] = []
        means: list[float] = []
        first = None
        for frame in container.decode(stream):
            times.append(round(float(frame.time), 6))
            means.append(float(frame.to_ndarray(format="gray").mean()))
            first = first or frame
        assert first is not None
        return times, means, first, stream.codec_context.name, first.format.name


@pytest.mark.parametrize("fixture", KINDS)
def test_clip_file_matches_its_truth(fixture: str, request: pytest.FixtureRequest) -> None:
    truth: ClipTruth = request.getfixturevalue(fixture)
    times, means, first, codec, pix_fmt = _decoded(truth.path)
    assert codec == "h264" and pix_fmt == "yuv420p"
    assert (first.width, first.height) == (truth.width, truth.height)
    assert len(times) == truth.frame_count
    assert times == pytest.approx(truth.frame_times_s, abs=1e-6)
    assert truth.cut_times_s == [truth.frame_times_s[c] for c in truth.cut_frames]
    assert truth.duration_s > times[-1]
    assert len(truth.looks) == len(truth.texts) == len(truth.pans) == truth.shot_count
    data = truth.path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat"), "faststart: the index must come first"
    for fade in truth.fades:
        assert fade.black_start_frame < fade.cut_frame < fade.black_end_frame
        assert all(
            means[i] < BLACK_LEVEL + 4 for i in range(fade.black_start_frame, fade.black_end_frame)
        )


def test_ad_has_what_the_detect_tests_need(clip_ad: ClipTruth) -> None:
    assert len(clip_ad.fades) == 1 and clip_ad.cut_frames
    assert {"NEW", "SALE 30%", "Shop now"} <= {t for t in clip_ad.texts if t}
    assert clip_ad.texts[-1] == "Shop now" and clip_ad.looks[-1] == "endcard"
    assert clip_ad.warm_shots and clip_ad.cool_shots
    assert clip_ad.looks[0] == clip_ad.looks[2] != clip_ad.looks[1], "an A-B-A repeat"
    assert "presenter" in clip_ad.looks
    assert all(a != b for a, b in zip(clip_ad.looks, clip_ad.looks[1:], strict=False))


def test_vertical_and_vfr_are_what_they_say(clip_vertical: ClipTruth, clip_vfr: ClipTruth) -> None:
    assert clip_vertical.width * 16 == clip_vertical.height * 9
    gaps = np.diff(clip_vfr.frame_times_s)
    assert {round(g, 3) for g in gaps} == {0.02, 0.04, 0.08}
    naive = [c / clip_vfr.fps for c in clip_vfr.cut_frames]
    assert any(abs(a - b) > 0.1 for a, b in zip(naive, clip_vfr.cut_times_s, strict=True))


def test_rapid_has_many_short_shots(clip_rapid: ClipTruth) -> None:
    lengths = [b - a for a, b in clip_rapid.shot_bounds]
    assert len(lengths) >= 8
    assert max(lengths) / clip_rapid.fps <= 1.0


def test_same_call_same_file(tmp_path: Path) -> None:
    a = make_clip("single", tmp_path / "a.mp4", width=128, height=72, duration_s=1.0)
    b = make_clip("single", tmp_path / "b.mp4", width=128, height=72, duration_s=1.0)
    assert (
        hashlib.sha256(a.path.read_bytes()).digest() == hashlib.sha256(b.path.read_bytes()).digest()
    )
    assert a.model_dump(exclude={"path"}) == b.model_dump(exclude={"path"})


def test_ad_scales_to_a_longer_duration(tmp_path: Path) -> None:
    short = make_clip("ad", tmp_path / "short.mp4", width=128, height=72)
    long = make_clip("ad", tmp_path / "long.mp4", width=128, height=72, duration_s=20.0)
    assert long.duration_s == pytest.approx(20.0, abs=0.05)
    assert long.shot_count > short.shot_count
    assert long.looks[-1] == "endcard" and len(long.fades) == 1


def test_rotation_is_stored_as_display_metadata(tmp_path: Path) -> None:
    truth = make_clip("vertical", tmp_path / "rot.mp4", width=144, height=256, rotation=90)
    with av.open(str(truth.path)) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (256, 144)
    assert frame.rotation == 90
    assert (truth.width, truth.height, truth.rotation) == (144, 256, 90)


def test_bad_requests_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown clip kind"):
        make_clip("documentary", tmp_path / "x.mp4")
    with pytest.raises(InputError, match="even"):
        make_clip("ad", tmp_path / "x.mp4", width=321, height=180)
    with pytest.raises(InputError, match="at least 4 s"):
        make_clip("ad", tmp_path / "x.mp4", duration_s=2.0)
    assert not list(tmp_path.iterdir()), "nothing half-written is left behind"
