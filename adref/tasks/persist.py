"""Write one video's rows and media to the warehouse atomically.

The cache key holds the warehouse's identity (a random id made with its catalog, read from
SQLite in a millisecond), so a deleted or recreated warehouse is rebuilt instead of trusting a
stale cache entry, without querying the tables on every run. After the commit the video's
search index entry is refreshed; a refresh that fails is only a warning (the next one repairs
it), never the run's failure. It leaves out the source and what
it said (title, description): the same content from another URL or file has nothing new to
store here, and its sighting is recorded with the run's row. The title returned is the one the
warehouse holds, which a later source never replaces, so a cached result still tells it.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.context import TaskRunContext
from pydantic import BaseModel

from adref.search.index import refresh_quietly
from adref.settings import get_settings
from adref.tasks.policy import cache_key
from adref.warehouse.catalog import Warehouse
from adref.warehouse.media import store_keyframes, store_video
from adref.warehouse.records import VideoWrite


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    w: VideoWrite = inputs["write"]
    return cache_key(
        "persist",
        2,  # results carry the stored title
        get_settings().warehouse,
        inputs["warehouse_identity"],
        w.analysis.analysis_id,
        w.content_hash,
        inputs["group_key"],
        w.owner,
        sorted(w.user_tags),
        inputs["keep_video"],
    )


class Persisted(BaseModel):
    keyframe_paths: dict[int, str]
    media_path: str | None
    title: str | None = None  # as stored: the first source's title, not necessarily this run's


@task(name="persist", cache_key_fn=_key, persist_result=True)
def persist(
    write: VideoWrite, group_key: str, keep_video: bool, warehouse_identity: str
) -> Persisted:
    root = get_settings().warehouse
    wh = Warehouse(root)
    wh.init()
    keyframes = store_keyframes(root, write.meta.video_id, write.shots)
    media_path = write.media_path
    if keep_video and write.source_path is not None:
        media_path = store_video(root, write.meta.video_id, write.source_path, write.stream.codec)
    final = write.model_copy(update={"keyframe_paths": keyframes, "media_path": media_path})
    row = wh.write_video(final)
    refresh_search(write.meta.video_id)
    return Persisted(keyframe_paths=keyframes, media_path=media_path, title=row["title"])


def refresh_search(video_id: str) -> None:
    """The video's search entry, after the commit; a failure is a warning in the run's log."""
    if refresh_quietly(get_settings(), [video_id]) is None:
        get_run_logger().warning(
            "search index not refreshed for %s: the next refresh or `adref index` repairs it",
            video_id,
        )
