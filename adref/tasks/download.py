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
from adref.settings import get_settings
from adref.sources.download import download
from adref.sources.resolve import ResolvedSource, resolve_source
from adref.tasks.policy import cache_key


def _resolve_key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str | None:
    source: str = inputs["source"]
    path = Path(source).expanduser()
    if path.is_file():
        st = path.stat()
        return cache_key("resolve", str(path.resolve()), st.st_size, st.st_mtime_ns)
    if "://" in source:
        return cache_key("resolve", source)
    return None


@task(name="resolve", cache_key_fn=_resolve_key, persist_result=True)
def resolve(source: str) -> ResolvedSource:
    return resolve_source(source, get_settings())


def cache_folder(resolved: ResolvedSource) -> Path:
    """Site videos are kept by video id; generic URLs (id known only after download) by URL."""
    key = resolved.video_id if resolved.video_id is not None else f"url:{resolved.source}"
    return get_settings().cache_dir / "downloads" / safe_id(key)


def download_present(resolved: ResolvedSource) -> bool:
    """Whether a cached download result still points at a file; the flow refreshes it if not."""
    if resolved.kind == "file":
        return Path(resolved.source).expanduser().is_file()
    folder = cache_folder(resolved)
    return folder.is_dir() and any(p.is_file() for p in folder.iterdir())


def _download_key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    resolved: ResolvedSource = inputs["resolved"]
    if resolved.kind == "file":
        return cache_key("download", resolved.video_id, resolved.source)
    return cache_key("download", resolved.video_id or resolved.source)


@task(name="download", cache_key_fn=_download_key, persist_result=True)
def fetch(resolved: ResolvedSource, workspace: Path) -> DownloadedVideo:
    staging = workspace / "download"
    staging.mkdir(parents=True, exist_ok=True)
    video = download(resolved, staging, get_settings(), fraction_reporter("download"))
    if resolved.kind == "file":
        return video
    folder = cache_folder(resolved)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / video.path.name
    tmp = folder / f".{video.path.name}.tmp"
    shutil.move(str(video.path), tmp)
    os.replace(tmp, final)
    for stale in folder.iterdir():
        if stale != final and stale.is_file():
            stale.unlink()
    return video.model_copy(update={"path": final})
