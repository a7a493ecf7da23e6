"""Small real media files, made on the spot with the ffmpeg binary imageio-ffmpeg ships.

Tests build their inputs instead of checking binaries into the repository: every clip is a
few seconds at 320x240 so a whole suite stays fast on two shared cores.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg

__all__ = [
    "ffmpeg_exe",
    "make_audio_only",
    "make_dash",
    "make_empty_file",
    "make_rotated_clip",
    "make_text_as_video",
    "make_truncated_video",
    "make_vfr_video",
    "make_video",
    "run_ffmpeg",
    "truncate",
]


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly; on failure show its stderr, which says what went wrong."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({done.returncode}): {done.stderr.strip()}")


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    size: tuple[int, int] = (320, 240),
    rate: int = 25,
    audio: bool = True,
    faststart: bool = True,
    codec: str = "libx264",
    sar: str | None = None,
) -> Path:
    """A testsrc clip with an optional sine tone: H.264/AAC MP4 by default, VP9/Opus for .webm.

    ``sar`` (e.g. "2/1") stores non-square pixels, as anamorphic footage does.
    """
    w, h = size
    webm = path.suffix.lower() == ".webm"
    if webm and codec == "libx264":
        codec = "libvpx-vp9"
    args = ["-f", "lavfi", "-i", f"testsrc=size={w}x{h}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    args += ["-c:v", codec, "-pix_fmt", "yuv420p"]
    if codec == "libx264":
        args += ["-preset", "ultrafast", "-g", str(rate)]
    elif codec == "libvpx-vp9":
        args += ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"]
    if sar:
        args += ["-vf", f"setsar={sar}"]
    if audio:
        args += ["-c:a", "libopus" if webm else "aac", "-b:a", "64k", "-shortest"]
    if faststart and path.suffix.lower() in (".mp4", ".mov", ".m4v"):
        args += ["-movflags", "+faststart"]
    path.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(*args, str(path))
    return path


def make_vfr_video(path: Path, *, seconds: float = 3.0) -> Path:
    """A variable-frame-rate MP4 (3 of every 7 frames dropped, timestamps kept), like a phone's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size=320x240:rate=30:duration={seconds}",
        "-vf",
        "select='lt(mod(n,7),4)'",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        str(path),
    )
    return path


def make_dash(folder: Path, source: Path) -> Path:
    """Split a clip into a DASH manifest with separate video and audio streams (as sites serve).

    Downloading it makes yt-dlp fetch both streams and merge them with ffmpeg.
    """
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "manifest.mpd"
    run_ffmpeg(
        "-i",
        str(source),
        "-map",
        "0:v",
        "-map",
        "0:a",
        "-c",
        "copy",
        "-f",
        "dash",
        "-seg_duration",
        "1",
        str(manifest),
    )
    return manifest


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut a file to a fraction of its bytes, in place."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_audio_only(path: Path, *, seconds: float = 2.0) -> Path:
    """An AAC sine tone in an MP4 container (.m4a, or any name): a media file with no picture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:sample_rate=44100:duration={seconds}",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-f",
        "mp4",
        str(path),
    )
    return path


def make_text_as_video(path: Path) -> Path:
    """A plain text file wearing a video's name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("This is not a video. It is a shopping list: eggs, milk, film.\n" * 20)
    return path


def make_empty_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def make_truncated_video(path: Path, *, faststart: bool, seconds: float = 2.0) -> Path:
    """A valid MP4 cut in half, as an interrupted copy leaves it.

    With faststart the index (moov) comes first and survives, so the file opens but its frames
    are missing; without it the index sat at the end and is gone, so the file cannot open at all.
    """
    make_video(path, seconds=seconds, faststart=faststart)
    return truncate(path)


def make_rotated_clip(
    path: Path,
    *,
    rotation: int = 90,
    seconds: float = 1.0,
    size: tuple[int, int] = (320, 180),
) -> Path:
    """A phone-style clip: stored landscape, with a display matrix that turns it upright.

    Phones record the sensor's landscape frames and tag the stream with a rotation; a player
    shows it portrait. ``-display_rotation`` is counter-clockwise, so 90 here plays as a phone
    held upright (the old ``rotate`` tag reads 270 or -90, depending on the reader).
    """
    plain = path.with_name(path.stem + ".plain" + path.suffix)
    make_video(plain, seconds=seconds, size=size, audio=False)
    run_ffmpeg("-display_rotation", str(rotation), "-i", str(plain), "-c", "copy", str(path))
    plain.unlink()
    return path
