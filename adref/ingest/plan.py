"""Which of the videos found become new runs: not stored, not queued, not twice, within caps.

Known and queued videos are matched by ``video_id`` when it is known before downloading, and
by their source (a normalised URL, a file's path) otherwise: yt-dlp's generic extractor gives a
video its id only once downloaded, and the analysis run's own cache catches the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from adref.errors import InputError
from adref.ingest.expand import Expansion, Found, Skip
from adref.settings import Settings
from adref.sources.local import check_file
from adref.sources.siteids import offline_video_id
from adref.sources.urls import looks_like_url, redact_url

__all__ = ["Plan", "Queued", "not_a_video", "plan_runs", "queued_run", "source_key"]

VIDEO_TAG = "video:"  # tag prefix of the runs ingest starts: their video id, matched cheaply


@dataclass(frozen=True)
class Queued:
    """An analysis run scheduled, pending or running: what it will store."""

    name: str
    video_ids: frozenset[str]
    source_key: str | None


@dataclass
class Plan:
    new: list[Found] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def source_key(source: str) -> str:
    """One spelling per source: a URL without its fragment, scheme and host in lower case, no
    default port; a path absolute with links resolved."""
    text = source.strip()
    if not looks_like_url(text):
        return str(Path(text).expanduser().resolve())
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def not_a_video(settings: Settings) -> Callable[[Found], str | None]:
    """For ``plan_runs``: why a watched file would fail its run (not a video, damaged, too
    long). Such a file stays in its folder, so without this look every ingest would start a
    run that fails, and alert, again; it is skipped, and said, until it changes."""

    def why(found: Found) -> str | None:
        if found.kind != "file":
            return None
        try:
            check_file(Path(found.target), settings)
        except InputError as exc:
            return f"not taken: {exc.one_line().rstrip('.')}"
        return None

    return why


def queued_run(name: str, source: object, tags: Iterable[str]) -> Queued:
    """What a queued run will store, from its ``source`` parameter and its tags, offline."""
    ids = {t.removeprefix(VIDEO_TAG) for t in tags if t.startswith(VIDEO_TAG)}
    key = None
    if isinstance(source, str) and source.strip():
        key = source_key(source)
        if looks_like_url(source) and (vid := offline_video_id(source.strip())):
            ids.add(vid)
    return Queued(name=name, video_ids=frozenset(ids), source_key=key)


def plan_runs(
    expansion: Expansion,
    *,
    known_ids: set[str],
    known_sources: set[str],
    queued: list[Queued],
    max_new: int,
    max_per_source: int,
    refused: Callable[[Found], str | None] = lambda found: None,
) -> Plan:
    """The new videos in watch-list order (newest first within a source), and every other
    video with why it was left: stored, queued, listed twice, over a cap, or ``refused`` (a
    would-be run's video looked at first: see ``not_a_video``)."""
    plan = Plan(skipped=list(expansion.skipped))
    queued_ids = {vid: q.name for q in queued for vid in q.video_ids}
    queued_keys = {q.source_key: q.name for q in queued if q.source_key}
    taken_ids: dict[str, Found] = {}
    taken_keys: dict[str, Found] = {}
    per_source: Counter[object] = Counter()
    for item in expansion.found:
        key = source_key(item.target)
        vid = item.video_id
        reason: str | None = None
        if (vid is not None and vid in known_ids) or key in known_sources:
            reason = "already in the warehouse"
        elif (vid is not None and vid in queued_ids) or key in queued_keys:
            name = queued_ids.get(vid or "") or queued_keys.get(key)
            reason = f"already queued or running (flow run {name})"
        elif (twin := taken_ids.get(vid or "") or taken_keys.get(key)) is not None:
            reason = _twin(twin, same_address=taken_keys.get(key) is twin)
        elif per_source[item.source] >= (item.source.max_per_source or max_per_source):
            limit = item.source.max_per_source or max_per_source
            reason = f"over this source's {limit} new videos per ingest; next ingest"
        elif len(plan.new) >= max_new:
            reason = f"over {max_new} new runs per ingest (ADREF_INGEST_MAX_NEW_RUNS); next ingest"
        if reason is None:
            reason = refused(item)
        if reason is not None:
            plan.skipped.append(Skip(item.source, item.target, reason, vid))
            continue
        plan.new.append(item)
        per_source[item.source] += 1
        taken_keys[key] = item
        if vid is not None:
            taken_ids[vid] = item
    return plan


def _twin(taken: Found, same_address: bool) -> str:
    """Why a video already taken is skipped: the same address again, or the same video found
    by another (a file's copy, a short link): the other one is named, for the operator to prune."""
    where = f"entry {taken.source.index} of {taken.source.origin}"
    if same_address:
        return f"listed twice (also {where})"
    return f"the same video as {redact_url(taken.target)} ({where})"
