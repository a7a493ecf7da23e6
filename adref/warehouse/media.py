"""Keyframes and playable video copies, named by video id under ``media/`` in a media store.

Each file appears whole or not at all (the store's writes are atomic), and a second store of the
same video lands on the same names, so a re-run never duplicates media. Returned names are
relative to the warehouse root, as the tables store them, whichever store holds the files.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path, PurePosixPath

from adref.errors import InputError
from adref.models import Shot, safe_id
from adref.warehouse.media_store import MediaStore

KEYFRAMES = PurePosixPath("media/keyframes")
VIDEOS = PurePosixPath("media/videos")
_PLAYABLE = {".mp4": {"h264", "vp9", "av1"}, ".webm": {"vp9", "av1"}}
PLAYABLE_SUFFIXES = tuple(_PLAYABLE)  # every name a kept copy can have
_AUDIO = {".mp4": {"aac", "mp3", "opus"}, ".webm": {"opus", "vorbis"}}
_PIXELS = {"yuv420p", "yuvj420p", "yuv420p10le"}
_CODEC_NAMES = {
    "avc1": "h264",
    "avc": "h264",
    "h.264": "h264",
    "libx264": "h264",
    "vp09": "vp9",
    "libvpx-vp9": "vp9",
    "av01": "av1",
    "libdav1d": "av1",
    "libaom-av1": "av1",
}


def store_keyframes(store: MediaStore, video_id: str, shots: list[Shot]) -> dict[int, str]:
    """Write each shot's keyframe JPEG; shots without one get no path."""
    rel = KEYFRAMES / safe_id(video_id)
    paths: dict[int, str] = {}
    for shot in shots:
        if not shot.keyframe_jpeg:
            continue
        name = str(rel / f"{shot.shot_index:04d}.jpg")
        store.put_bytes(name, shot.keyframe_jpeg)
        paths[shot.shot_index] = name
    return paths


def store_video(
    store: MediaStore, video_id: str, src: Path, codec: str, *, owned: bool = False
) -> str:
    """Keep a browser-playable copy of a video: stored as it is if it already plays, else made.

    A video already stored under this id is kept as it is: one id is one video. ``owned``: the
    file is adref's (a download), so the store may link to it rather than copy it.
    """
    src = Path(src)
    if not src.is_file():
        raise InputError(f"cannot keep a copy of {src}", "the file does not exist")
    name = safe_id(video_id)
    for known in _PLAYABLE:
        if store.exists(str(VIDEOS / f"{name}{known}")):
            return str(VIDEOS / f"{name}{known}")
    suffix = playable_container(src, codec)
    if suffix is not None:
        rel = str(VIDEOS / f"{name}{suffix}")
        store.put_file(rel, src, link=owned)
        return rel
    rel = str(VIDEOS / f"{name}.mp4")
    with store.scratch() as scratch:
        made = Path(scratch) / f"{name}.mp4"
        transcode_h264(src, made)
        store.put_file(rel, made, link=True)
    return rel


def normalise_codec(codec: str) -> str:
    c = codec.strip().lower()
    return _CODEC_NAMES.get(c, c)


def playable_container(src: Path, codec: str) -> str | None:
    """``.mp4`` or ``.webm`` when browsers play the file as it is, else None."""
    import av

    suffix = {".m4v": ".mp4"}.get(src.suffix.lower(), src.suffix.lower())
    if suffix not in _PLAYABLE:
        return None
    try:
        with av.open(str(src)) as container:
            fmt = container.format.name
            videos = container.streams.video
            pix = videos[0].codec_context.pix_fmt if videos else None
            probed = videos[0].codec_context.name if videos else ""
            audio = [s.codec_context.name for s in container.streams.audio]
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise InputError(f"cannot read {src.name}", str(exc), "is it a video file?") from exc
    vcodec = normalise_codec(codec or probed)
    ok = (
        suffix.lstrip(".") in fmt.split(",")
        and vcodec in _PLAYABLE[suffix]
        and pix in _PIXELS
        and all(a in _AUDIO[suffix] for a in audio[:1])
    )
    return suffix if ok else None


def transcode_h264(src: Path, target: Path) -> None:
    """H.264 + AAC in MP4 with the index up front (``+faststart``), so browsers stream it."""
    import imageio_ffmpeg

    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        *("-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(src)),
        *("-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn"),
        *("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"),
        *("-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2"),
        *("-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-f", "mp4", str(tmp)),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            lines = done.stderr.strip().splitlines()
            raise InputError(
                f"cannot make a browser-playable copy of {src.name}",
                lines[-1] if lines else f"ffmpeg exited with {done.returncode}",
                "set ADREF_KEEP_VIDEO=false to skip keeping videos",
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
