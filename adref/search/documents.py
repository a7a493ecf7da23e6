"""What the warehouse says about each video, gathered into one search document per video.

A document holds the text BM25 reads — title, description, every analysis' summary and genre
reason, tags (site, user, model, corrected), moods, scene-group descriptions, a correction's
note, the lines read on screen and the voice-over's segments — and the values facets count.
The lines read on screen and the segments said are also kept one by one with the shot they
belong to (``lines``), so a hit for a word written or said shows that shot and quotes the line.
Several analyses of a video (re-analyses) all contribute text, moods, tags and providers; genre
and format are the latest analysis' answer.

Corrections win: the latest ``corrections`` row per video and field (by ``created_at``, then
``id``, as the viewer's ``warehouse.corrections`` reads it) replaces the model's genre, format or
mood, and a ``tags`` correction replaces the model's tags
(site and user tags stay: they are not the model's to correct). Genre and format codes are also
indexed by their Korean and English labels, so "뮤직비디오" finds a ``music_video``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import duckdb
import pyarrow as pa

from adref import tags
from adref.categories import formats, genres
from adref.models import shot_at

SQUARE = (0.9, 1.1)  # width / height (as displayed) between these is square
SHOT_COLUMNS = "video_id, shot_index, start_s, keyframe_path, palette, vector"


LineKind = Literal["screen", "said"]


@dataclass(frozen=True)
class Line:
    """A line read on screen, or a segment of the voice-over, with the shot it belongs to: what
    a hit for its words shows (the shot's keyframe, from the shot's start) and quotes."""

    kind: LineKind
    shot_index: int
    start_s: float  # the shot's
    keyframe_path: str | None
    text: str


@dataclass
class VideoDoc:
    video_id: str
    title: str | None = None
    genre: str | None = None
    format: str | None = None
    moods: list[str] = field(default_factory=list)
    own_tags: list[str] = field(default_factory=list)  # site and user tags
    model_tags: list[str] = field(default_factory=list)  # the models' or a correction's
    providers: list[str] = field(default_factory=list)
    owner: str | None = None
    aspect: str | None = None
    duration_s: float | None = None
    ingested_at: datetime | None = None
    shot_index: int = 0
    keyframe_path: str | None = None
    start_s: float = 0.0
    text: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    @property
    def tags(self) -> list[str]:
        return tags.unique([*self.own_tags, *self.model_tags])


def aspect_class(aspect: float | None) -> str | None:
    if aspect is None or aspect <= 0:
        return None
    if aspect < SQUARE[0]:
        return "vertical"
    return "landscape" if aspect > SQUARE[1] else "square"


def _where(ids: Sequence[str] | None, column: str = "video_id") -> tuple[str, list[Any]]:
    """A filter on ids as placeholders (one per id, so DuckLake can prune files by statistics)."""
    if ids is None:
        return "", []
    return f" WHERE {column} IN ({', '.join('?' * len(ids))})", list(ids)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _per_doc(
    con: duckdb.DuckDBPyConnection, docs: dict[str, VideoDoc], sql: str, params: list[Any]
) -> Iterator[tuple[VideoDoc, dict[str, Any]]]:
    """Each row with its video's document (a row of a video without one is skipped)."""
    for row in _rows(con, sql, params):
        if (doc := docs.get(row["video_id"])) is not None:
            yield doc, row


def _unique(values: Sequence[str | None]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or [] if v is not None]


def read_documents(con: duckdb.DuckDBPyConnection, ids: Sequence[str] | None) -> list[VideoDoc]:
    """One document per stored video among ``ids`` (all when None): an id no longer stored has
    none, which is how a refresh learns a video was deleted."""
    if ids is not None and not ids:
        return []
    where, params = _where(ids)
    docs: dict[str, VideoDoc] = {}
    for v in _rows(
        con,
        "SELECT video_id, title, description, site_tags, user_tags, owner, duration_s, aspect,"
        f" width, height, ingested_at FROM videos{where}",
        params,
    ):
        aspect = v["aspect"] or (v["width"] / v["height"] if v["width"] and v["height"] else None)
        doc = VideoDoc(
            video_id=v["video_id"],
            title=v["title"],
            own_tags=tags.unique([*(v["site_tags"] or []), *(v["user_tags"] or [])]),
            owner=v["owner"],
            aspect=aspect_class(aspect),
            duration_s=v["duration_s"],
            ingested_at=v["ingested_at"],
        )
        doc.text += [v["title"] or "", v["title"] or "", v["description"] or ""]
        docs[doc.video_id] = doc
    if not docs:
        return []
    _add_analyses(con, docs, where, params)
    _add_groups(con, docs, where, params)
    _add_corrections(con, docs, where, params)
    _add_representatives(con, docs, where, params)
    _add_screen_text(con, docs, where, params)
    _add_transcripts(con, docs, where, params)
    for doc in docs.values():
        for code, table in ((doc.genre, genres()), (doc.format, formats())):
            if code:
                doc.text += [code.replace("_", " "), *table.get(code, ())]
        doc.text += [*doc.tags, *doc.moods]
    return list(docs.values())


def _add_analyses(
    con: duckdb.DuckDBPyConnection, docs: dict[str, VideoDoc], where: str, params: list[Any]
) -> None:
    for doc, a in _per_doc(
        con,
        docs,
        "SELECT video_id, provider, genre, expression_format, mood, model_tags, summary,"
        f" genre_reason FROM analyses{where} ORDER BY created_at, analysis_id",
        params,
    ):
        doc.genre = a["genre"]  # the latest analysis' answer, none included (as the viewer)
        doc.format = a["expression_format"]
        doc.moods = tags.unique([*doc.moods, *(a["mood"] or [])])
        doc.providers = _unique([*doc.providers, a["provider"]])
        doc.model_tags = tags.unique([*doc.model_tags, *(a["model_tags"] or [])])
        doc.text += [a["summary"] or "", a["genre_reason"] or ""]


def _add_groups(
    con: duckdb.DuckDBPyConnection, docs: dict[str, VideoDoc], where: str, params: list[Any]
) -> None:
    sql = f"SELECT video_id, description FROM group_analyses{where}"
    for doc, g in _per_doc(con, docs, sql, params):
        if g["description"]:
            doc.text.append(g["description"])


def _add_corrections(
    con: duckdb.DuckDBPyConnection, docs: dict[str, VideoDoc], where: str, params: list[Any]
) -> None:
    latest = _per_doc(
        con,
        docs,
        f"SELECT video_id, field, new_value FROM corrections{where} QUALIFY row_number()"
        " OVER (PARTITION BY video_id, field ORDER BY created_at DESC, id DESC) = 1",
        params,
    )
    for doc, c in latest:
        if c["new_value"] is None:
            continue
        try:
            value = json.loads(c["new_value"])
        except (TypeError, ValueError):
            value = c["new_value"]
        name = c["field"]
        if name == "genre":
            doc.genre = str(value) if value else None
        elif name == "expression_format":
            doc.format = str(value) if value else None
        elif name == "mood":
            doc.moods = tags.unique(_as_list(value))
        elif name == "tags":
            doc.model_tags = tags.unique(_as_list(value))
        elif name == "note" and value:
            doc.text.append(str(value))


def _add_representatives(
    con: duckdb.DuckDBPyConnection, docs: dict[str, VideoDoc], where: str, params: list[Any]
) -> None:
    """The shot a video's hit shows: its first scene group's representative (else shot 0)."""
    for doc, r in _per_doc(
        con,
        docs,
        "SELECT g.video_id, g.shot_index, g.keyframe_path, s.start_s FROM ("
        " SELECT video_id, arg_min(representative_shot, group_index) AS shot_index,"
        f" arg_min(keyframe_path, group_index) AS keyframe_path FROM scene_groups{where}"
        " GROUP BY video_id) AS g"
        f" LEFT JOIN (SELECT video_id, shot_index, start_s FROM shots{where}) AS s"
        " ON s.video_id = g.video_id AND s.shot_index = g.shot_index",
        [*params, *params],
    ):
        doc.shot_index, doc.keyframe_path = r["shot_index"] or 0, r["keyframe_path"]
        doc.start_s = r["start_s"] or 0.0


def _add_screen_text(
    con: duckdb.DuckDBPyConnection, docs: dict[str, VideoDoc], where: str, params: list[Any]
) -> None:
    for doc, t in _per_doc(
        con,
        docs,
        "SELECT t.video_id, t.shot_index, t.text, coalesce(s.start_s, t.start_s) AS start_s,"
        f" s.keyframe_path FROM (SELECT * FROM shot_texts{where}) AS t"
        f" LEFT JOIN (SELECT video_id, shot_index, start_s, keyframe_path FROM shots{where}) AS s"
        " ON s.video_id = t.video_id AND s.shot_index = t.shot_index"
        " ORDER BY t.video_id, t.shot_index, t.box[2], t.box[1]",
        [*params, *params],
    ):
        if t["text"]:
            doc.text.append(t["text"])
            doc.lines.append(
                Line(
                    "screen",
                    int(t["shot_index"]),
                    float(t["start_s"] or 0.0),
                    t["keyframe_path"],
                    t["text"],
                )
            )


def _add_transcripts(
    con: duckdb.DuckDBPyConnection, docs: dict[str, VideoDoc], where: str, params: list[Any]
) -> None:
    """Each segment said, on the shot playing when it starts (``shot_at``, as the video page
    places it)."""
    spans: dict[str, list[tuple[int, float, float]]] = {}
    keyframes: dict[tuple[str, int], tuple[float, str | None]] = {}
    for s in _rows(
        con,
        "SELECT video_id, shot_index, start_s, end_s, keyframe_path FROM shots"
        f" WHERE video_id IN (SELECT video_id FROM transcripts{where})"
        " ORDER BY video_id, shot_index",
        params,
    ):
        index, start_s = int(s["shot_index"]), float(s["start_s"])
        spans.setdefault(s["video_id"], []).append((index, start_s, float(s["end_s"])))
        keyframes[s["video_id"], index] = (start_s, s["keyframe_path"])
    for doc, t in _per_doc(
        con,
        docs,
        f"SELECT video_id, start_s, end_s, text FROM transcripts{where}"
        " ORDER BY video_id, start_s, end_s",
        params,
    ):
        text = (t["text"] or "").strip()
        if not text:
            continue
        doc.text.append(text)
        at = shot_at(spans.get(doc.video_id, []), t["start_s"], t["end_s"])
        if at is not None:
            start_s, keyframe_path = keyframes[doc.video_id, at]
            doc.lines.append(Line("said", at, start_s, keyframe_path, text))


def shot_batches(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str] | None, batch_rows: int = 65536
) -> Iterator[pa.RecordBatch]:
    """The shots' search features, streamed (a full rebuild reads every shot once)."""
    if ids is not None and not ids:
        return
    where, params = _where(ids)
    cur = con.execute(
        f"SELECT {SHOT_COLUMNS} FROM shots{where} ORDER BY video_id, shot_index", params
    )
    reader = cur.to_arrow_reader(batch_rows)
    yield from reader
