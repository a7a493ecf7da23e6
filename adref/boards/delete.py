"""Deleting a video for good: its rows, its media, its cached files, then its search entry.

Rows go first, in one transaction (``warehouse.delete``), so no reader sees a row whose file is
gone; then the files the rows named, the download cache (kept by video id, or by URL for
yt-dlp's generic extractor) and raw model answers saved for inspection; last, the search index
drops the id. ``runs`` rows stay as history. Prefect's own result cache is keyed by hashes of
inputs, not by video: a later run of the same video may be served from it, which is harmless,
as it then writes the video again whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adref.models import safe_id
from adref.search.index import refresh_quietly
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from adref.warehouse.delete import DeletedRows, delete_rows, remove_media
from adref.warehouse.media_store import remove_paths


@dataclass(frozen=True)
class Deleted:
    video_id: str
    rows: dict[str, int]
    files: tuple[str, ...]  # media names and cached files and folders removed


def cached_files(settings: Settings, deleted: DeletedRows) -> list[Path]:
    downloads = settings.cache_dir / "downloads"
    keys = [deleted.video_id, *(f"url:{source}" for source in deleted.sources)]
    found = [downloads / safe_id(key) for key in keys]
    media = settings.cache_dir / "media"  # kept copies fetched from the bucket: <tag>/<name>
    if media.is_dir():
        found += sorted(media.glob(f"*/{safe_id(deleted.video_id)}.*"))
    answers = settings.home.expanduser() / "answers"
    if answers.is_dir():
        found += sorted(answers.glob(f"{safe_id(deleted.video_id)}-*.txt"))
    return found


def delete_video(settings: Settings, video_id: str) -> Deleted:
    wh = Warehouse.of(settings)
    rows = delete_rows(wh, video_id)
    removed = [*remove_media(wh, rows), *map(str, remove_paths(cached_files(settings, rows)))]
    refresh_quietly(settings, [video_id])  # rows are gone either way; search catches up
    return Deleted(video_id, rows.rows, tuple(removed))
