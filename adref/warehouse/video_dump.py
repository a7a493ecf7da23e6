"""One video as plain data: every stored row about it, for a download or an archive."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import duckdb

from adref.errors import InputError
from adref.warehouse.catalog import Warehouse
from adref.warehouse.corrections import read_effective
from adref.warehouse.read import jsonable
from adref.warehouse.schema import JSON, TABLES

_JSON_COLUMNS = {c for cols in TABLES.values() for c, t in cols.items() if t == JSON}


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description or []]
    return [{k: _value(k, v) for k, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def _value(name: str, value: Any) -> Any:
    if name in _JSON_COLUMNS and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return jsonable(value)


def read_video(wh: Warehouse, video_id: str) -> dict[str, Any]:
    """The ``videos`` row, its sources, shots (without vectors), the text read on screen, scene
    groups, every analysis with its groups' descriptions, the corrections, and the effective
    (corrected) values."""
    with contextlib.closing(wh.connect(read_only=True)) as con:
        video = _rows(con, "SELECT * FROM videos WHERE video_id = ?", [video_id])
        if not video:
            raise InputError(f"no video {video_id} in the warehouse")
        analyses = _rows(
            con,
            "SELECT * FROM analyses WHERE video_id = ? ORDER BY created_at DESC, analysis_id",
            [video_id],
        )
        groups = _rows(
            con,
            "SELECT * FROM group_analyses WHERE video_id = ? ORDER BY analysis_id, group_index",
            [video_id],
        )
        for a in analyses:
            a["groups"] = [
                {k: v for k, v in g.items() if k not in ("analysis_id", "video_id")}
                for g in groups
                if g["analysis_id"] == a["analysis_id"]
            ]
        eff = read_effective(con, video_id)
        return {
            "video": video[0],
            "sources": _rows(
                con,
                "SELECT * EXCLUDE (video_id) FROM video_sources WHERE video_id = ? "
                "ORDER BY first_seen_at",
                [video_id],
            ),
            "effective": {
                name: {
                    "value": jsonable(c.value),
                    "model_value": jsonable(c.model_value),
                    "corrected_by": c.author,
                    "corrected_at": jsonable(c.at),
                }
                for name, c in eff.fields.items()
            },
            "analyses": analyses,
            "scene_groups": _rows(
                con,
                "SELECT * EXCLUDE (video_id) FROM scene_groups WHERE video_id = ? "
                "ORDER BY group_index",
                [video_id],
            ),
            "shots": _rows(
                con,
                "SELECT * EXCLUDE (video_id, vector) FROM shots WHERE video_id = ? "
                "ORDER BY shot_index",
                [video_id],
            ),
            "shot_texts": _rows(
                con,
                "SELECT * EXCLUDE (video_id) FROM shot_texts WHERE video_id = ? "
                "ORDER BY shot_index, box[2], box[1]",
                [video_id],
            ),
            "corrections": _rows(
                con,
                "SELECT * EXCLUDE (video_id) FROM corrections WHERE video_id = ? "
                "ORDER BY created_at",
                [video_id],
            ),
        }
