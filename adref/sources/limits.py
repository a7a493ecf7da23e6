"""The input limits (duration, file size), checked the same way wherever a number becomes known.

A limit is checked as early as the number exists: a site's stated duration before any byte is
fetched, the bytes while they arrive, the probed duration once the file is on disk; and again on
every run, as a download served from cache was measured against the limits of its own day.
Messages name the setting, so a user who meant to go over the limit knows what to change.
"""

from __future__ import annotations

from adref.errors import LimitExceeded
from adref.models import DownloadedVideo
from adref.settings import Settings

__all__ = ["check_duration", "check_filesize", "check_video", "max_filesize_bytes", "too_large"]


def max_filesize_bytes(settings: Settings) -> int:
    return int(settings.max_filesize_mb * 1024 * 1024)


def check_duration(duration_s: float | None, settings: Settings, what: str) -> None:
    """Raise LimitExceeded when a known duration is over ADREF_MAX_DURATION_S."""
    limit = settings.max_duration_s
    if duration_s is None or duration_s <= limit:
        return
    raise LimitExceeded(
        f"{what} is too long",
        f"it lasts {_clock(duration_s)}, over the limit of {_clock(limit)} "
        f"(ADREF_MAX_DURATION_S={limit:g})",
        "Trim the video, or raise ADREF_MAX_DURATION_S",
    )


def check_video(video: DownloadedVideo, settings: Settings) -> None:
    """Today's limits for a video already on disk; the size limit is for downloads only."""
    url = video.meta.source_url
    what = f"the video at {url}" if url else video.path.name
    check_duration(video.meta.duration_s, settings, what)
    if url:
        check_filesize(video.size_bytes, settings, what)


def check_filesize(size_bytes: int, settings: Settings, what: str) -> None:
    if size_bytes > max_filesize_bytes(settings):
        raise too_large(size_bytes, settings, what)


def too_large(size_bytes: int | None, settings: Settings, what: str) -> LimitExceeded:
    shown = f"it is at least {_size(size_bytes)}" if size_bytes else "it is larger than that"
    return LimitExceeded(
        f"{what} is too large",
        f"{shown}, over the limit of {settings.max_filesize_mb:g} MB "
        f"(ADREF_MAX_FILESIZE_MB={settings.max_filesize_mb:g})",
        "Give a smaller or shorter version, or raise ADREF_MAX_FILESIZE_MB",
    )


def _clock(seconds: float) -> str:
    whole = round(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _size(size_bytes: int) -> str:
    mb = size_bytes / (1024 * 1024)
    return f"{mb:,.1f} MB" if mb >= 1 else f"{size_bytes:,} bytes"
