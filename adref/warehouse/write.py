"""Writes: one transaction per video across all its tables, retried whole on a commit conflict.

A re-write of a video deletes its rows (by ``video_id``; an analysis's by ``analysis_id``) and
inserts the new ones in the same transaction, so readers see the old version or the new one and
the table never holds both. Concurrent writers are optimistic: DuckLake detects conflicting
commits, SQLite reports a locked catalog, and either way the whole transaction is run again after
a short jittered backoff. What people added to a video (its first ingestion time, user tags,
owner, a kept media copy) survives a re-run of the pipeline.

A video seen at several sources (two URLs, a file) is described in ``videos`` as first stored,
its gaps filled by later sightings (see ``described``), so its title never changes under a
user's feet; what each source said is in ``video_sources``, one row per source.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import duckdb
import pyarrow as pa

from adref import tags
from adref.analysis import Analysis
from adref.errors import TransientError, WarehouseError, interruption
from adref.models import ShotText, SpeechResult, VideoMeta, utcnow
from adref.warehouse import schema
from adref.warehouse.engine import ALIAS, file_lock, sql_str
from adref.warehouse.records import RunRecord, Sighting, VideoWrite, as_utc


class Warehouse(Protocol):
    """What a write needs of ``adref.warehouse.catalog.Warehouse``. Named by shape, not imported:
    the catalog calls these functions (``Warehouse.write_video`` and the rest), so it sits
    above this module."""

    local_lock: bool

    @property
    def write_lock_path(self) -> Path: ...

    def exists(self) -> bool: ...

    def init(self) -> None: ...

    def connect(
        self, read_only: bool = True, *, fresh: bool = False
    ) -> duckdb.DuckDBPyConnection: ...

    def failure(self, exc: duckdb.Error, what: str) -> WarehouseError: ...


T = TypeVar("T")
MAX_ATTEMPTS = 40
BACKOFF_S = (0.02, 1.0)  # first delay, longest delay (each attempt doubles, then jitters)
LOCK_WAIT_S = 60.0
_BATCH = "_adref_batch"
_RETRY_HINTS = ("conflict", "database is locked", "sqlite_busy")
# The columns of ``videos`` that say what a video is (the rest are measured or added by people).
DESCRIBED = (
    "source_url",
    "webpage_url",
    "title",
    "description",
    "uploader",
    "upload_date",
    "extractor",
    "view_count",
    "site_tags",
    "metadata",
)


def is_conflict(exc: duckdb.Error) -> bool:
    """A commit another writer got in before: DuckLake's conflict check, or SQLite refusing a
    write from a snapshot that is no longer the latest ("database is locked")."""
    text = str(exc).lower()
    return any(hint in text for hint in _RETRY_HINTS)


def run_in_transaction(
    wh: Warehouse, fn: Callable[[duckdb.DuckDBPyConnection], T], message: str
) -> T:
    con = wh.connect(read_only=False)
    try:
        for attempt in itertools.count(1):
            try:
                local = file_lock(wh.write_lock_path, LOCK_WAIT_S)
                with local if wh.local_lock else nullcontext():
                    con.execute("BEGIN TRANSACTION")
                    con.execute(f"CALL {ALIAS}.set_commit_message('adref', {sql_str(message)})")
                    result = fn(con)
                    con.execute("COMMIT")
                return result
            except duckdb.Error as exc:
                _rollback(con)
                if not is_conflict(exc):
                    raise wh.failure(exc, f"warehouse write failed ({message})") from exc
                if attempt >= MAX_ATTEMPTS:
                    raise TransientError(
                        f"warehouse busy ({message})",
                        f"{MAX_ATTEMPTS} commits conflicted with other writers",
                        "retry later",
                    ) from exc
                delay = min(BACKOFF_S[1], BACKOFF_S[0] * 2 ** (attempt - 1))
                time.sleep(delay * random.uniform(0.5, 1.5))
            except BaseException as exc:
                _rollback(con)
                stop = interruption(exc)
                if stop is not None and stop is not exc:
                    raise stop from None
                raise
        raise AssertionError("itertools.count never ends")
    finally:
        con.close()


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # nothing was open
        con.execute("ROLLBACK")


def _table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema.arrow_schema(name))


def _replace(con: duckdb.DuckDBPyConnection, name: str, key: str, value: str, t: pa.Table) -> None:
    con.execute(f"DELETE FROM {name} WHERE {key} = ?", [value])
    if t.num_rows:
        _insert(con, name, t)


def _merged(first: list[str], second: list[str]) -> list[str]:
    return tags.unique([*first, *second])


def _metadata(value: Any) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else value or {})


def described(m: VideoMeta, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The ``DESCRIBED`` columns: the stored video's, each one it lacks taken from ``m``.

    The first sighting names the video for good; a later one only fills what it left empty (a
    URL seen after a file gives ``source_url``, the site's description and uploader), so the
    stored title is the same whichever source a run came from.
    """
    new: dict[str, Any] = {
        "source_url": m.source_url,
        "webpage_url": m.webpage_url,
        "title": m.title,
        "description": m.description,
        "uploader": m.uploader,
        "upload_date": m.upload_date,
        "extractor": m.extractor,
        "view_count": m.view_count,
        "site_tags": list(m.site_tags),
    }
    prev = previous or {}
    row = {k: v if prev.get(k) in (None, []) else prev[k] for k, v in new.items()}
    row["metadata"] = {**m.metadata, **_metadata(prev.get("metadata"))}
    return row


def video_row(w: VideoWrite, previous: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    m, s = w.meta, w.stream
    prev = previous or {}
    about = described(m, previous)
    return {
        "video_id": m.video_id,
        **{k: v for k, v in about.items() if k != "metadata"},
        "duration_s": s.duration_s,
        "width": s.width,
        "height": s.height,
        "fps": s.fps,
        "aspect": s.aspect,
        "codec": s.codec,
        "frame_count": s.frame_count,
        "rotation": s.rotation,
        "variable_frame_rate": s.variable_frame_rate,
        "ingested_at": prev.get("ingested_at") or now,
        "updated_at": now,
        "content_hash": w.content_hash,
        "user_tags": _merged(list(prev.get("user_tags") or []), w.user_tags),
        "owner": w.owner or prev.get("owner"),
        "media_path": w.media_path or prev.get("media_path"),
        "shot_count": len(w.shots),
        "group_count": len(w.grouping.groups),
        "granularity": w.grouping.granularity,
        "short_form": w.grouping.short_form,
        "metadata": json.dumps(about["metadata"], ensure_ascii=False, default=str),
        **(_listened(w.transcript) if w.transcript else _kept_listened(prev)),
    }


def _listened(heard: SpeechResult) -> dict[str, Any]:
    """Whether and by what the video's sound was listened to: what tells an empty transcript of a
    silent or music-only ad from one no engine ever heard."""
    return {"speech": heard.status, "speech_engine": f"{heard.provider} {heard.model}".strip()}


def _kept_listened(previous: dict[str, Any]) -> dict[str, Any]:
    return {"speech": previous.get("speech"), "speech_engine": previous.get("speech_engine")}


def shot_rows(w: VideoWrite) -> list[dict[str, Any]]:
    return [
        {
            **s.model_dump(exclude={"keyframe_jpeg", "palette"}),
            "video_id": w.meta.video_id,
            "duration_s": s.duration_s,
            "keyframe_path": w.keyframe_paths.get(s.shot_index),
            "palette": [p.model_dump() for p in s.palette],
        }
        for s in w.shots
    ]


def text_rows(w: VideoWrite) -> list[dict[str, Any]]:
    return [{**t.model_dump(), "video_id": w.meta.video_id, "box": list(t.box)} for t in w.texts]


def transcript_rows(w: VideoWrite) -> list[dict[str, Any]]:
    return _transcript_rows(w.meta.video_id, w.transcript) if w.transcript else []


def _transcript_rows(video_id: str, t: SpeechResult) -> list[dict[str, Any]]:
    shared = {"video_id": video_id, "language": t.language}
    shared |= {"provider": t.provider, "model": t.model}
    return [{**shared, **s.model_dump()} for s in t.segments]


def group_rows(w: VideoWrite) -> list[dict[str, Any]]:
    analysed = set(w.grouping.analysis_groups)
    return [
        {
            **g.model_dump(),
            "video_id": w.meta.video_id,
            "keyframe_path": w.keyframe_paths.get(g.representative_shot),
            "analysed": g.group_index in analysed,
        }
        for g in w.grouping.groups
    ]


def analysis_rows(w: VideoWrite) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return _analysis_rows(w.analysis)


def _analysis_rows(a: Analysis) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    row = a.model_dump(exclude={"groups", "features"})
    row["features"] = json.dumps(a.features.model_dump(), ensure_ascii=False)
    row["created_at"] = as_utc(a.created_at)
    groups = [
        {**g.model_dump(), "analysis_id": a.analysis_id, "video_id": a.video_id} for g in a.groups
    ]
    return [row], groups


def write_video(wh: Warehouse, w: VideoWrite) -> dict[str, Any]:
    """Returns the ``videos`` row as written: the stored title may be another source's."""
    if not wh.exists():
        wh.init()
    vid, aid = w.meta.video_id, w.analysis.analysis_id
    shots = _table("shots", shot_rows(w))
    texts = _table("shot_texts", text_rows(w))
    transcript = _table("transcripts", transcript_rows(w))
    groups = _table("scene_groups", group_rows(w))
    analysis, group_analyses = (
        _table(n, r) for n, r in zip(("analyses", "group_analyses"), analysis_rows(w), strict=True)
    )

    def txn(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        previous = _stored_video(
            con, vid, ("ingested_at", "user_tags", "owner", "media_path", "speech", "speech_engine")
        )
        row = video_row(w, previous, utcnow())
        tables = [
            ("videos", "video_id", vid, _table("videos", [row])),
            ("shots", "video_id", vid, shots),
            ("shot_texts", "video_id", vid, texts),
            ("scene_groups", "video_id", vid, groups),
            ("group_analyses", "analysis_id", aid, group_analyses),
            ("analyses", "analysis_id", aid, analysis),
        ]
        if w.transcript is not None:
            tables.append(("transcripts", "video_id", vid, transcript))
        pinned = _pinned_moments(con, vid) if previous is not None else {}
        for name, key, value, t in tables:
            if previous is not None:
                _replace(con, name, key, value, t)
            elif t.num_rows:
                # A video with no ``videos`` row has no row in the others either (a write or a
                # delete covers all its tables in one transaction), so a new video skips the
                # deletes: each looks at every file of its table (~70 ms at 1,000 files).
                _insert(con, name, t)
        if pinned:
            _repin(con, vid, pinned, [(x.shot_index, x.start_s, x.end_s) for x in w.shots])
        return row

    return run_in_transaction(wh, txn, f"video {vid} analysis {aid}")


def _pinned_moments(con: duckdb.DuckDBPyConnection, video_id: str) -> dict[int, float]:
    """The middle of each shot of this video some moodboard holds, by shot index."""
    rows = con.execute(
        "SELECT DISTINCT s.shot_index, (s.start_s + s.end_s) / 2 FROM moodboard_items i "
        "JOIN shots s ON s.video_id = i.video_id AND s.shot_index = i.shot_index "
        "WHERE i.video_id = ?",
        [video_id],
    ).fetchall()
    return {int(index): float(middle) for index, middle in rows}


def _repin(
    con: duckdb.DuckDBPyConnection,
    video_id: str,
    pinned: dict[int, float],
    shots: list[tuple[int, float, float]],
) -> None:
    """Keep boards on the moments they hold when the video's shots change (detected again with
    other settings): each item moves to the shot now holding its old shot's middle. Shot
    numbers alone would point at other pictures, or at shots that no longer exist; two items of
    one board that land on one shot become one, and positions stay 0..n-1."""
    if not shots:
        return

    def now(index: int) -> int:
        middle = pinned.get(index)
        if middle is None:
            return index
        inside = [i for i, start, end in shots if start <= middle < end]
        return inside[0] if inside else min(shots, key=lambda s: abs(s[1] - middle))[0]

    cur = con.execute(
        "SELECT moodboard_id, video_id, shot_index, note, position, added_at FROM moodboard_items "
        "WHERE moodboard_id IN (SELECT moodboard_id FROM moodboard_items WHERE video_id = ?) "
        "ORDER BY moodboard_id, position, added_at",
        [video_id],
    )
    names = [d[0] for d in cur.description or []]
    items = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    moved = [
        {**it, "shot_index": now(it["shot_index"])} if it["video_id"] == video_id else it
        for it in items
    ]
    if moved == items:
        return
    kept: list[dict[str, Any]] = []
    seen: set[tuple[str, str, int]] = set()
    for it in moved:
        key = (it["moodboard_id"], it["video_id"], it["shot_index"])
        if key not in seen:
            seen.add(key)
            kept.append(it)
    boards = sorted({it["moodboard_id"] for it in items})
    con.execute("DELETE FROM moodboard_items WHERE list_contains(?, moodboard_id)", [boards])
    numbered = []
    for board in boards:
        mine = [it for it in kept if it["moodboard_id"] == board]
        numbered += [{**it, "position": n} for n, it in enumerate(mine)]
    insert_rows(con, "moodboard_items", numbered)


def _stored_video(
    con: duckdb.DuckDBPyConnection, video_id: str, columns: tuple[str, ...] = ()
) -> dict[str, Any] | None:
    cur = con.execute(
        f"SELECT {', '.join((*columns, *DESCRIBED))} FROM videos WHERE video_id = ? "
        "ORDER BY ingested_at LIMIT 1",
        [video_id],
    )
    found = cur.fetchone()
    return dict(zip([d[0] for d in cur.description or []], found, strict=True)) if found else None


def append_run(wh: Warehouse, r: RunRecord, sighting: Sighting | None = None) -> None:
    """Append one run, and where it saw its video; the same run_id again changes nothing."""
    if not wh.exists():
        wh.init()
    batch = _table("runs", [r.model_dump()])

    def txn(con: duckdb.DuckDBPyConnection) -> None:
        if con.execute("SELECT 1 FROM runs WHERE run_id = ?", [r.run_id]).fetchone():
            return
        _insert(con, "runs", batch)
        if sighting is not None:
            record_sighting(con, sighting, r.finished_at or r.started_at)

    run_in_transaction(wh, txn, f"run {r.run_id}")


def record_sighting(con: duckdb.DuckDBPyConnection, s: Sighting, seen_at: datetime) -> None:
    """One row per (video, source): a known source's last look and count move on; a new one
    gets its row and fills what the stored video still lacks.

    Call it inside a transaction that runs once per run (``append_run``): a second call for the
    same run would count the run twice. A source seen before is one UPDATE, the whole cost on a
    warm re-run; its first look already filled the video's gaps.
    """
    m, at = s.meta, as_utc(seen_at)
    said: dict[str, Any] = {
        "webpage_url": m.webpage_url,
        "extractor": m.extractor,
        "title": m.title,
        "description": m.description,
        "uploader": m.uploader,
    }
    sets = ", ".join(f"{k} = ${k}" for k in said)
    (updated,) = con.execute(
        f"UPDATE video_sources SET {sets}, last_seen_at = $at, seen_count = seen_count + 1 "
        "WHERE video_id = $video_id AND source = $source",
        {**said, "at": at, "video_id": m.video_id, "source": s.source},
    ).fetchone() or (0,)
    if updated:
        return
    row = {"video_id": m.video_id, "source": s.source, "kind": s.kind, **said}
    row |= {"first_seen_at": at, "last_seen_at": at, "seen_count": 1}
    _insert(con, "video_sources", _table("video_sources", [row]))
    _fill_gaps(con, m, at)


def _fill_gaps(con: duckdb.DuckDBPyConnection, m: VideoMeta, at: datetime) -> None:
    previous = _stored_video(con, m.video_id)
    if previous is None:
        return
    before = {**previous, "metadata": _metadata(previous["metadata"])}
    gaps = {k: v for k, v in described(m, previous).items() if v != before[k]}
    if "metadata" in gaps:
        gaps["metadata"] = json.dumps(gaps["metadata"], ensure_ascii=False, default=str)
    if gaps:
        sets = ", ".join(f"{k} = ${k}" for k in gaps)
        con.execute(
            f"UPDATE videos SET {sets}, updated_at = $now WHERE video_id = $video_id",
            {**gaps, "now": at, "video_id": m.video_id},
        )


def insert_rows(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]]) -> None:
    """Append rows (dicts of a table's columns) to one table, typed by its schema."""
    if rows:
        _insert(con, name, _table(name, rows))


def _insert(con: duckdb.DuckDBPyConnection, name: str, t: pa.Table) -> None:
    con.register(_BATCH, t)
    try:
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM {_BATCH}")
    finally:
        con.unregister(_BATCH)


def write_analysis(wh: Warehouse, analysis: Analysis) -> None:
    """Replace one analysis's rows (by ``analysis_id``) of a video already stored.

    A re-analysis touches ``analyses`` and ``group_analyses`` only: the video's shots and scene
    groups, and its other analyses, stay as they are. Refused when the video is not stored, so
    an analysis never points at nothing.
    """
    if not wh.exists():
        wh.init()
    vid, aid = analysis.video_id, analysis.analysis_id
    rows, groups = _analysis_rows(analysis)
    table, group_table = _table("analyses", rows), _table("group_analyses", groups)

    def txn(con: duckdb.DuckDBPyConnection) -> None:
        if con.execute("SELECT 1 FROM videos WHERE video_id = ?", [vid]).fetchone() is None:
            raise WarehouseError(
                f"cannot store analysis {aid}",
                f"no video {vid} in the warehouse",
                "analyse the video first with `adref analyze`",
            )
        _replace(con, "group_analyses", "analysis_id", aid, group_table)
        _replace(con, "analyses", "analysis_id", aid, table)

    run_in_transaction(wh, txn, f"analysis {aid} of video {vid}")


def write_texts(wh: Warehouse, video_id: str, texts: list[ShotText]) -> None:
    """Replace the lines read on screen of a video already stored (``adref reanalyze --text``):
    ``shot_texts`` only, in one transaction; refused when the video is not stored."""
    rows = [{**t.model_dump(), "video_id": video_id, "box": list(t.box)} for t in texts]
    _replace_stored(wh, video_id, "shot_texts", rows, "the text read on screen")


def write_transcript(wh: Warehouse, video_id: str, heard: SpeechResult) -> None:
    """Replace the voice-over transcript of a video already stored (``adref reanalyze
    --speech``): ``transcripts`` only, in one transaction; refused when the video is not stored,
    or when ``heard`` is no transcript (a failed or skipped step must leave the stored one)."""
    if not heard.heard:
        raise ValueError(f"a {heard.status} speech step has no transcript to store")
    rows = _transcript_rows(video_id, heard)
    _replace_stored(
        wh, video_id, "transcripts", rows, "the voice-over transcript", _listened(heard)
    )


def _replace_stored(
    wh: Warehouse,
    video_id: str,
    name: str,
    rows: list[dict[str, Any]],
    what: str,
    video: dict[str, Any] | None = None,
) -> None:
    """One table's rows of a stored video replaced, its other tables left alone (but for
    ``video``: columns of its ``videos`` row set in the same transaction)."""
    table = _table(name, rows)

    def txn(con: duckdb.DuckDBPyConnection) -> None:
        if con.execute("SELECT 1 FROM videos WHERE video_id = ?", [video_id]).fetchone() is None:
            raise WarehouseError(
                f"cannot store {what} of {video_id}",
                "no such video in the warehouse",
                "analyse the video first with `adref analyze`",
            )
        _replace(con, name, "video_id", video_id, table)
        if video:
            sets = ", ".join(f"{column} = ?" for column in video)
            con.execute(f"UPDATE videos SET {sets} WHERE video_id = ?", [*video.values(), video_id])

    run_in_transaction(wh, txn, f"{what} of video {video_id}")
