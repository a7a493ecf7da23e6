"""From watch-list entries to videos: a playlist's newest entries, a folder's settled files.

Each entry is expanded on its own: one that fails (an unknown site, a private playlist, a
missing folder) becomes a bad entry with a one-line reason, and the others still count.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from adref.errors import AdrefError, InputError
from adref.ingest.watchlist import BadEntry, Source, WatchList
from adref.settings import Settings
from adref.sources.hash_memo import HashMemo, hash_memo
from adref.sources.hashing import content_video_id
from adref.sources.local import (
    VIDEO_SUFFIXES,
    file_stamp,
    printable_path,
    require_inside,
    utf8_path,
)
from adref.sources.meta import site_video_id
from adref.sources.siteids import offline_video_id
from adref.sources.urls import check_url, looks_like_url, redact_url

log = logging.getLogger(__name__)

__all__ = ["Expansion", "Found", "Skip", "expand_sources"]

Stamp = tuple[int, int]


@dataclass(frozen=True)
class Found:
    """One video a source lists: what an analysis run would be given, and its id if known."""

    source: Source
    target: str  # a URL, or a file's absolute path
    kind: Literal["url", "file"]
    video_id: str | None  # None: known only once downloaded (yt-dlp's generic extractor)
    title: str | None = None


@dataclass(frozen=True)
class Skip:
    """A video seen but not taken, and why."""

    source: Source
    target: str
    reason: str
    video_id: str | None = None


@dataclass
class Expansion:
    found: list[Found] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    bad: list[BadEntry] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


def expand_sources(
    watch: WatchList,
    settings: Settings,
    *,
    inside: list[Path] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Expansion:
    """Every source's videos, newest first within a source, in the watch list's order.

    ``inside``: folders a deployment run may read (a run started on a worker is refused a file
    elsewhere, so such a folder is a bad entry here). Folders are looked at twice, ``sleep``
    apart (``ADREF_INGEST_SETTLE_S``): a file still growing is left for the next ingest.
    """
    out = Expansion(bad=list(watch.bad), sources=list(watch.sources))
    first_looks: dict[Source, list[tuple[Path, Stamp]]] = {}
    for source in watch.sources:
        try:
            if source.kind == "url":
                found, skipped = _expand_url(source, settings)
                out.found += found
                out.skipped += skipped
            else:
                first_looks[source] = _look(source, inside)
        except AdrefError as exc:
            out.bad.append(BadEntry(source.origin, source.index, exc.one_line().rstrip(".")))
        except Exception as exc:  # one entry never costs the others their run
            log.debug("entry %s of %s failed", source.index, source.origin, exc_info=True)
            why = f"unexpected {type(exc).__name__}: {exc}"
            out.bad.append(BadEntry(source.origin, source.index, why))
    if any(first_looks.values()) and settings.ingest_settle_s > 0:
        sleep(settings.ingest_settle_s)
    memo = hash_memo(settings)
    for source, files in first_looks.items():
        found, skipped = _settled(source, files, memo)
        out.found += found
        out.skipped += skipped
    rank = {origin: n for n, origin in enumerate(watch.origins)}
    out.bad.sort(key=lambda b: (rank.get(b.origin, len(rank)), b.index or 0))  # as it reads
    return out


def _per_source(source: Source, settings: Settings) -> int:
    return source.max_per_source or settings.ingest_max_per_source


# --- URLs ----------------------------------------------------------------------------------


def _expand_url(source: Source, settings: Settings) -> tuple[list[Found], list[Skip]]:
    url = check_url(source.target, allow_private=settings.allow_private_urls)
    video_id = offline_video_id(url)
    if video_id is not None:  # one video of a known site: no need to ask the site
        return [Found(source, url, "url", video_id)], []
    from adref.sources import ytdlp  # lazy: yt-dlp takes over a second to import

    entries = ytdlp.list_videos(url, settings, _per_source(source, settings))
    if len(entries) == 1 and entries[0].get("_type") in (None, "video"):
        info = entries[0]
        return [Found(source, url, "url", site_video_id(info), _title(info))], []
    found: list[Found] = []
    skipped: list[Skip] = []
    for entry in entries:
        address = _entry_url(entry)
        if address is None:
            skipped.append(Skip(source, str(entry.get("id") or "?"), "the entry has no address"))
            continue
        try:
            address = check_url(address, allow_private=settings.allow_private_urls)
        except InputError as exc:
            skipped.append(Skip(source, redact_url(address), exc.one_line().rstrip(".")))
            continue
        video_id = site_video_id(entry) or offline_video_id(address, single_only=False)
        found.append(Found(source, address, "url", video_id, _title(entry)))
    return found, skipped


def _entry_url(entry: dict[str, Any]) -> str | None:
    from yt_dlp.utils import unsmuggle_url  # lazy: with the rest of yt-dlp

    for key in ("url", "webpage_url", "original_url"):
        raw = entry.get(key)
        if isinstance(raw, str) and looks_like_url(raw):
            return str(unsmuggle_url(raw)[0])
    return None


def _title(info: dict[str, Any]) -> str | None:
    title = info.get("title")
    return str(title).strip() or None if title is not None else None


# --- folders -------------------------------------------------------------------------------


def _look(source: Source, inside: list[Path] | None) -> list[tuple[Path, Stamp]]:
    """Video files under a folder (or the one file named), newest first, with their stamps."""
    path = Path(source.target)
    if not path.exists():
        raise InputError(f"no folder {path}", "it does not exist")
    if inside is not None:
        require_inside(path, inside)
    if path.is_file():
        return [(path.resolve(), file_stamp(path))]
    if not path.is_dir():
        raise InputError(f"cannot read {path}", "it is neither a folder nor a file")
    try:
        files = list(_video_files(path.resolve()))
    except OSError as exc:
        raise InputError(f"cannot read the folder {path}", exc.strerror or str(exc)) from None
    looks = [(f, file_stamp(f)) for f in files]
    return sorted(looks, key=lambda look: (-look[1][1], str(look[0])))


def _video_files(root: Path) -> Iterable[Path]:
    def fail(exc: OSError) -> None:
        raise exc

    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            path = Path(dirpath) / name
            if name.startswith(".") or path.suffix.lower() not in VIDEO_SUFFIXES:
                continue
            real = path.resolve()
            if real.is_relative_to(root) and real.is_file():
                yield real


def _settled(
    source: Source, files: list[tuple[Path, Stamp]], memo: HashMemo
) -> tuple[list[Found], list[Skip]]:
    found: list[Found] = []
    skipped: list[Skip] = []
    for path, before in files:
        if not utf8_path(path):
            why = "its name is not valid UTF-8: rename it to analyse it"
            skipped.append(Skip(source, printable_path(path), why))
            continue
        try:
            now = file_stamp(path)
        except OSError:
            skipped.append(Skip(source, str(path), "gone since the first look"))
            continue
        if now != before:
            skipped.append(Skip(source, str(path), "still being written (its size changed)"))
            continue
        if now[0] == 0:
            skipped.append(Skip(source, str(path), "empty (a copy not started yet?)"))
            continue
        video_id = content_video_id(memo.sha256(path))
        if file_stamp(path) != now:
            skipped.append(Skip(source, str(path), "still being written (its size changed)"))
            continue
        found.append(Found(source, str(path), "file", video_id, path.stem))
    return found, skipped
