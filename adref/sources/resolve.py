"""From what a user typed to a video id: the first, cheap step of every run.

Knowing the id before downloading lets a re-run skip the download (Prefect caches on it), and
refusing bad input here (a scheme we do not fetch, a missing file, a video over the duration
limit, a playlist) stops a run before it costs anything.
"""

from __future__ import annotations

from adref.errors import InputError
from adref.settings import Settings
from adref.sources.local import existing_file, file_stamp, inspect_file
from adref.sources.meta import meta_from_info, site_video_id
from adref.sources.resolved import ResolvedSource
from adref.sources.urls import check_url, looks_like_url

__all__ = ["ResolvedSource", "resolve_source"]


def resolve_source(source: str, settings: Settings) -> ResolvedSource:
    """Look at a URL (site metadata, no download) or a local file (probe and hash)."""
    text = source.strip()
    if not text:
        raise InputError("no video given", "the source is empty", "Give a video URL or file path")
    if looks_like_url(text):
        return _resolve_url(check_url(text, allow_private=settings.allow_private_urls), settings)
    path = existing_file(text)
    before = file_stamp(path)
    video = inspect_file(path, settings)
    return ResolvedSource(
        kind="file",
        source=str(path),
        video_id=video.meta.video_id,
        meta=video.meta,
        local=video,
        stamp=before if file_stamp(path) == before else None,
    )


def _resolve_url(url: str, settings: Settings) -> ResolvedSource:
    from adref.sources import ytdlp  # lazy: yt-dlp takes over a second to import; files skip it

    info = ytdlp.extract_info(url, settings)
    meta = meta_from_info(info, url)
    return ResolvedSource(kind="url", source=url, video_id=site_video_id(info), meta=meta)
