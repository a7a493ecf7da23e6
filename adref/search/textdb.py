"""The text database of one generation: a document row per video, and BM25 postings.

``docs`` holds what a hit shows and what facets count (one row per video, with its length in
terms); ``postings`` holds (term, video, count), sorted by term so a query's terms are found
by DuckDB's min/max pruning. Text is cut into terms by ``tokens``; stemming runs in the same
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


def create(con: duckdb.DuckDBPyConnection) -> None:
    """The empty tables, typed by the Arrow schemas ``insert`` fills them from."""
    for name, schema in (("docs", DOCS), ("postings", POSTINGS)):
        con.register("_empty", schema.empty_table())
        try:
            con.execute(f"CREATE TABLE IF NOT EXISTS {name} AS SELECT * FROM _empty")
        finally:
            con.unregister("_empty")


def insert(con: duckdb.DuckDBPyConnection, docs: list[VideoDoc]) -> None:
    docs_table, postings = _tables(con, docs)
    con.register("_docs", docs_table)
    con.register("_postings", postings)
    try:
        con.execute("INSERT INTO docs SELECT * FROM _docs")
        con.execute("INSERT INTO postings SELECT * FROM _postings ORDER BY term")
    finally:
        con.unregister("_docs")
        con.unregister("_postings")


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
