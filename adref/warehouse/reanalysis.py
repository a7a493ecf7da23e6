"""What a re-analysis reads: a stored video as the analyser needs it again, and the videos a bulk
re-analysis selects.

A re-analysis works from the warehouse alone: the shots, scene groups, keyframes, lines read on
screen (``shot_texts``) and voice-over heard (``transcripts``) stored by the first run are the
detect, text, speech and group work, so nothing is downloaded or decoded again. Everything is
read in one snapshot, so a writer replacing the video meanwhile cannot mix two versions.

The stream is rebuilt from ``videos`` (width, height, fps, duration, codec, frame count, rotation,
variable frame rate are all stored). A warehouse made before one of those columns existed has
NULL there: the kept playable copy is probed for it (with the caller's ``probe``: the warehouse
does not decode video itself) (its codec may be the copy's, H.264, rather
than the original's), and without a copy it is derived (frames = duration x fps, codec
``unknown``, no rotation, constant frame rate). Scene groups whose ``analysed`` flag is unset
everywhere (older rows) are all sent, and an unset ``short_form`` is recomputed from the stream
(with the caller's ``short_form``: grouping's rule, not the warehouse's).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from adref import tags
from adref.analysis import AnalysisRequest
from adref.errors import InputError, WarehouseError
from adref.models import (
    Grouping,
    PaletteColor,
    SceneGroup,
    Shot,
    ShotText,
    StreamInfo,
    TranscriptSegment,
    VideoMeta,
)
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from adref.warehouse.media_store import MediaStore, checked, is_media_path
from adref.warehouse.read import execute, open_reader, read_statements, video_rows

LIST_HINT = 'list them with `adref sql "select video_id, title from videos"`'
_STREAM_EXTRAS = ("frame_count", "codec", "rotation", "variable_frame_rate")
_DERIVED: dict[str, Any] = {"codec": "unknown", "rotation": 0, "variable_frame_rate": False}

Probe = Callable[[Path], StreamInfo]  # adref.sources.probe.probe_video
ShortForm = Callable[[StreamInfo], bool]  # adref.grouping.is_short_form


def load_request(
    wh: Warehouse,
    video_id: str,
    *,
    probe: Probe,
    short_form: ShortForm,
    output_language: Literal["ko", "en"] = "ko",
    model: str | None = None,
) -> AnalysisRequest:
    """Everything the analyser is given for ``video_id``, rebuilt from the warehouse; ``probe``
    and ``short_form`` fill what an older warehouse did not store."""
    with contextlib.closing(wh.connect(read_only=True)) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            videos = video_rows(con, "SELECT * FROM videos WHERE video_id = $v", video_id)
            if not videos:
                raise InputError(f"no video {video_id} in the warehouse", hint=LIST_HINT)
            shots = video_rows(
                con, "SELECT * FROM shots WHERE video_id = $v ORDER BY shot_index", video_id
            )
            groups = video_rows(
                con,
                "SELECT * FROM scene_groups WHERE video_id = $v ORDER BY group_index",
                video_id,
            )
            texts = video_rows(
                con,
                "SELECT * FROM shot_texts WHERE video_id = $v ORDER BY shot_index, start_s",
                video_id,
            )
            heard = video_rows(
                con, "SELECT * FROM transcripts WHERE video_id = $v ORDER BY start_s", video_id
            )
        finally:
            con.execute("COMMIT")
    video = videos[0]
    stream = _stream(wh, video, probe)
    return AnalysisRequest(
        meta=_meta(video),
        stream=stream,
        shots=[_shot(wh.media, row) for row in shots],
        grouping=_grouping(video, groups, stream, short_form),
        output_language=output_language,
        model=model,
        texts=[_text(row) for row in texts],
        transcript=[
            TranscriptSegment(**{k: row[k] for k in TranscriptSegment.model_fields})
            for row in heard
        ],
        transcript_language=next((row["language"] for row in heard if row["language"]), None),
    )


class KeptCopy(NamedTuple):
    path: Path
    content_hash: str  # the stored video's (the copy may be a re-encoding); else its id


def media_copy(wh: Warehouse, video_id: str, reading: str = "its text") -> KeptCopy:
    """The kept playable copy of a stored video, for reading what the warehouse lacks (the text
    on screen or the voice-over of a video stored before they were read); an InputError naming
    what was to be read (``reading``) when none is kept."""
    with contextlib.closing(wh.connect(read_only=True)) as con:
        row = con.execute(
            "SELECT media_path, content_hash FROM videos WHERE video_id = $v", {"v": video_id}
        ).fetchone()
    if row is None:
        raise InputError(f"no video {video_id} in the warehouse", hint=LIST_HINT)
    try:
        if not is_media_path(row[0]):
            raise FileNotFoundError(row[0])
        path = wh.media.local_file(row[0])  # from a bucket: downloaded to ADREF_HOME/cache/media
    except FileNotFoundError:
        raise InputError(
            f"no kept copy of {video_id} to read {reading} from",
            "it was stored without one (ADREF_KEEP_VIDEO=false) or the file is gone",
            "analyse it again from its source with `adref analyze SOURCE --refresh`",
        ) from None
    return KeptCopy(path, str(row[1] or video_id))


def select_videos(
    wh: Warehouse,
    *,
    genre: str | None = None,
    provider: str | None = None,
    since: date | str | None = None,
    tag: str | None = None,
    ids_sql: str | None = None,
) -> list[str]:
    """Stored video ids matching every filter given (all of them when none is), oldest first.

    ``genre`` and ``provider`` match any stored analysis of the video; ``since`` is a UTC date
    the video was first ingested on or after; ``tag`` matches its user or site tags, ignoring
    case; ``ids_sql`` is one read-only query whose ``video_id`` column names videos.
    """
    where: list[str] = []
    params: dict[str, Any] = {}
    if genre is not None:
        where.append("video_id IN (SELECT video_id FROM analyses WHERE genre = $genre)")
        params["genre"] = genre
    if provider is not None:
        where.append("video_id IN (SELECT video_id FROM analyses WHERE provider = $provider)")
        params["provider"] = provider
    if since is not None:
        day = _date(since)
        where.append("ingested_at >= $since")
        params["since"] = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if tag is not None:
        where.append(
            "list_contains(list_transform(coalesce(user_tags, []) || coalesce(site_tags, []), "
            "t -> lower(t)), lower($tag))"
        )
        params["tag"] = tags.normal(tag)
    if ids_sql is not None:
        where.append("list_contains($ids, video_id)")
        params["ids"] = query_ids(wh, ids_sql)
    sql = "SELECT video_id FROM videos"
    if where:
        sql += " WHERE " + " AND ".join(where)
    with contextlib.closing(wh.connect(read_only=True)) as con:
        rows = con.execute(sql + " ORDER BY ingested_at, video_id", params).fetchall()
    return [str(r[0]) for r in rows]


def stored_ids(wh: Warehouse, video_ids: list[str]) -> set[str]:
    """Which of these ids the warehouse holds."""
    with contextlib.closing(wh.connect(read_only=True)) as con:
        rows = con.execute(
            "SELECT video_id FROM videos WHERE list_contains($ids, video_id)", {"ids": video_ids}
        ).fetchall()
    return {r[0] for r in rows}


def require_stored(wh: Warehouse, video_ids: list[str]) -> None:
    """Refuse ids the warehouse does not hold, all named at once, before any work starts."""
    known = stored_ids(wh, video_ids)
    if missing := [v for v in video_ids if v not in known]:
        raise InputError(f"no video {', '.join(missing)} in the warehouse", hint=LIST_HINT)


def query_ids(wh: Warehouse, sql: str) -> list[str]:
    """The ``video_id`` column of one query, run as ``adref sql`` runs it (read-only)."""
    statements = read_statements(sql)
    if len(statements) != 1:
        raise InputError(
            "the id query must be one statement", f"it has {len(statements)}", "drop the others"
        )
    with contextlib.closing(open_reader(wh)) as con:
        result = execute(con, statements[0])
        columns = result.columns if result is not None else []
        if result is None or "video_id" not in columns:
            raise InputError(
                "the id query returns no video_id column",
                f"its columns: {', '.join(columns) or 'none'}",
                "select it, e.g. \"select video_id from analyses where genre = 'tvc'\"",
            )
        at = columns.index("video_id")
        ids = [row[at] for batch in result.batches for row in batch]
    return list(dict.fromkeys(str(v) for v in ids if v is not None))


def _date(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"bad date {value!r}", "expected YYYY-MM-DD") from None


def _meta(video: dict[str, Any]) -> VideoMeta:
    raw = video.get("metadata")
    metadata = json.loads(raw) if isinstance(raw, str) and raw else {}
    fields = {k: video.get(k) for k in VideoMeta.model_fields}
    fields["site_tags"] = list(video.get("site_tags") or [])
    fields["metadata"] = metadata if isinstance(metadata, dict) else {}
    return VideoMeta.model_validate(fields)


def _stream(wh: Warehouse, video: dict[str, Any], probe: Probe) -> StreamInfo:
    values = {k: video.get(k) for k in StreamInfo.model_fields}
    missing = [k for k, v in values.items() if v is None]
    media = video.get("media_path")
    if missing and is_media_path(media) and wh.media.exists(media):
        probed = probe(wh.media.local_file(media)).model_dump()
        values.update({k: probed[k] for k in missing})
    if values["frame_count"] is None and values["duration_s"] and values["fps"]:
        values["frame_count"] = round(values["duration_s"] * values["fps"])
    for key in _STREAM_EXTRAS:
        if values[key] is None and key in _DERIVED:
            values[key] = _DERIVED[key]
    if unknown := [k for k, v in values.items() if v is None]:
        raise WarehouseError(
            f"stored video {video['video_id']} is incomplete",
            f"no {', '.join(unknown)} in videos and no kept copy to probe",
            "analyse it again from its source with `adref analyze SOURCE --refresh`",
        )
    return StreamInfo.model_validate(values)


def _shot(media: MediaStore, row: dict[str, Any]) -> Shot:
    path = row.get("keyframe_path")
    jpeg = b""
    if path:
        try:
            jpeg = media.read_bytes(checked(path))
        except (OSError, InputError) as exc:
            raise WarehouseError(
                f"keyframe of shot {row['shot_index']} of {row['video_id']} is missing",
                f"{path}: {getattr(exc, 'strerror', None) or 'not found'}",
                "analyse the video again from its source with `adref analyze SOURCE --refresh`",
            ) from None
    fields = {k: row[k] for k in Shot.model_fields if k in row and row[k] is not None}
    fields["palette"] = [PaletteColor(**p) for p in row.get("palette") or []]
    fields["vector"] = [float(x) for x in row.get("vector") or []]
    return Shot(**fields, keyframe_jpeg=jpeg)


def _text(row: dict[str, Any]) -> ShotText:
    fields = {k: row[k] for k in ShotText.model_fields if k in row}
    fields["box"] = tuple(row.get("box") or (0, 0, 0, 0))
    return ShotText.model_validate(fields)


def _grouping(
    video: dict[str, Any], rows: list[dict[str, Any]], stream: StreamInfo, short_form_of: ShortForm
) -> Grouping:
    groups = [SceneGroup(**{k: row[k] for k in SceneGroup.model_fields}) for row in rows]
    flagged = [row for row in rows if row.get("analysed") is not None]
    analysed = [row["group_index"] for row in rows if row.get("analysed")]
    short_form = video.get("short_form")
    if short_form is None:
        short_form = short_form_of(stream)
    granularity = video.get("granularity")
    return Grouping(
        groups=groups,
        analysis_groups=analysed if flagged else [g.group_index for g in groups],
        granularity=granularity or Settings.model_fields["granularity"].default,
        short_form=bool(short_form),
    )
