"""Deleting a video: every row that describes it, in one transaction, then its media (files or
bucket objects).

``runs`` rows are kept: they are the history of what ran, what it cost and when (the day's
spending cap sums them), not a description of the video; their ``video_id`` then names a video
that is no longer stored, as a failed run's may. Rows go first so that no reader ever sees a row
pointing at a deleted file; a file left behind by a crash in between is only an orphan.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from adref.errors import InputError
from adref.models import safe_id
from adref.warehouse.catalog import Warehouse
from adref.warehouse.media import KEYFRAMES, PLAYABLE_SUFFIXES, VIDEOS
from adref.warehouse.media_store import is_media_path
from adref.warehouse.moodboards import close_gaps
from adref.warehouse.write import run_in_transaction

# Every table that holds a video's rows (``runs`` is history and stays).
VIDEO_TABLES = (
    "moodboard_items",
    "corrections",
    "group_analyses",
    "analyses",
    "scene_groups",
    "shot_texts",
    "transcripts",
    "shots",
    "video_sources",
    "videos",
)


@dataclass(frozen=True)
class DeletedRows:
    video_id: str
    rows: dict[str, int]  # table -> rows deleted
    media: tuple[str, ...]  # paths relative to the warehouse root that the rows named
    sources: tuple[str, ...]  # where the video was seen (for the download cache's keys)


def delete_rows(wh: Warehouse, video_id: str) -> DeletedRows:
    """Delete the video's rows from every table in one transaction; refused if it is unknown."""

    def txn(con: duckdb.DuckDBPyConnection) -> DeletedRows:
        found = con.execute(
            "SELECT media_path FROM videos WHERE video_id = ?", [video_id]
        ).fetchall()
        if not found:
            raise InputError(f"no video {video_id} in the warehouse", "nothing to delete")
        keyframes = con.execute(
            "SELECT keyframe_path FROM shots WHERE video_id = $v AND keyframe_path IS NOT NULL "
            "UNION SELECT keyframe_path FROM scene_groups WHERE video_id = $v "
            "AND keyframe_path IS NOT NULL",
            {"v": video_id},
        ).fetchall()
        sources = con.execute(
            "SELECT source FROM video_sources WHERE video_id = ? AND kind = 'url'", [video_id]
        ).fetchall()
        boards = con.execute(
            "SELECT DISTINCT moodboard_id FROM moodboard_items WHERE video_id = ?", [video_id]
        ).fetchall()
        counts: dict[str, int] = {}
        for table in VIDEO_TABLES:
            (n,) = con.execute(
                f"DELETE FROM {table} WHERE video_id = ?", [video_id]
            ).fetchone() or (0,)
            counts[table] = int(n)
        for (board_id,) in boards:
            close_gaps(con, board_id)
        media = [m for (m,) in found if m] + [k for (k,) in keyframes]
        return DeletedRows(
            video_id, counts, tuple(sorted(set(media))), tuple(s for (s,) in sources)
        )

    return run_in_transaction(wh, txn, f"video {video_id} deleted")


def media_names(deleted: DeletedRows) -> list[str]:
    """The media names (files and keyframe folders) that belonged to the video.

    Only names under ``media/`` are ever given, whatever the rows said.
    """
    vid = safe_id(deleted.video_id)
    found = [
        str(KEYFRAMES / vid),
        *(str(VIDEOS / f"{vid}{suffix}") for suffix in PLAYABLE_SUFFIXES),
        *deleted.media,
    ]
    return sorted({name for name in found if is_media_path(name)})


def remove_media(wh: Warehouse, deleted: DeletedRows) -> list[str]:
    """Remove the video's media from the warehouse's store; the names that existed."""
    return wh.media.remove(media_names(deleted))
