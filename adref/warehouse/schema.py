"""Every warehouse table and column, with its DuckDB type and the Arrow type rows are built in.

One definition drives ``CREATE TABLE``, the additive migration in ``Warehouse.init`` and the Arrow
batches the writers insert, so the SQL side and the Python side cannot drift apart. Columns may be
added here (init adds them to an existing warehouse); a column's meaning never changes. What each
column means is in docs/warehouse.md, which a test keeps complete.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class ColumnType:
    sql: str
    arrow: pa.DataType


def _list(item: ColumnType) -> ColumnType:
    return ColumnType(f"{item.sql}[]", pa.list_(item.arrow))


VARCHAR = ColumnType("VARCHAR", pa.string())
JSON = ColumnType("JSON", pa.string())
INTEGER = ColumnType("INTEGER", pa.int32())
BIGINT = ColumnType("BIGINT", pa.int64())
DOUBLE = ColumnType("DOUBLE", pa.float64())
FLOAT = ColumnType("FLOAT", pa.float32())
BOOLEAN = ColumnType("BOOLEAN", pa.bool_())
DATE = ColumnType("DATE", pa.date32())
TIMESTAMPTZ = ColumnType("TIMESTAMPTZ", pa.timestamp("us", tz="UTC"))
PALETTE = _list(
    ColumnType(
        "STRUCT(hex VARCHAR, weight DOUBLE)",
        pa.struct([("hex", pa.string()), ("weight", pa.float64())]),
    )
)
VARCHARS = _list(VARCHAR)
INTEGERS = _list(INTEGER)
FLOATS = _list(FLOAT)

TABLES: dict[str, dict[str, ColumnType]] = {
    "videos": {
        "video_id": VARCHAR,
        "source_url": VARCHAR,
        "webpage_url": VARCHAR,
        "title": VARCHAR,
        "description": VARCHAR,
        "uploader": VARCHAR,
        "upload_date": DATE,
        "duration_s": DOUBLE,
        "width": INTEGER,
        "height": INTEGER,
        "fps": DOUBLE,
        "aspect": DOUBLE,
        "codec": VARCHAR,
        "frame_count": BIGINT,
        "rotation": INTEGER,
        "variable_frame_rate": BOOLEAN,
        "extractor": VARCHAR,
        "view_count": BIGINT,
        "ingested_at": TIMESTAMPTZ,
        "updated_at": TIMESTAMPTZ,
        "content_hash": VARCHAR,
        "site_tags": VARCHARS,
        "user_tags": VARCHARS,
        "owner": VARCHAR,
        "media_path": VARCHAR,
        "shot_count": INTEGER,
        "group_count": INTEGER,
        "granularity": INTEGER,
        "short_form": BOOLEAN,
        "metadata": JSON,
        "speech": VARCHAR,
        "speech_engine": VARCHAR,
    },
    "video_sources": {
        "video_id": VARCHAR,
        "source": VARCHAR,
        "kind": VARCHAR,
        "webpage_url": VARCHAR,
        "extractor": VARCHAR,
        "title": VARCHAR,
        "description": VARCHAR,
        "uploader": VARCHAR,
        "first_seen_at": TIMESTAMPTZ,
        "last_seen_at": TIMESTAMPTZ,
        "seen_count": INTEGER,
    },
    "shots": {
        "video_id": VARCHAR,
        "shot_index": INTEGER,
        "start_s": DOUBLE,
        "end_s": DOUBLE,
        "duration_s": DOUBLE,
        "start_frame": BIGINT,
        "end_frame": BIGINT,
        "keyframe_s": DOUBLE,
        "keyframe_path": VARCHAR,
        "palette": PALETTE,
        "brightness": DOUBLE,
        "saturation": DOUBLE,
        "warmth": DOUBLE,
        "colourfulness": DOUBLE,
        "motion": DOUBLE,
        "camera_pan_x": DOUBLE,
        "camera_pan_y": DOUBLE,
        "face_count": INTEGER,
        "face_area": DOUBLE,
        "has_text": BOOLEAN,
        "text_area": DOUBLE,
        "flatness": DOUBLE,
        "vector": FLOATS,
    },
    "shot_texts": {
        "video_id": VARCHAR,
        "shot_index": INTEGER,
        "start_s": DOUBLE,
        "text": VARCHAR,
        "confidence": DOUBLE,
        "box": INTEGERS,
        "language": VARCHAR,
    },
    "transcripts": {
        "video_id": VARCHAR,
        "start_s": DOUBLE,
        "end_s": DOUBLE,
        "text": VARCHAR,
        "language": VARCHAR,
        "provider": VARCHAR,
        "model": VARCHAR,
    },
    "scene_groups": {
        "video_id": VARCHAR,
        "group_index": INTEGER,
        "shot_indices": INTEGERS,
        "start_s": DOUBLE,
        "end_s": DOUBLE,
        "representative_shot": INTEGER,
        "keyframe_path": VARCHAR,
        "analysed": BOOLEAN,
    },
    "analyses": {
        "analysis_id": VARCHAR,
        "video_id": VARCHAR,
        "provider": VARCHAR,
        "model": VARCHAR,
        "prompt_version": VARCHAR,
        "output_language": VARCHAR,
        "ad_language": VARCHAR,
        "genre": VARCHAR,
        "genre_reason": VARCHAR,
        "genre_confidence": DOUBLE,
        "expression_format": VARCHAR,
        "features": JSON,
        "mood": VARCHARS,
        "tone": VARCHAR,
        "target_audience": VARCHAR,
        "hook": VARCHAR,
        "call_to_action": VARCHAR,
        "brand_cues": VARCHARS,
        "visual_style": VARCHAR,
        "summary": VARCHAR,
        "model_tags": VARCHARS,
        "tokens_in": BIGINT,
        "tokens_out": BIGINT,
        "cost_usd": DOUBLE,
        "latency_s": DOUBLE,
        "created_at": TIMESTAMPTZ,
    },
    "group_analyses": {
        "analysis_id": VARCHAR,
        "video_id": VARCHAR,
        "group_index": INTEGER,
        "description": VARCHAR,
        "shot_type": VARCHAR,
        "camera_movement": VARCHAR,
    },
    "runs": {
        "run_id": VARCHAR,
        "video_id": VARCHAR,
        "source": VARCHAR,
        "flow_run_id": VARCHAR,
        "status": VARCHAR,
        "started_at": TIMESTAMPTZ,
        "finished_at": TIMESTAMPTZ,
        "download_s": DOUBLE,
        "detect_s": DOUBLE,
        "text_s": DOUBLE,
        "speech_s": DOUBLE,
        "group_s": DOUBLE,
        "analyze_s": DOUBLE,
        "persist_s": DOUBLE,
        "total_s": DOUBLE,
        "tasks": INTEGER,
        "cache_hits": INTEGER,
        "bytes_downloaded": BIGINT,
        "provider": VARCHAR,
        "model": VARCHAR,
        "analysis_id": VARCHAR,
        "error": VARCHAR,
        "tokens_in": BIGINT,
        "tokens_out": BIGINT,
        "cost_usd": DOUBLE,
        "notes": VARCHAR,
    },
    "corrections": {
        "id": VARCHAR,
        "video_id": VARCHAR,
        "analysis_id": VARCHAR,
        "field": VARCHAR,
        "old_value": JSON,
        "new_value": JSON,
        "author": VARCHAR,
        "created_at": TIMESTAMPTZ,
    },
    "moodboards": {
        "id": VARCHAR,
        "name": VARCHAR,
        "description": VARCHAR,
        "owner": VARCHAR,
        "created_at": TIMESTAMPTZ,
        "updated_at": TIMESTAMPTZ,
    },
    "moodboard_items": {
        "moodboard_id": VARCHAR,
        "video_id": VARCHAR,
        "shot_index": INTEGER,
        "note": VARCHAR,
        "position": INTEGER,
        "added_at": TIMESTAMPTZ,
    },
    "notion_pages": {
        "kind": VARCHAR,
        "item_id": VARCHAR,
        "database_id": VARCHAR,
        "page_id": VARCHAR,
        "url": VARCHAR,
        "pushed_at": TIMESTAMPTZ,
    },
}


def create_sql(table: str) -> str:
    cols = ", ".join(f"{name} {t.sql}" for name, t in TABLES[table].items())
    return f"CREATE TABLE IF NOT EXISTS {table} ({cols})"


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema([(name, t.arrow) for name, t in TABLES[table].items()])


def fingerprint() -> str:
    """Changes whenever a table or column is added, so init knows when to migrate."""
    text = ";".join(f"{t}:{c}:{ty.sql}" for t, cols in TABLES.items() for c, ty in cols.items())
    return hashlib.sha256(text.encode()).hexdigest()[:16]
