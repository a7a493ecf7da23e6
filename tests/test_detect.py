"""The detect stage against clips whose every cut is known, and against PySceneDetect itself."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import av
import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from typer.testing import CliRunner

import adref.cli.bench  # noqa: F401  (registers `adref bench detect`)
from adref.bench.detect import compare_cuts, pyscenedetect_cuts, run_detect_bench
from adref.cli.app import app
from adref.errors import InputError
from adref.models import DetectResult
from adref.settings import Settings
from adref.video.detect import detect_shots
from adref.video.params import DETECT_VERSION, DetectParams
from adref.video.scoring import FastAdaptiveDetector
from adref.video.testclips import ClipTruth, make_clip

KINDS = ["clip_ad", "clip_vertical", "clip_vfr", "clip_single", "clip_rapid"]
_results: dict[Path, DetectResult] = {}


def detected(truth: ClipTruth, params: DetectParams | None = None) -> DetectResult:
    """Detect once per clip with default parameters (the slow part of these tests)."""
    if params is not None:
        return detect_shots(truth.path, params)
    if truth.path not in _results:
        _results[truth.path] = detect_shots(truth.path, DetectParams())
    return _results[truth.path]


@pytest.mark.parametrize("fixture", KINDS)
def test_cuts_within_one_frame_of_the_truth(fixture: str, request: pytest.FixtureRequest) -> None:
    truth: ClipTruth = request.getfixturevalue(fixture)
    result = detected(truth)
    starts = [s.start_frame for s in result.shots[1:]]
    assert len(starts) == len(truth.cut_frames), (starts, truth.cut_frames)
    for found, known in zip(starts, truth.cut_frames, strict=True):
        assert abs(found - known) <= 1, (starts, truth.cut_frames)
    for shot in result.shots[1:]:
        assert shot.start_s == pytest.approx(truth.frame_times_s[shot.start_frame], abs=1e-6)


@pytest.mark.parametrize("fixture", KINDS)
def test_shots_tile_the_video(fixture: str, request: pytest.FixtureRequest) -> None:
    truth: ClipTruth = request.getfixturevalue(fixture)
    result = detected(truth)
    shots = result.shots
    assert [s.shot_index for s in shots] == list(range(len(shots)))
    assert shots[0].start_s == 0.0 and shots[0].start_frame == 0
    for a, b in itertools.pairwise(shots):
        assert a.end_s == b.start_s and a.end_frame == b.start_frame
    assert shots[-1].end_frame == truth.frame_count == result.stream.frame_count
    assert shots[-1].end_s == pytest.approx(truth.duration_s, abs=1e-3)
    assert result.stream.duration_s == pytest.approx(truth.duration_s, abs=1e-3)
    for s in shots:
        assert s.start_s <= s.keyframe_s < s.end_s


def test_stream_info(clip_ad: ClipTruth, clip_vertical: ClipTruth) -> None:
    ad = detected(clip_ad).stream
    assert (ad.width, ad.height, ad.codec, ad.rotation) == (
        clip_ad.width,
        clip_ad.height,
        "h264",
        0,
    )
    assert ad.fps == pytest.approx(25.0) and not ad.variable_frame_rate
    vertical = detected(clip_vertical).stream
    assert vertical.aspect == pytest.approx(9 / 16)


def test_variable_frame_rate_uses_presentation_times(clip_vfr: ClipTruth) -> None:
    result = detected(clip_vfr)
    assert result.stream.variable_frame_rate
    assert [s.start_s for s in result.shots[1:]] == pytest.approx(clip_vfr.cut_times_s, abs=1e-6)
    by_index = [s.start_frame / result.stream.fps for s in result.shots[1:]]
    assert any(abs(a - b) > 0.1 for a, b in zip(by_index, clip_vfr.cut_times_s, strict=True))


def test_rotated_video_is_reported_as_displayed(tmp_path: Path) -> None:
    truth = make_clip("vertical", tmp_path / "rotated.mp4", width=180, height=320, rotation=90)
    result = detect_shots(truth.path, DetectParams(thumbnail_width=180))
    assert (result.stream.width, result.stream.height, result.stream.rotation) == (180, 320, 90)
    assert [s.start_frame for s in result.shots[1:]] == pytest.approx(truth.cut_frames, abs=1)
    thumb = _jpeg(result.shots[0].keyframe_jpeg)
    assert thumb.shape[:2] == (320, 180)
    top, bottom = thumb[: 320 // 5].mean(axis=(0, 1)), thumb[-320 // 5 :].mean(axis=(0, 1))
    assert top[2] > bottom[2], "the sunset's orange sky is on top: the picture is upright"


def test_fade_through_black_is_a_boundary(clip_ad: ClipTruth) -> None:
    fade = clip_ad.fades[0]
    result = detected(clip_ad)
    near = [s for s in result.shots if abs(s.start_frame - fade.cut_frame) <= 1]
    assert len(near) == 1
    after = near[0]
    before = result.shots[after.shot_index - 1]
    times = clip_ad.frame_times_s
    black = (times[fade.black_start_frame], times[fade.black_end_frame])
    for shot in (before, after):
        assert not black[0] <= shot.keyframe_s < black[1], "a black frame is not a keyframe"
        assert _jpeg(shot.keyframe_jpeg).mean() > 40


def test_same_cuts_as_pyscenedetect(clip_ad: ClipTruth) -> None:
    result = detected(clip_ad)
    _, baseline = pyscenedetect_cuts(clip_ad.path)
    ours = [s.start_s for s in result.shots[1:]]
    cmp = compare_cuts(ours, baseline, tolerance=0.5 / clip_ad.fps)
    assert cmp.equal, cmp


def test_content_detector_and_no_fades(clip_ad: ClipTruth) -> None:
    content = detected(clip_ad, DetectParams(detector="content"))
    assert content.detector.endswith(":content+threshold")
    starts = [s.start_frame for s in content.shots[1:]]
    assert all(min(abs(s - c) for c in clip_ad.cut_frames) <= 1 for s in starts)
    no_fades = detected(clip_ad, DetectParams(fade_threshold=0))
    assert "threshold" not in no_fades.detector
    assert len(no_fades.shots) <= len(detected(clip_ad).shots)


def test_min_shot_length_is_respected(clip_rapid: ClipTruth) -> None:
    result = detected(clip_rapid, DetectParams(min_shot_s=1.5))
    assert 1 < len(result.shots) < clip_rapid.shot_count
    assert all(s.duration_s >= 1.5 - 1e-6 for s in result.shots[:-1])


def test_params_come_from_settings_and_carry_a_version() -> None:
    settings = Settings(detector="content", min_shot_s=0.8, thumbnail_width=320)
    params = DetectParams.from_settings(settings)
    assert (params.detector, params.min_shot_s, params.thumbnail_width) == ("content", 0.8, 320)
    assert params.content_threshold == settings.content_threshold
    assert params.model_dump()["version"] == DETECT_VERSION


def test_progress_goes_up_to_one(clip_single: ClipTruth) -> None:
    seen: list[float] = []
    detect_shots(clip_single.path, DetectParams(), progress=seen.append)
    assert len(seen) > 5 and seen == sorted(seen)
    assert seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)


@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0), (1.0, 0.5, 2.0)], ids=["equal", "unequal"])
def test_fast_score_is_pyscenedetects_score(
    clip_ad: ClipTruth, weights: tuple[float, float, float]
) -> None:
    from scenedetect import AdaptiveDetector, ContentDetector, FrameTimecode

    components = ContentDetector.Components(*weights, delta_edges=0.0)
    original = AdaptiveDetector(weights=components)
    fast = FastAdaptiveDetector(weights=components)
    rate = FrameTimecode(0, fps=clip_ad.fps)
    with av.open(str(clip_ad.path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            small = frame.reformat(width=256, height=144, format="bgr24").to_ndarray()
            tc = FrameTimecode(i, fps=rate)
            assert original.process_frame(tc, small) == fast.process_frame(tc, small)
            # Equal weights take one L1 norm in place of three sums: the last bit may differ.
            assert fast._frame_score == pytest.approx(original._frame_score, rel=1e-12, abs=0)
            if i > 80:
                break


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("empty", "is empty"),
        ("text", "cannot be read as a video"),
        ("audio", "has no video stream"),
        ("cover", "has no video stream"),
        ("truncated", "truncated"),
        ("missing", "does not exist"),
    ],
)
def test_bad_files_fail_clearly(
    make: str, message: str, tmp_path: Path, clip_ad: ClipTruth
) -> None:
    path = tmp_path / f"{make}.mp4"
    if make == "empty":
        path.touch()
    elif make == "text":
        path.write_text("this is not a video\n")
    elif make == "audio":
        path = tmp_path / "tone.m4a"
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi"]
        subprocess.run([*cmd, "-i", "sine=frequency=440:duration=1", str(path)], check=True)
    elif make == "cover":  # an mp3 whose only picture is its cover art
        path = tmp_path / "song.mp3"
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi"]
        cmd += ["-i", "sine=duration=1", "-f", "lavfi", "-i", "color=red:size=64x64:duration=1"]
        cmd += ["-map", "0", "-map", "1", "-frames:v", "1", "-c:v", "mjpeg"]
        subprocess.run([*cmd, "-disposition:v", "attached_pic", str(path)], check=True)
    elif make == "truncated":
        data = clip_ad.path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match=message):
        detect_shots(path, DetectParams())


def test_bench_functions_compare_three_contenders(clip_single: ClipTruth) -> None:
    bench = run_detect_bench(clip_single.path, repeat=2)
    assert (
        bench.decode.frames
        == bench.baseline.frames
        == bench.adref.frames
        == clip_single.frame_count
    )
    assert bench.comparison.equal and bench.adref.cuts_s == [] == bench.baseline.cuts_s
    assert bench.ratio(bench.decode) == 1.0
    for row in (bench.baseline, bench.adref):  # one ratio per round, against that round's decode
        assert len(row.ratios) == 2 and all(r > 0 for r in row.ratios)
        assert min(row.ratios) <= bench.ratio(row) <= max(row.ratios)


def test_bench_detect_command_prints_three_rows(clip_ad: ClipTruth) -> None:
    result = CliRunner().invoke(app, ["bench", "detect", str(clip_ad.path), "--repeat", "1"])
    assert result.exit_code == 0, result.output
    out = result.output
    for row in ("decode only", "PySceneDetect", "adref detect"):
        assert row in out
    assert "adref detect, each round ÷ its decode: " in out
    assert "same as PySceneDetect" in out
    # The verdict agrees with the figure it prints (a printed 1.150 may be either way).
    found = re.search(r"adref detect: (\d+\.\d{3})x decode only \((within|over) the 1\.15x", out)
    assert found, out
    if found[1] != "1.150":
        assert (float(found[1]) < 1.15) == (found[2] == "within"), found[0]


def test_bench_detect_command_rejects_a_non_video(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    result = CliRunner().invoke(app, ["bench", "detect", str(bad), "--repeat", "1"])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error:") and "cannot be read as a video" in line


def _jpeg(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image)
