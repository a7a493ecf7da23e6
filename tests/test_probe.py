"""probe_video on real files made with ffmpeg: what it measures, and how it refuses bad input."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from adref.errors import InputError
from adref.sources.hashing import sha256_file
from adref.video.probe import probe_video
from tests.support.media import (
    make_audio_only,
    make_empty_file,
    make_rotated_clip,
    make_text_as_video,
    make_truncated_video,
    make_vfr_video,
    make_video,
    run_ffmpeg,
    truncate,
)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe-media")


def test_a_plain_clip_is_described_as_made(media: Path) -> None:
    clip = make_video(media / "plain.mp4", seconds=2.0, size=(320, 240), rate=25)
    info = probe_video(clip)
    assert (info.width, info.height) == (320, 240)
    assert info.fps == pytest.approx(25.0)
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    assert info.frame_count == 50
    assert info.codec == "h264"
    assert info.rotation == 0
    assert info.variable_frame_rate is False
    assert info.aspect == pytest.approx(4 / 3)


@pytest.mark.parametrize(
    ("rotation", "displayed"),
    [(90, (180, 320)), (270, (180, 320)), (180, (320, 180)), (0, (320, 180))],
    ids=["90", "270", "180", "0"],
)
def test_phone_rotation_gives_displayed_size(
    media: Path, rotation: int, displayed: tuple[int, int]
) -> None:
    clip = make_rotated_clip(media / f"phone-{rotation}.mp4", rotation=rotation, size=(320, 180))
    info = probe_video(clip)
    assert (info.width, info.height) == displayed
    assert info.rotation == rotation
    assert (info.aspect < 1) == (rotation in (90, 270))


def test_anamorphic_pixels_widen_the_displayed_frame(media: Path) -> None:
    clip = make_video(media / "anamorphic.mp4", size=(320, 240), sar="2/1", audio=False)
    info = probe_video(clip)
    assert (info.width, info.height) == (640, 240)


def test_variable_frame_rate_is_noticed(media: Path) -> None:
    info = probe_video(make_vfr_video(media / "vfr.mp4"))
    assert info.variable_frame_rate is True
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    assert info.fps < 30


def test_webm_vp9_is_described(media: Path) -> None:
    info = probe_video(make_video(media / "clip.webm", seconds=1.0))
    assert info.codec == "vp9"
    assert (info.width, info.height) == (320, 240)
    assert info.frame_count == 25
    assert info.duration_s == pytest.approx(1.0, abs=0.05)


def _bad_inputs(media: Path) -> dict[str, Path]:
    folder = media / "bad"
    folder.mkdir(exist_ok=True)
    html = folder / "page.mp4"
    html.write_text("<!DOCTYPE html><html><body>Video removed</body></html>")
    png = folder / "still.mp4"
    run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48",
        "-frames:v",
        "1",
        "-c:v",
        "png",
        "-f",
        "image2",
        str(png),
    )
    return {
        "empty": make_empty_file(folder / "empty.mp4"),
        "text": make_text_as_video(folder / "notes.mp4"),
        "html": html,
        "image": png,
        "audio": make_audio_only(folder / "tone.m4a"),
        "cut-faststart": make_truncated_video(folder / "cut-fast.mp4", faststart=True),
        "cut-plain": make_truncated_video(folder / "cut-plain.mp4", faststart=False),
        "cut-webm": truncate(make_video(folder / "cut.webm", seconds=2.0)),
        "missing": folder / "nowhere.mp4",
        "folder": folder,
    }


EXPECTED = {
    "empty": "the file is empty (0 bytes)",
    "text": "is not a video file: it contains text",
    "html": "it is an HTML web page",
    "image": "it is a still image (PNG)",
    "audio": "contains audio only, no video stream",
    "cut-faststart": "is incomplete: it is",
    "cut-plain": "its index (the 'moov' box) is missing",
    "cut-webm": "is incomplete: its header says 2.0 s but its data stops at",
    "missing": "no such file",
    "folder": "it is a folder",
}


def test_bad_inputs_are_refused_each_with_its_own_reason(media: Path) -> None:
    messages = {}
    for kind, path in _bad_inputs(media).items():
        with pytest.raises(InputError) as caught:
            probe_video(path)
        message = str(caught.value)
        assert EXPECTED[kind] in message, (kind, message)
        assert not caught.value.retryable
        assert message.endswith(".") and "\n" not in message
        assert caught.value.hint, f"{kind}: no advice in {message!r}"
        messages[kind] = message
    assert len(set(messages.values())) == len(messages)


def test_sha256_file_matches_hashlib(media: Path) -> None:
    clip = make_video(media / "hashed.mp4", seconds=1.0, audio=False)
    assert sha256_file(clip) == hashlib.sha256(clip.read_bytes()).hexdigest()
