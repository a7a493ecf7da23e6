"""probe_video on real files made with ffmpeg: what it measures, and how it refuses bad input."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from adref.errors import InputError
from adref.sources.hashing import sha256_file
from adref.sources.probe import MIN_DURATION_S, MIN_SIDE_PX, probe_video
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
from tests.support.nonvideo import NON_VIDEO_KINDS, NonVideo, make_non_videos


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
    art = folder / "art.bin"  # XBIN text-mode art: FFmpeg decodes it as a picture
    art.write_bytes(b"XBIN\x1a" + bytes([80, 0, 25, 0, 16, 0]) + bytes(4000))
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
        "text-mode art": art,
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
    "text-mode art": "FFmpeg reads it only as Binary text (bintext), not as video",
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


@pytest.fixture(scope="module")
def non_videos(media: Path) -> dict[str, NonVideo]:
    return make_non_videos(media / "non-videos")


@pytest.mark.parametrize("kind", NON_VIDEO_KINDS)
def test_a_non_video_under_a_video_name_is_refused_for_what_it_is(
    media: Path, non_videos: dict[str, NonVideo], kind: str
) -> None:
    """FFmpeg opens some of these as pictures (a sentence as CD+G karaoke graphics, a .txt as
    ANSI art); whatever it makes of them, the refusal names what the file is."""
    item = non_videos[kind]
    for suffix in (".mp4", ".bin", ".mov", ".txt"):
        path = media / "named" / f"{kind}{suffix}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(item.body)
        with pytest.raises(InputError) as caught:
            probe_video(path)
        message = str(caught.value)
        assert message.startswith(path.name) and f": {item.reason}" in message, message
        assert "\n" not in message and caught.value.hint


def test_an_archive_holding_a_video_stream_is_an_archive(media: Path) -> None:
    """FFmpeg's raw-stream probes find H.264 start codes inside a ZIP that stores a clip
    uncompressed, and would read the archive as a 2 s video; what it is comes first."""
    raw = _encode(media / "zipped" / "clip.h264", "-c:v", "libx264", "-f", "h264", seconds=2.0)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo("clip.h264", (2026, 1, 1, 0, 0, 0)), raw.read_bytes())
    path = media / "zipped" / "clip.mp4"
    path.write_bytes(archive.getvalue())
    with pytest.raises(InputError) as caught:
        probe_video(path)
    assert str(caught.value).startswith("clip.mp4 is not a video file: it is a ZIP archive")


def _encode(path: Path, *args: str, size: str = "160x120", seconds: float = 1.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    source = f"testsrc=size={size}:rate=10:duration={seconds}"
    run_ffmpeg("-f", "lavfi", "-i", source, *args, str(path))
    return path


ACCEPTED = {
    "h264": ("clip.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"),
    "hevc": ("clip.mp4", "-c:v", "libx265", "-pix_fmt", "yuv420p", "-preset", "ultrafast"),
    "av1": ("clip.mp4", "-c:v", "libaom-av1", "-cpu-used", "8", "-pix_fmt", "yuv420p"),
    "vp8": ("clip.webm", "-c:v", "libvpx", "-deadline", "realtime"),
    "vp9": ("clip.webm", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"),
    "mpeg2video": ("clip.ts", "-c:v", "mpeg2video"),
    "mpeg4": ("clip.avi", "-c:v", "mpeg4"),
    "mjpeg": ("clip.avi", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p"),
    "prores": ("clip.mov", "-c:v", "prores_ks"),
    "theora": ("clip.ogv", "-c:v", "libtheora"),
    "flv1": ("clip.flv", "-c:v", "flv1"),
    "gif": ("clip.gif",),
    "apng": ("clip.apng", "-plays", "0", "-f", "apng"),
}


@pytest.mark.parametrize("codec", list(ACCEPTED))
def test_real_video_codecs_are_accepted(media: Path, codec: str) -> None:
    """The allow-list keeps every kind of real footage, GIF and WebM included; a container that
    states no duration (APNG) is measured from its packets."""
    name, *args = ACCEPTED[codec]
    info = probe_video(_encode(media / "codecs" / codec / name, *args))
    assert (info.width, info.height) == (160, 120)
    assert info.duration_s == pytest.approx(1.0, abs=0.05)
    assert info.frame_count == 10


@pytest.mark.parametrize(
    ("name", "args", "size", "expected"),
    [
        ("one.mp4", ("-frames:v", "1", "-c:v", "libx264"), "160x120", "it lasts 0.10 s (1 frame)"),
        ("one.gif", ("-frames:v", "1"), "160x120", "it lasts 0.10 s (1 frame)"),
        ("brief.webm", ("-t", "0.3", "-c:v", "libvpx"), "160x120", "it lasts 0.30 s (3 frames)"),
        ("pixel.gif", (), "8x8", f"its picture is 8x8 pixels, under {MIN_SIDE_PX} on a side"),
    ],
    ids=["one-frame-mp4", "one-frame-gif", "0.3s-webm", "tracking-pixel"],
)
def test_a_flash_or_a_pixel_is_not_a_video_worth_analysing(
    media: Path, name: str, args: tuple[str, ...], size: str, expected: str
) -> None:
    with pytest.raises(InputError) as caught:
        probe_video(_encode(media / "tiny" / name, *args, size=size))
    message = str(caught.value)
    assert expected in message, message
    if "lasts" in expected:
        assert f"under the minimum of {MIN_DURATION_S:g} s" in message
