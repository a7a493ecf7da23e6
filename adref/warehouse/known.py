"""Which videos and sources the warehouse already holds: what an ingest leaves out."""

from __future__ import annotations

import contextlib

from adref.warehouse.catalog import Warehouse

__all__ = ["known_videos"]


def known_videos(
    wh: Warehouse, video_ids: list[str], sources: list[str]
) -> tuple[set[str], set[str]]:
    """The given video ids stored in ``videos``, and the given sources any stored video was
    analysed from (``video_sources``: a URL as a run records it, or a file's path)."""
    if not wh.exists() or not (video_ids or sources):
        return set(), set()
    with contextlib.closing(wh.connect(read_only=True)) as con:
        ids = con.execute(
            "SELECT DISTINCT video_id FROM videos WHERE video_id IN (SELECT unnest($ids))",
            {"ids": video_ids},
        ).fetchall()
        seen = con.execute(
            "SELECT DISTINCT source FROM video_sources WHERE source IN (SELECT unnest($s))",
            {"s": sources},
        ).fetchall()
    return {row[0] for row in ids}, {row[0] for row in seen}
