"""Web videos through yt-dlp's Python API: look first, then download into a private temp folder.

yt-dlp is used as a library, never through a shell, with its own retries kept low so that
Prefect's task retries are the one retry layer. Everything it prints goes to Python logging
(credentials masked). The download lands in a fresh hidden folder inside ``dest_dir`` and is
renamed into place only once it is complete, hashed and probed, so a killed run never leaves a
file that looks finished.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import yt_dlp
from yt_dlp.utils import DownloadCancelled

from adref.errors import AdrefError, InputError, LimitExceeded
from adref.models import DownloadedVideo, VideoMeta
from adref.settings import Settings
from adref.sources import netguard
from adref.sources.hashing import content_video_id, sha256_file
from adref.sources.limits import check_duration, check_filesize, max_filesize_bytes, too_large
from adref.sources.meta import apply_stream, meta_from_info, site_video_id
from adref.sources.probe import probe_video
from adref.sources.resolved import ResolvedSource
from adref.sources.urls import redact_text, redact_url
from adref.sources.ytdlp_errors import classify_ytdlp_error

__all__ = ["download_url", "extract_info", "ffmpeg_location", "list_videos", "ytdl_options"]

log = logging.getLogger(__name__)

_MAX_HEIGHT = 1080
# Prefer H.264 (plays in every browser), then the largest picture up to 1080p, AAC audio, MP4.
_FORMAT_SORT = ["vcodec:h264", f"res:{_MAX_HEIGHT}", "acodec:aac", "ext:mp4:m4a"]
_FORMAT_MERGE = f"bv*[height<=?{_MAX_HEIGHT}]+ba/b[height<=?{_MAX_HEIGHT}]/bv*+ba/b/bv*"
_FORMAT_SINGLE = f"b[height<=?{_MAX_HEIGHT}]/b/bv*[height<=?{_MAX_HEIGHT}]/bv*"
_PLAYLIST_PEEK = 50
_PARTIAL = (".part", ".ytdl", ".temp", ".tmp")
_FORMAT_PIECE = re.compile(r"\.f[\w-]+\.\w+$")


class _Refused(DownloadCancelled):
    """Stops yt-dlp from inside its match filter or a progress hook."""


class _Guard:
    """Stops yt-dlp and remembers why.

    yt-dlp re-raises a cancelled match filter as a fresh exception without our message, so
    the reason lives here, not on the exception.
    """

    def __init__(self) -> None:
        self.refusal: AdrefError | None = None

    def stop(self, error: AdrefError) -> NoReturn:
        self.refusal = error
        raise _Refused(error.one_line())

    def note(self, error: AdrefError) -> None:
        """Remember a refusal made outside yt-dlp's control flow (the first one wins)."""
        if self.refusal is None:
            self.refusal = error


class _Log:
    """yt-dlp's logger interface, routed to Python logging with credentials masked.

    yt-dlp reports an error and then raises it; the raise becomes an adref error with advice,
    so its own error lines are kept at debug level instead of being logged twice.
    """

    def __init__(self) -> None:
        self.filesize_abort = False
        self.announced_size: int | None = None

    def debug(self, msg: str) -> None:
        if "larger than max-filesize" in msg:
            self.filesize_abort = True
            m = re.search(r"\((\d+) bytes >", msg)
            self.announced_size = int(m.group(1)) if m else None
        log.debug(redact_text(msg))

    def info(self, msg: str) -> None:
        log.info(redact_text(msg))

    def warning(self, msg: str) -> None:
        level = logging.INFO if "Falling back on generic" in msg else logging.WARNING
        log.log(level, redact_text(msg))

    def error(self, msg: str) -> None:
        log.debug(redact_text(msg))


def ffmpeg_location() -> str | None:
    """imageio-ffmpeg's bundled binary, so merging audio and video needs no system ffmpeg."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return None
    return exe if exe and Path(exe).is_file() else None


def ytdl_options(settings: Settings, ffmpeg: str | None) -> dict[str, Any]:
    """The options adref runs yt-dlp with; an ffmpeg binary allows merging separate streams.

    Without ffmpeg only single-file formats are chosen (a site's progressive MP4, or video
    alone), since yt-dlp cannot join a video stream to an audio stream by itself.
    """
    opts: dict[str, Any] = {
        "quiet": True,
        "no_warnings": False,
        "noprogress": True,
        "logger": _Log(),
        "color": "no_color",
        "consoletitle": False,
        "cachedir": False,
        "noplaylist": True,
        "retries": 1,
        "fragment_retries": 1,
        "extractor_retries": 1,
        "file_access_retries": 1,
        "skip_unavailable_fragments": False,
        "socket_timeout": settings.download_timeout_s,
        "max_filesize": max_filesize_bytes(settings),
        "format_sort": _FORMAT_SORT,
        "format": _FORMAT_MERGE if ffmpeg else _FORMAT_SINGLE,
        "updatetime": False,
        # Every byte through yt-dlp's own HTTP clients, in this thread, where netguard sees it:
        # no download threads, no external downloaders, HLS read natively.
        "concurrent_fragment_downloads": 1,
        "external_downloader": {"default": "native"},
        "hls_prefer_native": True,
    }
    if not settings.allow_private_urls:
        # A proxy would resolve and connect to hosts netguard cannot see; ffmpeg, which yt-dlp
        # still hands a few odd streams to, would fetch them itself.
        opts["proxy"] = ""
        opts["external_downloader_args"] = {"ffmpeg_i": ["-protocol_whitelist", "file,crypto,data"]}
    if ffmpeg:
        opts["ffmpeg_location"] = ffmpeg
        opts["merge_output_format"] = "mp4"
    return opts


def _limits_filter(settings: Settings, url: str, guard: _Guard) -> Callable[..., str | None]:
    """yt-dlp's match_filter: refuse live streams and known-too-long videos before any bytes."""

    def refuse(info: dict[str, Any], *, incomplete: bool = False) -> str | None:
        problem = _info_problem(info, settings, url)
        if problem is not None:
            guard.stop(problem)
        return None

    return refuse


def _info_problem(info: dict[str, Any], settings: Settings, url: str) -> AdrefError | None:
    shown = redact_url(url)
    status = info.get("live_status")
    if info.get("is_live") or status == "is_live":
        return InputError(
            f"cannot analyse {shown}",
            "it is a live stream, which has no end to download",
            "Give the recording once the stream has ended",
        )
    if status == "is_upcoming":
        return InputError(
            f"cannot analyse {shown}",
            "the video has not been published yet",
            "Try again once it has been released",
        )
    try:
        check_duration(_number(info.get("duration")), settings, f"the video at {shown}")
    except LimitExceeded as exc:
        return exc
    return None


def extract_info(url: str, settings: Settings) -> dict[str, Any]:
    """yt-dlp's info dict for one video, without downloading it."""
    guard = _Guard()
    opts = ytdl_options(settings, ffmpeg_location())
    # A playlist is refused below: list at most a page of entries, and visit none of them.
    opts["extract_flat"] = "in_playlist"
    opts["playlistend"] = _PLAYLIST_PEEK
    opts["match_filter"] = _limits_filter(settings, url, guard)
    info = _run(url, settings, opts, guard, download=False)
    if info.get("_type") in ("playlist", "multi_video"):
        count = len(list(info.get("entries") or []))
        shown = f"{count}+" if count >= _PLAYLIST_PEEK else str(count)
        raise InputError(
            f"cannot analyse {redact_url(url)}",
            f"it holds {shown} videos (a playlist, a channel or a page of videos), not one",
            "Give one video's address; to ingest a playlist or channel, add it to the watch list and run adref ingest",
        )
    return info


def list_videos(url: str, settings: Settings, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` entries of a playlist, channel or feed, in the site's order (newest
    first where the site lists that way), each as yt-dlp's flat entry: nothing inside is visited.
    A single video is its own one entry."""
    guard = _Guard()
    opts = ytdl_options(settings, ffmpeg_location())
    opts["extract_flat"] = "in_playlist"
    opts["playlistend"] = limit
    info = _run(url, settings, opts, guard, download=False)
    if info.get("_type") in ("playlist", "multi_video"):
        return [e for e in info.get("entries") or [] if isinstance(e, dict)][:limit]
    return [info]


def download_url(
    resolved: ResolvedSource,
    dest_dir: Path,
    settings: Settings,
    progress: Callable[[float], None] | None = None,
) -> DownloadedVideo:
    """Download, check limits, hash and probe; return the finished file in ``dest_dir``."""
    url = resolved.source
    shown = redact_url(url)
    dest_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".adref-download-", dir=dest_dir))
    try:
        guard = _Guard()
        tracker = _Progress(progress, guard, settings, shown)
        opts = ytdl_options(settings, ffmpeg_location())
        logger: _Log = opts["logger"]
        opts["outtmpl"] = {"default": str(work / "video.%(ext)s")}
        opts["progress_hooks"] = [tracker.hook]
        opts["match_filter"] = _limits_filter(settings, url, guard)
        info = _run(url, settings, opts, guard, download=True)
        produced = _produced_file(info, work)
        if produced is None:
            if logger.filesize_abort:
                announced = logger.announced_size or _number_int(info.get("filesize"))
                raise too_large(announced, settings, f"the video at {shown}")
            raise InputError(
                f"could not download {shown}",
                "yt-dlp finished without producing a video file",
                "Check the address in a browser, then try again",
            )
        size = produced.stat().st_size
        check_filesize(size, settings, f"the video at {shown}")
        try:
            stream = probe_video(produced)
        except InputError as exc:
            raise InputError(
                f"the file downloaded from {shown} is unusable", exc.why, exc.hint
            ) from None
        check_duration(stream.duration_s, settings, f"the video at {shown}")
        content_hash = sha256_file(produced)
        video_id = resolved.video_id or site_video_id(info) or content_video_id(content_hash)
        meta = apply_stream(_merged_meta(resolved, info), stream, video_id)
        final = dest_dir / f"{_safe_name(video_id)}{produced.suffix.lower()}"
        os.replace(produced, final)
        if progress is not None:
            progress(1.0)
        return DownloadedVideo(
            meta=meta,
            path=final.resolve(),
            content_hash=content_hash,
            size_bytes=size,
            bytes_downloaded=tracker.total_bytes or size,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(
    url: str, settings: Settings, opts: dict[str, Any], guard: _Guard, *, download: bool
) -> dict[str, Any]:
    try:
        with _network_policy(url, settings, guard), yt_dlp.YoutubeDL(opts) as ydl:
            info = ydl.extract_info(url, download=download)
    except (yt_dlp.utils.YoutubeDLError, OSError, UnicodeError) as exc:  # a host IDNA refuses
        if guard.refusal is not None:
            raise guard.refusal from None
        raise classify_ytdlp_error(exc, url, settings.download_timeout_s) from None
    if guard.refusal is not None:
        raise guard.refusal  # a refused request yt-dlp went on without (an optional page)
    if not isinstance(info, dict):
        raise InputError(
            f"could not download {redact_url(url)}",
            "yt-dlp found nothing to download there",
            "Check the address in a browser",
        )
    return info


def _network_policy(url: str, settings: Settings, guard: _Guard) -> AbstractContextManager[None]:
    """Public addresses only, unless ADREF_ALLOW_PRIVATE_URLS; a refusal is kept on ``guard``."""
    if settings.allow_private_urls:
        return nullcontext()
    shown = redact_url(url)
    asked = urlsplit(url).hostname

    def refused(host: str, ip: netguard.IPAddress) -> None:
        guard.note(netguard.refusal(shown, ip, direct=host.strip("[]").lower() == asked))

    return netguard.public_only(refused)


def _produced_file(info: dict[str, Any], work: Path) -> Path | None:
    for item in reversed(info.get("requested_downloads") or []):
        path = item.get("filepath")
        if path and Path(path).is_file():
            return Path(path)
    done = [
        p
        for p in work.iterdir()
        if p.is_file() and not p.name.endswith(_PARTIAL) and not _FORMAT_PIECE.search(p.name)
    ]
    return max(done, key=lambda p: p.stat().st_size) if done else None


def _merged_meta(resolved: ResolvedSource, info: dict[str, Any]) -> VideoMeta:
    """Fresh info from the download, falling back on what resolve saw for missing fields."""
    fresh = meta_from_info(info, resolved.source)
    before = resolved.meta.model_dump(exclude_unset=False)
    update = {k: v for k, v in before.items() if getattr(fresh, k) in (None, "", [], {})}
    return fresh.model_copy(update=update)


def _safe_name(video_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in video_id)


def _number(raw: Any) -> float | None:
    return float(raw) if isinstance(raw, int | float) and raw > 0 else None


def _number_int(raw: Any) -> int | None:
    return int(raw) if isinstance(raw, int | float) and raw > 0 else None


class _Progress:
    """Reports a 0-1 fraction across the pieces of a download and enforces the size limit.

    yt-dlp refuses a file whose announced length is over ``max_filesize``; a server that
    announces nothing (chunked) or a stream of fragments is stopped here as bytes arrive.
    """

    def __init__(
        self,
        progress: Callable[[float], None] | None,
        guard: _Guard,
        settings: Settings,
        shown: str,
    ) -> None:
        self.progress = progress
        self.guard = guard
        self.limit = max_filesize_bytes(settings)
        self.settings = settings
        self.shown = shown
        self.by_file: dict[str, int] = {}
        self.last = -1.0

    @property
    def total_bytes(self) -> int:
        return sum(self.by_file.values())

    def hook(self, status: dict[str, Any]) -> None:
        name = str(status.get("tmpfilename") or status.get("filename") or "")
        name = name.removesuffix(".part")
        done = int(status.get("downloaded_bytes") or 0)
        self.by_file[name] = done
        if self.total_bytes > self.limit:
            what = f"the video at {self.shown}"
            self.guard.stop(too_large(self.total_bytes, self.settings, what))
        if self.progress is None:
            return
        fraction = self._fraction(status, done)
        if fraction - self.last >= 0.01 or status.get("status") == "finished":
            self.last = fraction
            self.progress(fraction)

    def _fraction(self, status: dict[str, Any], done: int) -> float:
        total = status.get("total_bytes") or status.get("total_bytes_estimate") or 0
        piece = min(1.0, done / total) if total else 0.0
        if status.get("status") == "finished":
            piece = 1.0
        info = status.get("info_dict") or {}
        parts = [f.get("format_id") for f in info.get("requested_formats") or []]
        index = parts.index(info.get("format_id")) if info.get("format_id") in parts else 0
        count = max(1, len(parts))
        return min(0.99, (index + piece) / count)
