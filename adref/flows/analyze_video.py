"""One video, one flow run: download → detect → group → analyze → persist."""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from prefect import flow, get_run_logger
from prefect.context import FlowRunContext
from prefect.utilities.annotations import opaque

from adref.errors import AdrefError
from adref.flows import finishing
from adref.flows.sideline import Sideline
from adref.flows.stages import Stages, analyze_stage, record_run, settle
from adref.flows.summary import RunSummary, describe_analysis, markdown
from adref.models import utcnow
from adref.providers.base import AnalysisRequest
from adref.providers.chain import chain_names
from adref.providers.registry import get_provider
from adref.providers.remote.images import left_out, shown_groups
from adref.settings import get_settings
from adref.sources.limits import check_video
from adref.sources.local import existing_file, require_inside
from adref.sources.urls import looks_like_url, redact_url
from adref.tags import unique as unique_tags
from adref.tasks.detect import detect
from adref.tasks.download import download_present, fetch, resolve
from adref.tasks.group import group
from adref.tasks.persist import persist
from adref.video.detect import DetectParams
from adref.warehouse.catalog import Warehouse
from adref.warehouse.records import Sighting, VideoWrite
from adref.workspace import close_workspace, open_workspace

log = logging.getLogger(__name__)


def _source_name(source: str) -> str:
    return source.rstrip("/").rsplit("/", 1)[-1][:80] or source[:80]


@flow(
    name="analyze-video",
    log_prints=True,
    on_completion=[finishing.hook],
    on_failure=[finishing.hook],
    on_crashed=[finishing.hook],
    on_cancellation=[finishing.hook],
)
def analyze_video(
    source: str,
    provider: str = "local",
    model: str | None = None,
    owner: str | None = None,
    tags: list[str] | None = None,
    refresh: bool = False,
    estimate_only: bool = False,
) -> RunSummary:
    """Analyse one video (a URL or a file path) and store it in the warehouse.

    Args:
        source: A video URL (http or https), or a video file; a deployment run reads files
            only from the input folders (ADREF_INPUT_DIRS).
        provider: The analyser, or a fallback chain tried in order ("anthropic,openai,local").
        model: The provider's model; its default when empty.
        owner: Who the video is filed under in the library.
        tags: Your own tags for the video, beside the site's and the model's.
        refresh: Recompute every stage instead of reusing cached work.
        estimate_only: Stop before any model call and report the planned calls, tokens and cost.
    """
    settings = get_settings()
    logger = get_run_logger()
    ctx = FlowRunContext.get()
    flow_run_id = str(ctx.flow_run.id) if ctx and ctx.flow_run else None
    run_id = uuid.uuid4().hex
    started_at = utcnow()
    clock = time.perf_counter()
    sideline = Sideline(flow_run_id)
    stages = Stages(refresh, sideline)
    workspace = open_workspace(settings.work_dir, run_id, flow_run_id)
    warehouse = Warehouse(settings.warehouse)
    summary = RunSummary(
        run_id=run_id,
        flow_run_id=flow_run_id,
        status="running",
        source=redact_url(source) if looks_like_url(source) else source,
        provider=provider,
        warehouse=str(settings.warehouse),
    )
    bytes_downloaded = 0
    try:
        if ctx and ctx.flow_run and ctx.flow_run.deployment_id and not looks_like_url(source):
            require_inside(existing_file(source), settings.input_folders)
        resolved = stages.run("download", resolve, retry=True, source=source)
        summary.video_id = resolved.video_id
        video = stages.run(
            "download",
            fetch,
            retry=True,
            refresh=not download_present(resolved),
            resolved=resolved,
            workspace=workspace,
        )
        check_video(video, settings)
        bytes_downloaded = 0 if stages.last_cached else video.bytes_downloaded
        # A site video's download is cached on its id: it may be another URL's of the video.
        meta = video.meta.model_copy(update={"source_url": resolved.meta.source_url})
        summary.video_id, summary.title = meta.video_id, meta.title
        sideline.rename(f"{meta.title or meta.video_id} [{meta.video_id}]")
        logger.info("video %s (%s)", meta.video_id, meta.title)

        params = DetectParams.from_settings(settings)
        detected = stages.run(
            "detect", detect, path=video.path, content_hash=video.content_hash, params=params
        )
        # Big results go in opaque: Prefect would otherwise walk every shot's fields looking
        # for futures (about half a second per video); the edges in its task graph stay.
        detect_key = f"{video.content_hash}:{params.model_dump_json()}"
        mode, max_images = settings.image_mode, settings.max_analysis_images
        max_groups = shown_groups(mode, max_images)
        grouping = stages.run(
            "group",
            group,
            detected=opaque(detected),
            detect_key=detect_key,
            granularity=settings.granularity,
            max_groups=max_groups,
        )
        group_key = f"{detect_key}:{settings.granularity}:{max_groups}"
        logger.info("%d shots in %d scene groups", len(detected.shots), len(grouping.groups))
        note = left_out(len(grouping.groups), grouping.analysis_groups, mode, max_images)
        if note is not None:
            summary.notes.append(note)
            logger.warning(note)

        request = AnalysisRequest(
            meta=meta,
            stream=detected.stream,
            shots=detected.shots,
            grouping=grouping,
            output_language=settings.output_language,
            model=model,
        )
        if estimate_only:
            summary.estimates = [
                get_provider(name).estimate(request) for name in chain_names(provider)
            ]
            summary.status = "estimated"
            summary.shots, summary.groups = len(detected.shots), len(grouping.groups)
            close_workspace(workspace, succeeded=True)
            sideline.close()
            return summary
        analysis = analyze_stage(stages, summary, provider, request, group_key, logger)
        write = VideoWrite(
            meta=meta,
            content_hash=video.content_hash,
            stream=detected.stream,
            shots=detected.shots,
            keyframe_paths={},
            grouping=grouping,
            analysis=analysis,
            media_path=None,
            owner=owner,
            user_tags=sorted(unique_tags(tags or [])),
            source_path=video.path,
        )
        warehouse.init()
        persisted = stages.run(
            "persist",
            persist,
            write=opaque(write),
            group_key=group_key,
            keep_video=settings.keep_video,
            warehouse_identity=warehouse.identity(),
        )
        # The summary artifact belongs to what is stored: a run that changed nothing (every
        # stage from cache) leaves the video's latest summary, under the same key, as it is.
        stored_now = not stages.last_cached
        if not stored_now:
            logger.info(
                "unchanged: the video's summary is artifact %s", _artifact_key(meta.video_id)
            )
    except BaseException as exc:
        if not sideline.renamed:  # failed before the video was known: name it by its source
            sideline.rename(_source_name(summary.source))
        summary.status = "failed"
        summary.error = (
            exc.one_line() if isinstance(exc, AdrefError) else f"{type(exc).__name__}: {exc}"
        )
        record_run(warehouse, summary, stages, started_at, clock, bytes_downloaded)
        close_workspace(workspace, succeeded=False)
        sideline.close()
        logger.error(
            "%s failed: %s (workspace kept at %s)", stages.current, summary.error, workspace
        )
        raise

    describe_analysis(summary, detected, analysis)
    summary.title = persisted.title or meta.title
    summary.source_title = meta.title if meta.title != summary.title else None
    summary.groups = len(grouping.groups)
    summary.attach_line = warehouse.attach_line()
    settle(summary, stages, clock, bytes_downloaded)
    # The run's row commits, its workspace goes and its summary is drawn (a thumbnail per scene
    # group) and sent while Prefect marks the run completed; the completion hook waits for all
    # of it, so it is done before the flow call returns.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adref-record")
    sighting = Sighting(source=meta.source_url or resolved.source, kind=resolved.kind, meta=meta)
    pool.submit(
        record_run,
        warehouse,
        summary.model_copy(),
        stages,
        started_at,
        clock,
        bytes_downloaded,
        sighting,
    )
    pool.submit(close_workspace, workspace, True)
    if stored_now:
        shown = summary.model_copy()
        sideline.markdown(
            lambda: markdown(shown, detected, grouping, analysis, settings.viewer_url),
            key=_artifact_key(meta.video_id),
            description=f"adref summary of {meta.video_id}",
        )

    def finish() -> None:
        pool.shutdown()
        sideline.close()

    finishing.later(flow_run_id, finish)
    return summary


def _artifact_key(video_id: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in video_id.lower())
    return ("adref-" + safe)[:60].strip("-")
