"""A stored video analysed again with another provider, model or prompt: analyze → persist.

The shots, scene groups and keyframes come from the warehouse (the first run's detect and group
work), so nothing is downloaded or decoded. The new analysis gets its own ``analysis_id`` and
sits beside the others; the video's shots and groups are not touched.
"""

from __future__ import annotations

import hashlib
import time
import uuid

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext
from prefect.runtime import flow_run as runtime_flow_run

from adref.errors import AdrefError
from adref.flows.sideline import Sideline
from adref.flows.stages import Stages, analyze_stage, record_run
from adref.flows.summary import RunSummary, describe_analysis, markdown
from adref.grouping import is_short_form
from adref.models import DetectResult, utcnow
from adref.providers.base import AnalysisRequest
from adref.settings import get_settings
from adref.sources.probe import probe_video
from adref.tasks.persist_analysis import persist_analysis
from adref.warehouse.catalog import Warehouse
from adref.warehouse.reanalysis import load_request
from adref.workspace import close_workspace, open_workspace

RESTAGES = ("analyze", "persist")


def stored_work_key(request: AnalysisRequest) -> str:
    """What the analyze task's answer depends on besides its analysis id: the stored video.

    A digest of the request as rebuilt from the warehouse (keyframes by their bytes), so the
    same re-analysis of the same stored video is a cache hit, and a video stored again with
    other shots or groups is analysed afresh. The first run's own key (content hash and detect
    parameters) cannot be known from the warehouse, so re-analysing with exactly the stored
    analysis's provider, model and prompt asks once more; ``adref reanalyze`` skips those.
    """
    digest = hashlib.sha256()
    digest.update(
        request.model_dump_json(exclude={"shots": {"__all__": {"keyframe_jpeg"}}}).encode()
    )
    for shot in request.shots:
        digest.update(hashlib.sha256(shot.keyframe_jpeg).digest())
    return "stored:" + digest.hexdigest()


def _run_name() -> str:
    params = runtime_flow_run.parameters
    return f"{params.get('video_id', 'video')} → {params.get('provider', 'local')}"[:120]


@flow(name="reanalyze-video", flow_run_name=_run_name, log_prints=True)
def reanalyze_video(
    video_id: str,
    provider: str = "local",
    model: str | None = None,
    refresh: bool = False,
) -> RunSummary:
    """Analyse a stored video again (another provider, model or prompt) and keep both analyses.

    Args:
        video_id: The stored video, as in the warehouse (e.g. "youtube:dQw4w9WgXcQ").
        provider: The analyser, or a fallback chain tried in order ("anthropic,openai,local").
        model: The provider's model; its default when empty.
        refresh: Ask again even if this exact analysis is cached.
    """
    settings = get_settings()
    logger = get_run_logger()
    ctx = FlowRunContext.get()
    flow_run_id = str(ctx.flow_run.id) if ctx and ctx.flow_run else None
    started_at = utcnow()
    clock = time.perf_counter()
    sideline = Sideline(flow_run_id, "adref re-analysis")
    stages = Stages(refresh, sideline, counted=RESTAGES)
    warehouse = Warehouse(settings.warehouse)
    run_id = uuid.uuid4().hex
    # Nothing is written there: it holds the run's card, so a killed run is known dead.
    workspace = open_workspace(settings.work_dir, run_id, flow_run_id)
    summary = RunSummary(
        run_id=run_id,
        flow_run_id=flow_run_id,
        status="running",
        source=video_id,
        video_id=video_id,
        provider=provider,
        warehouse=str(settings.warehouse),
    )
    try:
        request = load_request(
            warehouse,
            video_id,
            probe=probe_video,
            short_form=is_short_form,
            output_language=settings.output_language,
            model=model,
        )
        summary.title = request.meta.title
        sideline.rename(f"{request.meta.title or video_id} [{video_id}] → {provider}")
        logger.info(
            "re-analysing %s (%s) with %s: %d shots, %d scene groups from the warehouse",
            video_id,
            request.meta.title,
            provider,
            len(request.shots),
            len(request.grouping.groups),
        )
        analysis = analyze_stage(
            stages, summary, provider, request, stored_work_key(request), logger
        )
        stages.run(
            "persist",
            persist_analysis,
            refresh=not warehouse.has_video(video_id, analysis.analysis_id),
            analysis=analysis,
        )
    except BaseException as exc:
        summary.status = "failed"
        summary.error = (
            exc.one_line() if isinstance(exc, AdrefError) else f"{type(exc).__name__}: {exc}"
        )
        record_run(warehouse, summary, stages, started_at, clock, 0)
        close_workspace(workspace, succeeded=True)  # nothing in it to inspect
        sideline.close()
        logger.error("%s failed: %s", stages.current or "load", summary.error)
        raise

    stream = request.stream
    detected = DetectResult(stream=stream, shots=request.shots, detector="stored")
    describe_analysis(summary, detected, analysis)
    summary.groups = len(request.grouping.groups)
    summary.attach_line = warehouse.attach_line()
    record_run(warehouse, summary, stages, started_at, clock, 0)
    close_workspace(workspace, succeeded=True)
    create_markdown_artifact(
        markdown(summary, detected, request.grouping, analysis, settings.viewer_url),
        description=f"adref re-analysis of {video_id} by {analysis.provider} / {analysis.model}",
    )
    sideline.close()
    return summary
