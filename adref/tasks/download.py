"""Resolve a source to a video id, then bring the video into adref's download cache.

Resolution is cached on the source itself (a URL, or a file's path, size and mtime), so a
re-run knows the video id without asking the site again; the download is cached on the video
id (known before downloading for site videos; the URL for yt-dlp's generic extractor) and only
while the cached file still exists.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from adref.models import DownloadedVideo, safe_id
from adref.progress import fraction_reporter
from adref.settings import Settings
from adref.sources.download import download
from adref.sources.limits import check_video
from adref.sources.local import existing_file, require_inside
from adref.sources.resolve import ResolvedSource, resolve_source
from adref.sources.urls import looks_like_url
from adref.tasks.policy import cache_key, retry_if_transient


def _resolve_key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str | None:
    source: str = inputs["source"]
    path = Path(source).expanduser()
    if path.is_file():
        st = path.stat()
        return cache_key("resolve", str(path.resolve()), st.st_size, st.st_mtime_ns)
    if "://" in source:
        return cache_key("resolve", source)
    return None


@task(
    name="resolve",
    cache_key_fn=_resolve_key,
    persist_result=True,
    retry_condition_fn=retry_if_transient,
)
def resolve(source: str, settings: Settings) -> ResolvedSource:
    return resolve_source(source, settings)


def admit(source: str, folders: list[Path]) -> None:
    """Refuse a file outside ``folders`` before any stage reads it, cached or not: a
    deployment's parameters come from whoever can reach the Prefect UI."""
    if not looks_like_url(source):
        require_inside(existing_file(source), folders)


def cache_folder(resolved: ResolvedSource, settings: Settings) -> Path:
    """Site videos are kept by video id; generic URLs (id known only after download) by URL."""
    key = resolved.video_id if resolved.video_id is not None else f"url:{resolved.source}"
    return settings.cache_dir / "downloads" / safe_id(key)


def download_present(resolved: ResolvedSource, settings: Settings) -> bool:
    """Whether a cached download result still points at a file; the flow refreshes it if not."""
    if resolved.kind == "file":
        return Path(resolved.source).expanduser().is_file()
    folder = cache_folder(resolved, settings)
    return folder.is_dir() and any(p.is_file() for p in folder.iterdir())


def _download_key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    resolved: ResolvedSource = inputs["resolved"]
    settings: Settings = inputs["settings"]
    limits = (settings.max_duration_s, settings.max_filesize_mb)  # a cached video met these
    if resolved.kind == "file":
        return cache_key("download", resolved.video_id, resolved.source, limits)
    return cache_key("download", resolved.video_id or resolved.source, limits)


@task(
    name="download",
    cache_key_fn=_download_key,
    persist_result=True,
    retry_condition_fn=retry_if_transient,
)
def fetch(resolved: ResolvedSource, workspace: Path, settings: Settings) -> DownloadedVideo:
    """The video in the download cache (a file stays where it is), within today's limits."""
    staging = workspace / "download"
    staging.mkdir(parents=True, exist_ok=True)
    video = download(resolved, staging, settings, fraction_reporter("download"))
    check_video(video, settings)
    if resolved.kind == "file":
        return video
    folder = cache_folder(resolved, settings)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / video.path.name
    tmp = folder / f".{video.path.name}.tmp"
    shutil.move(str(video.path), tmp)
    os.replace(tmp, final)
    for stale in folder.iterdir():
        if stale != final and stale.is_file():
            stale.unlink()
    return video.model_copy(update={"path": final})
