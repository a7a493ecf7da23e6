"""Video files already on this machine: checked, hashed and probed in place, never copied."""

from __future__ import annotations

import re
from pathlib import Path

from adref.errors import InputError
from adref.models import DownloadedVideo, StreamInfo, VideoMeta
from adref.settings import Settings
from adref.sources.hash_memo import hash_memo
from adref.sources.hashing import content_video_id
from adref.sources.limits import check_duration
from adref.sources.meta import apply_stream

__all__ = [
    "VIDEO_SUFFIXES",
    "check_file",
    "existing_file",
    "file_stamp",
    "inspect_file",
    "printable_path",
    "require_inside",
    "utf8_path",
]

# What a watched folder's listing takes as a video by its name; the probe still decides.
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".wmv", ".asf", ".flv", ".f4v"}
    | {".mpg", ".mpeg", ".m2v", ".ts", ".m2ts", ".mts", ".vob", ".3gp", ".3g2", ".ogv", ".mxf"}
)

# "youtube.com/watch?v=..." or "www.example.com": an address typed without its scheme.
_HOSTLIKE = re.compile(r"^(www\.[\w-]+|[\w-]+(\.[\w-]+)*\.[a-z]{2,}/)", re.IGNORECASE)


def existing_file(source: str) -> Path:
    """The absolute path of a readable regular file, or an InputError saying what is wrong."""
    path = Path(source).expanduser()
    try:
        exists = path.exists()
    except OSError as exc:
        raise InputError(f"cannot read {source}", exc.strerror or str(exc)) from None
    if not exists:
        hint = "Check the path and try again"
        if _HOSTLIKE.match(source):
            hint = f"If it is a web address, add https:// (https://{source})"
        raise InputError(f"cannot read {source}", "no such file", hint)
    path = path.resolve()
    if not utf8_path(path):
        raise InputError(
            f"cannot read {printable_path(path)}",
            "its name is not valid UTF-8 (written in another system's encoding)",
            "Rename the file, or its folder, to a UTF-8 name",
        )
    if path.is_dir():
        raise InputError(
            f"cannot read {path}",
            "it is a folder, not a video file",
            "Give one video file; to ingest a whole folder, add it to the watch list and run adref ingest",
        )
    if not path.is_file():
        raise InputError(f"cannot read {path}", "it is not a regular file (a device or a pipe)")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputError(
            f"cannot read {path}", exc.strerror or str(exc), "Check the file's permissions"
        ) from None
    return path


def utf8_path(path: Path) -> bool:
    """Whether the path is text: a run's parameters, rows and messages are UTF-8, and a name
    in another encoding reaches Python as lone surrogates that none of them can carry."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_path(path: Path) -> str:
    """The path with the bytes that are not UTF-8 shown as U+FFFD."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def require_inside(path: Path, folders: list[Path]) -> Path:
    """Refuse a file outside ``folders``: a deployment's parameters come from whoever can reach
    the Prefect UI, and they should not be able to make the worker read any file it can."""
    real = path.resolve()
    if any(real.is_relative_to(folder.resolve()) for folder in folders):
        return real
    shown = ", ".join(str(folder) for folder in folders)
    raise InputError(
        f"cannot read {path}",
        f"deployment runs read files only from the input folders ({shown})",
        "Move the file into one of them, add its folder to ADREF_INPUT_DIRS, or give a URL",
    )


def file_stamp(path: Path) -> tuple[int, int]:
    """Size and modification time: what tells a file was not changed since it was looked at."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def check_file(path: Path, settings: Settings) -> StreamInfo:
    """Is this a video adref takes? The one rule for files, asked by the CLI before it starts
    Prefect and by the flow before it hashes: a video, and within the duration limit."""
    from adref.sources.probe import probe_video  # lazy: PyAV; listing a watched folder needs none

    stream = probe_video(path)
    check_duration(stream.duration_s, settings, path.name)
    return stream


def inspect_file(path: Path, settings: Settings) -> DownloadedVideo:
    """Check first (cheap, and refuses non-videos with a clear reason), then hash the content."""
    stream = check_file(path, settings)
    content_hash = hash_memo(settings).sha256(path)
    video_id = content_video_id(content_hash)
    meta = VideoMeta(video_id=video_id, title=path.stem, metadata={"file_name": path.name})
    return DownloadedVideo(
        meta=apply_stream(meta, stream, video_id),
        path=path,
        content_hash=content_hash,
        size_bytes=path.stat().st_size,
        bytes_downloaded=0,
    )
