"""People's corrections of an analysis: stored beside the model's answer, never over it.

Each saved field is one ``corrections`` row (the model's value as ``old_value``, the person's as
``new_value``, who and when), so the analysis stays what the model said and the table is an
audit trail. What a reader shows and searches is the *effective* value: the model's answer with
the latest correction of each field on top. A correction belongs to the video (a person says
"this ad is a TVC", whichever analysis they were looking at); ``analysis_id`` records which
analysis they saw.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from adref import tags
from adref.categories import formats, genres
from adref.errors import InputError, WarehouseError
from adref.models import utcnow
from adref.warehouse.catalog import Warehouse
from adref.warehouse.write import insert_rows, run_in_transaction

FIELDS = ("genre", "expression_format", "mood", "tags", "note")
LIST_FIELDS = frozenset({"mood", "tags"})
MAX_WORDS = 50  # tags or moods in one list
MAX_WORD_CHARS = 40
MAX_NOTE_CHARS = 2000
# The analysis column each correctable field stands for (a note has none: it is the person's own).
_MODEL_COLUMN = {
    "genre": "genre",
    "expression_format": "expression_format",
    "mood": "mood",
    "tags": "model_tags",
}


@dataclass(frozen=True)
class Edit:
    """What a person submits in the edit form; ``None`` leaves a field as it is."""

    genre: str | None = None
    expression_format: str | None = None
    mood: list[str] | None = None
    tags: list[str] | None = None
    note: str | None = None
    clear: frozenset[str] = frozenset()  # fields set to "no value" on purpose (genre, format)


@dataclass(frozen=True)
class Corrected:
    """One field's effective value: a person's latest correction, or the model's answer."""

    value: Any
    model_value: Any
    author: str | None = None  # None: nobody corrected it
    at: datetime | None = None

    @property
    def corrected(self) -> bool:
        return self.author is not None


@dataclass(frozen=True)
class Effective:
    video_id: str
    analysis_id: str | None
    fields: dict[str, Corrected] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        return self.fields[name].value


def clean_words(words: list[str] | tuple[str, ...], what: str) -> list[str]:
    """Trimmed, inner spaces collapsed, duplicates (ignoring case) dropped, bounded."""
    seen: dict[str, str] = {}
    for raw in words:
        word = tags.normal(raw)
        if not word:
            continue
        if len(word) > MAX_WORD_CHARS:
            raise InputError(
                f"{what} too long: {word[:20]}…", f"at most {MAX_WORD_CHARS} characters each"
            )
        seen.setdefault(tags.key(word), word)
    if len(seen) > MAX_WORDS:
        raise InputError(f"too many {what}", f"{len(seen)} given, at most {MAX_WORDS}")
    return list(seen.values())


def validated(edit: Edit) -> dict[str, Any]:
    """The fields an edit sets, checked and normalised: field -> new value."""
    out: dict[str, Any] = {}
    if unknown := set(edit.clear) - {"genre", "expression_format", "note"}:
        raise InputError(f"cannot clear {sorted(unknown)}", "only genre, format and note can be")
    if edit.genre is not None or "genre" in edit.clear:
        if edit.genre is not None and edit.genre not in genres():
            raise InputError(
                f"unknown genre {edit.genre!r}", f"expected one of {', '.join(sorted(genres()))}"
            )
        out["genre"] = edit.genre
    if edit.expression_format is not None or "expression_format" in edit.clear:
        if edit.expression_format is not None and edit.expression_format not in formats():
            raise InputError(
                f"unknown expression format {edit.expression_format!r}",
                f"expected one of {', '.join(sorted(formats()))}",
            )
        out["expression_format"] = edit.expression_format
    if edit.mood is not None:
        out["mood"] = clean_words(edit.mood, "moods")
    if edit.tags is not None:
        out["tags"] = clean_words(edit.tags, "tags")
    if edit.note is not None or "note" in edit.clear:
        note = (edit.note or "").strip()
        if len(note) > MAX_NOTE_CHARS:
            raise InputError("note too long", f"{len(note)} characters, at most {MAX_NOTE_CHARS}")
        out["note"] = note or None
    return out


def _model_values(
    con: duckdb.DuckDBPyConnection, video_id: str, analysis_id: str | None
) -> tuple[str | None, dict[str, Any]]:
    """The analysis shown (the one named, else the newest) and its correctable values."""
    if con.execute("SELECT 1 FROM videos WHERE video_id = ?", [video_id]).fetchone() is None:
        raise InputError(f"no video {video_id} in the warehouse")
    cols = ", ".join(_MODEL_COLUMN.values())
    where = "video_id = $v" + (" AND analysis_id = $a" if analysis_id else "")
    params: dict[str, Any] = {"v": video_id} | ({"a": analysis_id} if analysis_id else {})
    row = con.execute(
        f"SELECT analysis_id, {cols} FROM analyses WHERE {where} "
        "ORDER BY created_at DESC, analysis_id LIMIT 1",
        params,
    ).fetchone()
    if row is None:
        if analysis_id:
            raise InputError(f"no analysis {analysis_id} of video {video_id}")
        return None, {f: [] if f in LIST_FIELDS else None for f in _MODEL_COLUMN} | {"note": None}
    values = dict(zip(_MODEL_COLUMN, row[1:], strict=True))
    values = {k: list(v or []) if k in LIST_FIELDS else v for k, v in values.items()}
    return str(row[0]), values | {"note": None}


def _latest(con: duckdb.DuckDBPyConnection, video_id: str) -> dict[str, tuple[Any, str, datetime]]:
    rows = con.execute(
        "SELECT field, new_value, author, created_at FROM corrections WHERE video_id = ? "
        "QUALIFY row_number() OVER (PARTITION BY field ORDER BY created_at DESC, id DESC) = 1",
        [video_id],
    ).fetchall()
    return {f: (json.loads(v) if v is not None else None, a, at) for f, v, a, at in rows}


def read_effective(
    con: duckdb.DuckDBPyConnection, video_id: str, analysis_id: str | None = None
) -> Effective:
    shown, model = _model_values(con, video_id, analysis_id)
    latest = _latest(con, video_id)
    fields = {}
    for name in FIELDS:
        if name in latest:
            value, author, at = latest[name]
            fields[name] = Corrected(value, model[name], author, at)
        else:
            fields[name] = Corrected(model[name], model[name])
    return Effective(video_id, shown, fields)


def effective(wh: Warehouse, video_id: str, analysis_id: str | None = None) -> Effective:
    """The model's answer for the analysis shown with each field's latest correction on top."""
    with contextlib.closing(wh.connect(read_only=True)) as con:
        return read_effective(con, video_id, analysis_id)


def save_corrections(
    wh: Warehouse, video_id: str, edit: Edit, author: str, analysis_id: str | None = None
) -> list[str]:
    """Store the fields of ``edit`` that differ from their effective value; returns their names.

    Saving the same form twice stores nothing the second time.
    """
    author = author.strip()
    if not author:
        raise InputError("a correction needs an author", "nobody is logged in")
    changes = validated(edit)

    def txn(con: duckdb.DuckDBPyConnection) -> list[str]:
        current = read_effective(con, video_id, analysis_id)
        now = utcnow()
        rows: list[dict[str, Any]] = [
            {
                "id": str(uuid.uuid4()),
                "video_id": video_id,
                "analysis_id": current.analysis_id,
                "field": name,
                "old_value": json.dumps(current.fields[name].model_value, ensure_ascii=False),
                "new_value": json.dumps(value, ensure_ascii=False),
                "author": author,
                "created_at": now,
            }
            for name, value in changes.items()
            if value != current.value(name)
        ]
        insert_rows(con, "corrections", rows)
        return [r["field"] for r in rows]

    if not wh.exists():
        raise WarehouseError(f"no warehouse at {wh.root}")
    return run_in_transaction(wh, txn, f"corrections of {video_id} by {author}")
