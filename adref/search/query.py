"""What a search asks and answers (the contract the viewer codes against), and its SQL.

Every value from a query reaches SQL as a bound parameter; the SQL text is assembled only from
the fixed fragments below, chosen by which filters are set.

Text ranks by BM25 over the ``postings`` table, with fts's parameters (k1 = 1.2, b = 0.75) and
every query term required. A matched video's hit shows the shot where the query's words are
written or said, and quotes the line (``located_lines``); its first scene group's representative,
unquoted, when none is. No text (or text without a word, only punctuation) lists videos newest
first. Queries are cut at ``MAX_TEXT`` characters and ``MAX_TERMS`` terms, pages at
``MAX_PAGE_SIZE`` hits. Facet counts are for the current
text and the *other* filters (a facet's own filter is left out of its counts, so picking
"tvc" still shows how many "music_video" there would be).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

import duckdb
import pyarrow as pa

from adref.search import tokens
from adref.search.documents import LineKind
from adref.tags import key as tag_key

Aspect = Literal["vertical", "square", "landscape"]
MAX_TEXT = 1000  # characters of a query that are read
MAX_TERMS = 32
MAX_PAGE_SIZE = 200
FACET_LIMIT = 50
K1, B = 1.2, 0.75


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""  # free text, Korean or English; "" = everything (newest first)
    genres: tuple[str, ...] = ()  # facet filters: a video matches if its value is in the tuple
    formats: tuple[str, ...] = ()  # expression_format
    moods: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # site, model, user and corrected tags
    providers: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    aspects: tuple[Aspect, ...] = ()
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    date_from: date | None = None  # videos.ingested_at (UTC date)
    date_to: date | None = None
    colour: str | None = None  # "#rrggbb": shots whose palette is near it
    like: tuple[str, int] | None = None  # (video_id, shot_index): shots visually like this one
    page: int = 0  # 0-based
    page_size: int = 24


@dataclass(frozen=True)
class Hit:
    video_id: str
    shot_index: int  # the shot whose keyframe is shown
    keyframe_path: str  # relative to the warehouse root, as tables store it
    start_s: float  # the shot's start (for "open video at this shot")
    title: str | None
    genre: str | None  # corrections win over the model's answer
    tags: tuple[str, ...]
    duration_s: float | None
    score: float  # higher is better
    quote: str | None = None  # the line read on screen or said where the text's words are
    quoted: LineKind | None = None  # where that line is: "screen" or "said"


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[Hit, ...]
    total: int  # matches over all pages
    facets: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)


# facet name -> (query attribute, filter on docs d, the facet's values of a doc)
FACETS: dict[str, tuple[str, str, str]] = {
    "genre": ("genres", "list_contains($genre, d.genre)", "[d.genre]"),
    "format": ("formats", "list_contains($format, d.format)", "[d.format]"),
    "mood": ("moods", "list_has_any(d.mood_keys, $mood)", "d.moods"),
    "tag": ("tags", "list_has_any(d.tag_keys, $tag)", "d.tags"),
    "provider": ("providers", "list_has_any(d.providers, $provider)", "d.providers"),
    "owner": ("owners", "list_contains($owner, d.owner)", "[d.owner]"),
    "aspect": ("aspects", "list_contains($aspect, d.aspect)", "[d.aspect]"),
}
# Facets whose values are tags (``adref.tags``): matched by key, whatever the spelling, and
# counted as one value shown in its most common spelling.
KEYED = {"mood": "d.mood_keys", "tag": "d.tag_keys"}
RANGES: dict[str, str] = {
    "min_duration_s": "d.duration_s >= $min_duration_s",
    "max_duration_s": "d.duration_s <= $max_duration_s",
    "date_from": "d.ingested_date >= $date_from",
    "date_to": "d.ingested_date <= $date_to",
}
HIT_COLUMNS = (
    "d.video_id, d.shot_index, d.keyframe_path, d.start_s, d.title, d.genre, d.tags, d.duration_s"
)


def normalised(q: SearchQuery) -> SearchQuery:
    return replace(
        q,
        text=q.text[:MAX_TEXT],
        page=max(0, int(q.page)),
        page_size=min(MAX_PAGE_SIZE, max(1, int(q.page_size))),
    )


def query_terms(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    return list(dict.fromkeys(tokens.tokenise(con, text.replace("\x00", " "))))[:MAX_TERMS]


def bm25(con: duckdb.DuckDBPyConnection, terms: Sequence[str]) -> pa.Table:
    """(video_id, score) of the documents holding every term."""
    placeholders = ", ".join("?" * len(terms))
    sql = f"""
        WITH st AS (SELECT count(*)::DOUBLE AS n, avg(len) AS avgdl FROM docs),
        p AS (SELECT term, video_id, tf FROM postings WHERE term IN ({placeholders})),
        df AS (SELECT term, count(*) AS df FROM p GROUP BY term)
        SELECT p.video_id, sum(ln(1 + (st.n - df.df + 0.5) / (df.df + 0.5))
            * p.tf * ({K1} + 1) / (p.tf + {K1} * (1 - {B} + {B} * d.len / st.avgdl))) AS score
        FROM p JOIN df USING (term) JOIN docs d USING (video_id) CROSS JOIN st
        GROUP BY p.video_id HAVING count(*) = ?"""
    return con.execute(sql, [*terms, len(terms)]).to_arrow_table()


@dataclass
class Filters:
    """The WHERE clauses of a query, and their parameters."""

    clauses: dict[str, str]  # name (facet, range) -> clause with one parameter of that name
    params: dict[str, Any]

    def where(self, without: str | None = None) -> tuple[str, dict[str, Any]]:
        kept = [k for k in self.clauses if k != without]
        sql = " AND ".join(self.clauses[k] for k in kept) or "true"
        return sql, {k: self.params[k] for k in kept}


def filters(q: SearchQuery) -> Filters:
    clauses: dict[str, str] = {}
    params: dict[str, Any] = {}
    for name, (attr, clause, _) in FACETS.items():
        values = [str(v) for v in getattr(q, attr)]
        if name in KEYED:
            values = [k for v in values if (k := tag_key(v))]
        if values:
            clauses[name] = clause
            params[name] = values
    for attr, clause in RANGES.items():
        value = getattr(q, attr)
        if value is not None:
            clauses[attr] = clause
            params[attr] = value
    return Filters(clauses, params)


ALL_DOCS = "docs d"
MATCHED_DOCS = "docs d JOIN matched m USING (video_id) LEFT JOIN located s USING (video_id)"
# A matched video's hit shows the shot where its words are written or said, when they are.
LOCATED_HIT_COLUMNS = (
    "d.video_id, coalesce(s.shot_index, d.shot_index), coalesce(s.keyframe_path, d.keyframe_path),"
    " coalesce(s.start_s, d.start_s), d.title, d.genre, d.tags, d.duration_s"
)


@dataclass(frozen=True)
class Source:
    """What a query searches: the FROM clause, and how many documents it holds if known."""

    sql: str
    size: int | None = None


def located_lines(con: duckdb.DuckDBPyConnection, terms: Sequence[str]) -> pa.Table:
    """(video_id, line, kind, shot_index, start_s, keyframe_path): per matched video, the line
    read on screen or said that its hit quotes, and the shot the hit shows.

    The shot is the one whose lines of one kind hold the most of ``terms`` (so words written
    on two lines of one super pick that shot), then the line holding the most; the earlier shot
    on a tie, and in one shot the line on screen before the line said (the keyframe shows it)."""
    placeholders = ", ".join("?" * len(terms))
    sql = f"""
        WITH t AS (
            SELECT term, video_id, line, kind, shot_index, start_s, keyframe_path
            FROM line_terms WHERE term IN ({placeholders}) AND keyframe_path IS NOT NULL
                AND video_id IN (SELECT video_id FROM matched)
        ),
        shot AS (
            SELECT video_id, kind, shot_index, count(DISTINCT term) AS in_shot
            FROM t GROUP BY video_id, kind, shot_index
        ),
        line AS (
            SELECT video_id, line, kind, shot_index, any_value(start_s) AS start_s,
                any_value(keyframe_path) AS keyframe_path, count(*) AS in_line
            FROM t GROUP BY video_id, line, kind, shot_index
        )
        SELECT l.video_id, l.line, l.kind, l.shot_index, l.start_s, l.keyframe_path
        FROM line l JOIN shot s USING (video_id, kind, shot_index)
        QUALIFY row_number() OVER (PARTITION BY l.video_id ORDER BY s.in_shot DESC,
            l.in_line DESC, l.shot_index, l.kind = 'said', l.line) = 1"""
    return con.execute(sql, list(terms)).to_arrow_table()


def quotes(
    con: duckdb.DuckDBPyConnection, lines: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    """The text of these (video_id, line): read for one page's hits only, not for every match
    (a query for a common word matches thousands of videos)."""
    if not lines:
        return {}
    rows = con.execute(
        "SELECT video_id, line, text FROM quotes"
        " JOIN (SELECT unnest($v) AS video_id, unnest($l) AS line) USING (video_id, line)",
        {"v": [v for v, _ in lines], "l": [n for _, n in lines]},
    ).fetchall()
    return {(v, n): text for v, n, text in rows}


def matching(con: duckdb.DuckDBPyConnection, q: SearchQuery) -> Source | None:
    """Register the text's matches as ``matched`` (video_id, score) and return them as the
    source (all documents without words to match); None when the text matches nothing."""
    terms = query_terms(con, q.text) if q.text.strip() else []
    if not terms:
        return Source(ALL_DOCS)
    scored = bm25(con, terms)
    if scored.num_rows == 0:
        return None
    con.register("matched", scored)
    con.register("located", located_lines(con, terms))
    return Source(MATCHED_DOCS, scored.num_rows)


def text_page(
    con: duckdb.DuckDBPyConnection, src: Source, f: Filters, q: SearchQuery
) -> tuple[list[Hit], int]:
    where, params = f.where()
    source = src.sql
    ranked = source == MATCHED_DOCS
    score = "m.score" if ranked else "0.0"
    order = "m.score DESC, d.video_id" if ranked else "d.ingested_at DESC NULLS LAST, d.video_id"
    if src.size is not None and not f.clauses:
        total = src.size
    else:
        row = con.execute(f"SELECT count(*) FROM {source} WHERE {where}", params).fetchone()
        total = int(row[0]) if row else 0
    columns = LOCATED_HIT_COLUMNS if ranked else HIT_COLUMNS
    line = "s.line, s.kind" if ranked else "NULL, NULL"
    rows = con.execute(
        f"SELECT {columns}, {score}, {line} FROM {source} WHERE {where} ORDER BY {order}"
        " LIMIT $limit OFFSET $offset",
        {**params, "limit": q.page_size, "offset": q.page * q.page_size},
    ).fetchall()
    quoted = quotes(con, [(r[0], r[9]) for r in rows if r[9] is not None])
    return [hit(r, quoted.get((r[0], r[9]))) for r in rows], total


def hit(r: Sequence[Any], quote: str | None = None) -> Hit:
    return Hit(
        video_id=r[0],
        shot_index=int(r[1] or 0),
        keyframe_path=r[2] or "",
        start_s=float(r[3] or 0.0),
        title=r[4],
        genre=r[5],
        tags=tuple(r[6] or ()),
        duration_s=r[7],
        score=float(r[8]),
        quote=quote,
        quoted=r[10] if quote is not None else None,
    )


def matching_ids(con: duckdb.DuckDBPyConnection, src: Source, f: Filters) -> list[str]:
    where, params = f.where()
    source = src.sql
    return [
        r[0]
        for r in con.execute(f"SELECT d.video_id FROM {source} WHERE {where}", params).fetchall()
    ]


def facet_counts(
    con: duckdb.DuckDBPyConnection, src: Source, f: Filters
) -> dict[str, tuple[tuple[str, int], ...]]:
    """Every facet's top values with counts. Facets without a filter of their own share one
    scan of the matching documents; each facet with a filter needs a scan without it."""
    scans: dict[str | None, list[str]] = {}
    for name in FACETS:
        scans.setdefault(name if name in f.clauses else None, []).append(name)
    # per facet, per key: the documents having it, by spelling
    counts: dict[str, dict[str, Counter[str]]] = {name: {} for name in FACETS}
    for without, names in scans.items():
        where, params = f.where(without=without)
        columns = ", ".join(
            f"{FACETS[n][2]} AS {n}, {KEYED.get(n, FACETS[n][2])} AS {n}_k" for n in names
        )
        parts = " UNION ALL ".join(
            f"SELECT '{n}' AS facet, k, v, count(*) AS c FROM"
            f" (SELECT unnest({n}_k) AS k, unnest({n}) AS v FROM m) GROUP BY k, v"
            for n in names
        )
        rows = con.execute(
            f"WITH m AS MATERIALIZED (SELECT {columns} FROM {src.sql} WHERE {where}) {parts}",
            params,
        ).fetchall()
        for facet, key, value, count in rows:
            if value is not None and value != "" and key:
                counts[facet].setdefault(str(key), Counter())[str(value)] += int(count)
    return {name: _top_values(spellings) for name, spellings in counts.items()}


def _top_values(spellings: dict[str, Counter[str]]) -> tuple[tuple[str, int], ...]:
    """Each value once, by count, in its most common spelling (among equals, one without a
    leading ``#``, then the first in code-point order: "Summer" before "summer")."""
    values = [
        (
            min(by.items(), key=lambda sc: (-sc[1], sc[0].startswith("#"), sc[0]))[0],
            sum(by.values()),
        )
        for by in spellings.values()
    ]
    return tuple(sorted(values, key=lambda vc: (-vc[1], vc[0]))[:FACET_LIMIT])


def doc_rows(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """Title, genre, tags and duration of these videos, for shot hits."""
    if not ids:
        return {}
    rows = con.execute(
        "SELECT video_id, title, genre, tags, duration_s FROM docs"
        f" WHERE video_id IN ({', '.join('?' * len(ids))})",
        list(ids),
    ).fetchall()
    return {r[0]: r for r in rows}
