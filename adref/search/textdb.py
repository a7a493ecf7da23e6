"""The text database of one generation: a document row per video, and BM25 postings.

``docs`` holds what a hit shows and what facets count (one row per video, with its length in
terms); ``postings`` holds (term, video, count), sorted by term so a query's terms are found
by DuckDB's min/max pruning; ``screen`` holds (term, video, shot) for the words read on screen,
with the shot's start and keyframe, so a hit can show the shot where its words are written. Text is cut into terms by ``tokens``; stemming runs in the same
connection (fts's Snowball stemmer), once per distinct word.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC

import duckdb
import pyarrow as pa

from adref.search import tokens
from adref.search.documents import VideoDoc

DOCS = pa.schema(
    [
        ("video_id", pa.string()),
        ("title", pa.string()),
        ("genre", pa.string()),
        ("format", pa.string()),
        ("moods", pa.list_(pa.string())),
        ("tags", pa.list_(pa.string())),
        ("providers", pa.list_(pa.string())),
        ("owner", pa.string()),
        ("aspect", pa.string()),
        ("duration_s", pa.float64()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
        ("ingested_date", pa.date32()),
        ("shot_index", pa.int32()),
        ("keyframe_path", pa.string()),
        ("start_s", pa.float64()),
        ("len", pa.int32()),
    ]
)
POSTINGS = pa.schema([("term", pa.string()), ("video_id", pa.string()), ("tf", pa.int32())])
SCREEN = pa.schema(
    [
        ("term", pa.string()),
        ("video_id", pa.string()),
        ("shot_index", pa.int32()),
        ("start_s", pa.float64()),
        ("keyframe_path", pa.string()),
    ]
)
TABLES = (("docs", DOCS), ("postings", POSTINGS), ("screen", SCREEN))


def create(con: duckdb.DuckDBPyConnection) -> None:
    """The empty tables, typed by the Arrow schemas ``insert`` fills them from."""
    for name, schema in TABLES:
        con.register("_empty", schema.empty_table())
        try:
            con.execute(f"CREATE TABLE IF NOT EXISTS {name} AS SELECT * FROM _empty")
        finally:
            con.unregister("_empty")


def insert(con: duckdb.DuckDBPyConnection, docs: list[VideoDoc]) -> None:
    docs_table, postings = _tables(con, docs)
    screen = _screen(con, docs)
    con.register("_docs", docs_table)
    con.register("_postings", postings)
    con.register("_screen", screen)
    try:
        con.execute("INSERT INTO docs SELECT * FROM _docs")
        con.execute("INSERT INTO postings SELECT * FROM _postings ORDER BY term")
        con.execute("INSERT INTO screen SELECT * FROM _screen ORDER BY term")
    finally:
        for name in ("_docs", "_postings", "_screen"):
            con.unregister(name)


def delete(con: duckdb.DuckDBPyConnection, ids: list[str]) -> int:
    """Take these videos out of every table; the count of documents taken out."""
    placeholders = ", ".join("?" * len(ids))
    removed = con.execute(f"DELETE FROM docs WHERE video_id IN ({placeholders})", ids).fetchone()
    for name in ("postings", "screen"):
        con.execute(f"DELETE FROM {name} WHERE video_id IN ({placeholders})", ids)
    return int(removed[0]) if removed else 0  # DuckDB answers a DELETE with its row count


def _screen(con: duckdb.DuckDBPyConnection, docs: list[VideoDoc]) -> pa.Table:
    """One row per distinct (term, video, shot) of the lines read on screen."""
    lines = [(d.video_id, line) for d in docs for line in d.screen]
    pieces = [tokens.words(line.text) for _, line in lines]
    stemmed = tokens.stems(con, (p for each in pieces for p, stem in each if stem))
    rows: dict[str, list[object]] = {name: [] for name in SCREEN.names}
    seen: set[tuple[str, str, int]] = set()
    for (video_id, line), each in zip(lines, pieces, strict=True):
        for term in tokens.terms(each, stemmed):
            if (term, video_id, line.shot_index) in seen:
                continue
            seen.add((term, video_id, line.shot_index))
            for name, value in zip(
                SCREEN.names,
                (term, video_id, line.shot_index, line.start_s, line.keyframe_path),
                strict=True,
            ):
                rows[name].append(value)
    return pa.table(rows, schema=SCREEN)


def _tables(con: duckdb.DuckDBPyConnection, docs: list[VideoDoc]) -> tuple[pa.Table, pa.Table]:
    pieces = [tokens.words("\n".join(d.text)) for d in docs]
    stemmed = tokens.stems(con, (p for doc in pieces for p, stem in doc if stem))
    rows: dict[str, list[object]] = {name: [] for name in DOCS.names}
    terms: list[str] = []
    video_ids: list[str] = []
    counts: list[int] = []
    for d, doc_pieces in zip(docs, pieces, strict=True):
        doc_terms = tokens.terms(doc_pieces, stemmed)
        for term, count in Counter(doc_terms).items():
            terms.append(term)
            video_ids.append(d.video_id)
            counts.append(count)
        at = d.ingested_at.astimezone(UTC) if d.ingested_at else None
        values = {
            "video_id": d.video_id,
            "title": d.title,
            "genre": d.genre,
            "format": d.format,
            "moods": d.moods,
            "tags": d.tags,
            "providers": d.providers,
            "owner": d.owner,
            "aspect": d.aspect,
            "duration_s": d.duration_s,
            "ingested_at": at,
            "ingested_date": at.date() if at else None,
            "shot_index": d.shot_index,
            "keyframe_path": d.keyframe_path,
            "start_s": d.start_s,
            "len": len(doc_terms),
        }
        for name, value in values.items():
            rows[name].append(value)
    docs_table = pa.table(rows, schema=DOCS)
    postings = pa.table({"term": terms, "video_id": video_ids, "tf": counts}, schema=POSTINGS)
    return docs_table, postings


def count(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM docs").fetchone()
    return int(row[0]) if row else 0
