"""Bring a resolved source onto local disk as a checked video file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adref.models import DownloadedVideo
from adref.settings import Settings
from adref.sources.local import existing_file, file_stamp, inspect_file
from adref.sources.resolved import ResolvedSource

__all__ = ["download"]


def download(
    resolved: ResolvedSource,
    dest_dir: Path,
    settings: Settings,
    progress: Callable[[float], None] | None = None,
) -> DownloadedVideo:
    """A URL is downloaded into ``dest_dir``; a local file is used where it is, never copied.

    Both are probed and hashed, and the duration limit applies to what the probe measured.
    ``meta.video_id`` of the result is authoritative: for a generic URL it is the content
    hash, and for a local file edited since it was resolved it is the new content's hash.
    """
    if resolved.kind == "file":
        path = existing_file(resolved.source)
        if resolved.local is not None and resolved.stamp == file_stamp(path):
            video = resolved.local
        else:
            video = inspect_file(path, settings)
        if progress is not None:
            progress(1.0)
        return video
    from adref.sources.ytdlp import download_url  # lazy: yt-dlp is slow to import; files skip it

    return download_url(resolved, dest_dir, settings, progress)
