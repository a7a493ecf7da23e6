"""Write one video's rows and media to the warehouse atomically.

The cache key holds the warehouse's identity (a random id made with its catalog, read from
SQLite in a millisecond), so a deleted or recreated warehouse is rebuilt instead of trusting a
stale cache entry, without querying the tables on every run, and where the media go (the
warehouse folder or ``ADREF_MEDIA_PATH``): a result that wrote keyframes to one machine's disk
says nothing of the bucket. After the commit the video's search index entry is
refreshed; a refresh that fails is only a warning (the next one repairs it), never the run's
failure. The key leaves out the source and what it said (title, description): the same content
from another URL or file has nothing new to store here, and its sighting is recorded with the
run's row. The title returned is the one the warehouse holds, which a later source never
replaces, so a cached result still tells it. A catalog or bucket that does not answer, or
commits that kept conflicting, are retried as the other stages' network failures are: each
attempt writes the whole video again or nothing.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.context import TaskRunContext
from pydantic import BaseModel

from adref.analysis import Analysis
from adref.caches import cache_folders
from adref.models import (
    DetectResult,
    DownloadedVideo,
    Grouping,
    SpeechResult,
    TextResult,
    VideoMeta,
)
from adref.settings import Settings
from adref.tags import unique as unique_tags
from adref.tasks.policy import cache_key, retry_if_transient
from adref.warehouse.records import VideoWrite


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    from adref.warehouse.catalog import Warehouse  # lazy: DuckDB

    settings: Settings = inputs["settings"]
    warehouse = Warehouse.of(settings)
    warehouse.init()  # the key needs its identity; made here, it is made once
    video: DownloadedVideo = inputs["video"]
    return cache_key(
        "persist",
        6,  # the task takes the stages' results, keyed by the groups', texts' and speech's keys
        settings.warehouse,
        warehouse.identity(),
        warehouse.media.where,  # media written to one store are not in another
        inputs["analysis"].analysis_id,
        video.content_hash,
        inputs["grouping"].key,
        inputs["texts"].key,
        inputs["speech"].key,
        inputs["speech"].status,  # a transcript heard after a failed try is written
        inputs["owner"],
        sorted(unique_tags(inputs["tags"])),
        settings.keep_video,
    )


class Persisted(BaseModel):
    keyframe_paths: dict[int, str]
    media_path: str | None
    title: str | None = None  # as stored: the first source's title, not necessarily this run's


@task(name="persist", cache_key_fn=_key, persist_result=True, retry_condition_fn=retry_if_transient)
def persist(
    meta: VideoMeta,
    video: DownloadedVideo,
    detected: DetectResult,
    texts: TextResult,
    speech: SpeechResult,
    grouping: Grouping,
    analysis: Analysis,
    owner: str | None,
    tags: list[str],
    settings: Settings,
) -> Persisted:
    # lazy: DuckDB and PyArrow, imported when the stage runs
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.media import store_keyframes, store_video

    warehouse = Warehouse.of(settings)
    keyframes = store_keyframes(warehouse.media, meta.video_id, detected.shots)
    media_path = None
    if settings.keep_video:
        downloads = cache_folders(settings)["downloads"].resolve()
        owned = video.path.resolve().is_relative_to(downloads)
        media_path = store_video(
            warehouse.media, meta.video_id, video.path, detected.stream.codec, owned=owned
        )
    row = warehouse.write_video(
        VideoWrite(
            meta=meta,
            content_hash=video.content_hash,
            stream=detected.stream,
            shots=detected.shots,
            keyframe_paths=keyframes,
            texts=texts.texts,
            transcript=speech if speech.heard else None,
            grouping=grouping,
            analysis=analysis,
            media_path=media_path,
            owner=owner,
            user_tags=sorted(unique_tags(tags)),
        )
    )
    refresh_search(meta.video_id, settings)
    return Persisted(keyframe_paths=keyframes, media_path=media_path, title=row["title"])


def refresh_search(video_id: str, settings: Settings) -> None:
    """The video's search entry, after the commit; a failure is a warning in the run's log."""
    from adref.search.index import refresh_quietly  # lazy: DuckDB, PyArrow, NumPy

    if refresh_quietly(settings, [video_id]) is None:
        get_run_logger().warning(
            "search index not refreshed for %s: the next refresh or `adref index` repairs it",
            video_id,
        )
