"""The text database of one generation: a document row per video, and BM25 postings.

``docs`` holds what a hit shows and what facets count (one row per video, with its length in
terms); ``postings`` holds (term, video, count), sorted by term so a query's terms are found
by DuckDB's min/max pruning. ``line_terms`` holds (term, video, line) for each line read on
screen and each segment said, with the line's kind and its shot's index, start and keyframe, also
sorted by term, so a hit can show the shot where its words are written or said; ``quotes`` holds
each line's text, read only for the line a hit quotes. Text is cut into terms by ``tokens``;
stemming runs in the same connection (fts's Snowball stemmer), once per distinct word.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC

import duckdb
import pyarrow as pa

from adref.search import tokens
from adref.search.documents import VideoDoc
from adref.tags import key as tag_key

DOCS = pa.schema(
    [
        ("video_id", pa.string()),
        ("title", pa.string()),
        ("genre", pa.string()),
        ("format", pa.string()),
        ("moods", pa.list_(pa.string())),
        ("mood_keys", pa.list_(pa.string())),  # tags.key of each: what filters and facets match
        ("tags", pa.list_(pa.string())),
        ("tag_keys", pa.list_(pa.string())),
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
LINE_TERMS = pa.schema(
    [
        ("term", pa.string()),
        ("video_id", pa.string()),
        ("line", pa.int32()),  # the line's number in its video
        ("kind", pa.string()),  # "screen" or "said"
        ("shot_index", pa.int32()),
        ("start_s", pa.float64()),
        ("keyframe_path", pa.string()),
    ]
)
QUOTES = pa.schema([("video_id", pa.string()), ("line", pa.int32()), ("text", pa.string())])
TABLES = (("docs", DOCS), ("postings", POSTINGS), ("line_terms", LINE_TERMS), ("quotes", QUOTES))
# How each table is kept in order, so a query's terms (or a video's rows) are found by pruning.
ORDER = {"docs": "video_id", "postings": "term", "line_terms": "term", "quotes": "video_id, line"}


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
    line_terms, quotes = _lines(con, docs)
    tables = {"docs": docs_table, "postings": postings, "line_terms": line_terms, "quotes": quotes}
    try:
        for name, table in tables.items():
            con.register(f"_{name}", table)
            con.execute(f"INSERT INTO {name} SELECT * FROM _{name} ORDER BY {ORDER[name]}")
    finally:
        for name in tables:
            con.unregister(f"_{name}")


def copy(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Every row of the attached database ``source`` into this one's (empty) tables, in order."""
    for name, _ in TABLES:
        con.execute(f"INSERT INTO {name} SELECT * FROM {source}.{name} ORDER BY {ORDER[name]}")


def delete(con: duckdb.DuckDBPyConnection, ids: list[str]) -> int:
    """Take these videos out of every table; the count of documents taken out."""
    placeholders = ", ".join("?" * len(ids))
    removed = con.execute(f"DELETE FROM docs WHERE video_id IN ({placeholders})", ids).fetchone()
    for name in ("postings", "line_terms", "quotes"):
        con.execute(f"DELETE FROM {name} WHERE video_id IN ({placeholders})", ids)
    return int(removed[0]) if removed else 0  # DuckDB answers a DELETE with its row count


def _lines(con: duckdb.DuckDBPyConnection, docs: list[VideoDoc]) -> tuple[pa.Table, pa.Table]:
    """One ``line_terms`` row per distinct (term, video, line), and one ``quotes`` row per line."""
    lines = [(d.video_id, n, line) for d in docs for n, line in enumerate(d.lines)]
    pieces = [tokens.words(line.text) for _, _, line in lines]
    stemmed = tokens.stems(con, (p for each in pieces for p, stem in each if stem))
    rows: dict[str, list[object]] = {name: [] for name in LINE_TERMS.names}
    quotes: dict[str, list[object]] = {name: [] for name in QUOTES.names}
    for (video_id, n, line), each in zip(lines, pieces, strict=True):
        for name, value in zip(QUOTES.names, (video_id, n, line.text), strict=True):
            quotes[name].append(value)
        for term in dict.fromkeys(tokens.terms(each, stemmed)):
            values = (term, video_id, n, line.kind, line.shot_index, line.start_s)
            for name, value in zip(LINE_TERMS.names, (*values, line.keyframe_path), strict=True):
                rows[name].append(value)
    return pa.table(rows, schema=LINE_TERMS), pa.table(quotes, schema=QUOTES)


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
            "mood_keys": [tag_key(m) for m in d.moods],
            "tags": d.tags,
            "tag_keys": [tag_key(t) for t in d.tags],
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
