"""Refresh: bring the index up to date with the warehouse, whole or for some videos.

A refresh holds the index's lock, reads the manifest and, inside one read transaction (one
DuckLake snapshot), what the warehouse now says about the videos it was given: so refreshes
queue instead of racing, and whichever runs last has read the latest commit, so five flows
finishing at once lose no video. A video the warehouse no longer has is removed.

The manifest records the DuckLake snapshot the index reflects, and every refresh also takes in
the videos changed since then (``ducklake_table_changes`` on the tables in ``CHANGE_TABLES``):
a refresh that failed, or a writer that never asked for one, is caught up by the next refresh
of any video.

- **Whole** (``video_ids`` None, no index yet, or a recreated warehouse): a new text database
  and one segment of every shot.
- **Some videos**: the text database is copied and those videos' rows replaced in the copy
  (~10k documents: a copy of a few tens of MB), and one new segment holds their shots while the
  older segments list them as dead. Past ``MAX_SEGMENTS`` the small segments are merged; once
  deletions have doubled the text database it is rewritten compactly.

Text is kept as a postings table (term, video, count) with BM25 computed in SQL (``query``),
not with fts's ``create_fts_index``: that rebuilds the whole index on any change (3.6 s for
10,000 documents here) and its ``match_bm25`` scanned every document per query (170 ms);
postings update per video and a query reads only its terms' rows. The scoring is fts's own BM25
(k1 = 1.2, b = 0.75); the stemmer is fts's (see ``tokens``).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from adref.search import engine, textdb
from adref.search.documents import read_documents, shot_batches
from adref.search.segments import Segment, merge, write_segment
from adref.search.store import (
    FORMAT,
    Manifest,
    SegmentRef,
    folder,
    new_name,
    publish,
    read_manifest,
    refresh_lock,
)
from adref.warehouse.catalog import Warehouse
from adref.warehouse.engine import ALIAS, sql_str

MAX_SEGMENTS = 8
COMPACT_GROWTH, COMPACT_FROM = 2.0, 1 << 20  # rewrite the text database once it doubled
CATCH_UP_LIMIT = 2000  # more missed videos than this: rebuild whole
# Every change a document reflects touches one of these: a video (re)stored or deleted, an
# analysis added, a correction made, text read on screen or a transcript added to a stored video.
CHANGE_TABLES = ("videos", "analyses", "corrections", "shot_texts", "transcripts")


@dataclass(frozen=True)
class RefreshReport:
    whole: bool  # rebuilt from scratch
    updated: int  # documents written
    removed: int  # videos no longer in the warehouse, taken out
    documents: int  # videos in the index now
    shots: int  # shots searchable by colour and likeness now
    generation: int
    seconds: float


def refresh_index(wh: Warehouse, video_ids: Sequence[str] | None = None) -> RefreshReport:
    started = time.perf_counter()
    if not wh.exists():
        return RefreshReport(True, 0, 0, 0, 0, 0, time.perf_counter() - started)
    identity = wh.identity()
    with refresh_lock(wh.root):
        old = read_manifest(wh.root)
        whole = (
            video_ids is None
            or old is None
            or old.identity != identity
            or old.format != FORMAT
            or not _intact(wh.root, old)
        )
        with _snapshot(wh) as wcon:
            snapshot = _current_snapshot(wcon)
            ids: list[str] = []
            if not whole:
                assert old is not None and video_ids is not None
                missed = _changed_since(wcon, old.snapshot, snapshot)
                whole = missed is None or len(missed) > CATCH_UP_LIMIT
                ids = list(dict.fromkeys([*video_ids, *(missed or [])]))
            if whole:
                manifest, updated, removed, documents = _rebuild(wh.root, wcon, old, identity)
            else:
                assert old is not None
                manifest, updated, removed, documents = _update(wh.root, wcon, old, ids)
        publish(wh.root, replace(manifest, snapshot=snapshot))
    return RefreshReport(
        whole=whole,
        updated=updated,
        removed=removed,
        documents=documents,
        shots=_live_shots(wh.root, manifest),
        generation=manifest.generation,
        seconds=time.perf_counter() - started,
    )


def _current_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT id FROM {ALIAS}.current_snapshot()").fetchone()
    return int(row[0]) if row else 0


def _changed_since(con: duckdb.DuckDBPyConnection, since: int, now: int) -> list[str] | None:
    """Videos whose rows changed after snapshot ``since`` (a refresh that failed, a writer that
    did not refresh): a refresh catches up on them. None when the history is gone (expired
    snapshots, an index from before this was recorded): only a whole rebuild is sure then."""
    if since <= 0:
        return None
    if since >= now:
        return []
    try:
        rows = con.execute(
            " UNION ".join(
                f"SELECT video_id FROM ducklake_table_changes('{ALIAS}', 'main', '{table}', ?, ?)"
                for table in CHANGE_TABLES
            ),
            [since + 1, now] * len(CHANGE_TABLES),
        ).fetchall()
    except duckdb.Error:
        return None
    return sorted({str(r[0]) for r in rows if r[0] is not None})


@contextlib.contextmanager
def _snapshot(wh: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read transaction: every read inside sees one snapshot of the warehouse."""
    con = wh.connect(read_only=True)
    try:
        con.execute("BEGIN TRANSACTION")
        yield con
        con.execute("COMMIT")
    finally:
        con.close()


def _intact(root: Path, m: Manifest) -> bool:
    return all((folder(root) / name).exists() for name in m.files())


def _rebuild(
    root: Path, wcon: duckdb.DuckDBPyConnection, old: Manifest | None, identity: str
) -> tuple[Manifest, int, int, int]:
    generation = (old.generation if old else 0) + 1
    base = folder(root)
    text = new_name("text", generation, ".duckdb")
    docs = read_documents(wcon, None)
    with contextlib.closing(engine.connect(base / text)) as con:
        textdb.create(con)
        textdb.insert(con, docs)
        documents = textdb.count(con)
    segment_name = new_name("seg", generation)
    segment = write_segment(base / segment_name, shot_batches(wcon, None))
    manifest = Manifest(
        generation=generation,
        token=new_name("gen", generation),
        text=text,
        segments=(SegmentRef(segment_name),) if segment else (),
        text_bytes_at_build=(base / text).stat().st_size,
        previous=tuple(sorted(old.files())) if old else (),
        identity=identity,
    )
    return manifest, len(docs), 0, documents


def _update(
    root: Path, wcon: duckdb.DuckDBPyConnection, old: Manifest, ids: list[str]
) -> tuple[Manifest, int, int, int]:
    generation = old.generation + 1
    base = folder(root)
    text = new_name("text", generation, ".duckdb")
    source = base / old.text
    compact = source.stat().st_size > COMPACT_GROWTH * max(old.text_bytes_at_build, COMPACT_FROM)
    docs = read_documents(wcon, ids)
    if compact:
        with contextlib.closing(engine.connect(base / text)) as con:
            textdb.create(con)
            con.execute(f"ATTACH {sql_str(source)} AS old (READ_ONLY)")
            textdb.copy(con, "old")
            con.execute("DETACH old")
    else:
        shutil.copyfile(source, base / text)
    with contextlib.closing(engine.connect(base / text)) as con:
        con.execute("BEGIN TRANSACTION")
        removed = textdb.delete(con, ids)
        textdb.insert(con, docs)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        documents = textdb.count(con)
    gone = {*ids} - {d.video_id for d in docs}
    taken_out = min(len(gone), removed)

    refs = []
    for ref in old.segments:
        seg = Segment(base / ref.name)
        touched = {i for i in ids if i in seg.codes}
        refs.append(SegmentRef(ref.name, ref.dead | touched))
    segment_name = new_name("seg", generation)
    if write_segment(base / segment_name, shot_batches(wcon, ids)) is not None:
        refs.append(SegmentRef(segment_name))
    refs = _merged(base, generation, refs)
    manifest = Manifest(
        generation=generation,
        token=new_name("gen", generation),
        text=text,
        segments=tuple(refs),
        text_bytes_at_build=(base / text).stat().st_size if compact else old.text_bytes_at_build,
        previous=tuple(sorted(old.files())),
        identity=old.identity,
    )
    return manifest, len(docs), taken_out, documents


def _merged(base: Path, generation: int, refs: list[SegmentRef]) -> list[SegmentRef]:
    """Merge every segment but the largest once there are too many (the largest too once a
    quarter of it is dead)."""
    if len(refs) <= MAX_SEGMENTS:
        return refs
    segments = {r.name: Segment(base / r.name) for r in refs}
    largest = max(refs, key=lambda r: segments[r.name].rows)
    seg = segments[largest.name]
    dead_rows = int(seg.video_mask(largest.dead)[seg.array("video")].sum()) if largest.dead else 0
    keep = [] if dead_rows * 4 > seg.rows else [largest]
    parts = [r for r in refs if r not in keep]
    name = new_name("seg", generation)
    merged = merge(base / name, [(segments[r.name], set(r.dead)) for r in parts])
    return [*keep, *([SegmentRef(name)] if merged else [])]


def _live_shots(root: Path, m: Manifest) -> int:
    total = 0
    for ref in m.segments:
        seg = Segment(folder(root) / ref.name)
        total += seg.rows - int(seg.video_mask(ref.dead)[seg.array("video")].sum())
    return total
