"""One video, one flow run: download → detect → group → analyze → persist."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from prefect import Task, flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext
from prefect.runtime import flow_run as runtime_flow_run
from prefect.utilities.annotations import opaque

from adref import progress
from adref.errors import AdrefError
from adref.flows.sideline import Sideline
from adref.flows.summary import RunSummary, StageResult, markdown, overall_palette
from adref.models import utcnow
from adref.providers.base import AnalysisRequest
from adref.providers.chain import chain_names
from adref.providers.registry import get_provider
from adref.settings import get_settings
from adref.tasks.analyze import analyze, plan
from adref.tasks.detect import detect
from adref.tasks.download import download_present, fetch, resolve
from adref.tasks.group import group
from adref.tasks.persist import persist
from adref.tasks.policy import task_options
from adref.video.detect import DetectParams
from adref.warehouse.catalog import Warehouse
from adref.warehouse.records import RunRecord, VideoWrite
from adref.workspace import close_workspace, open_workspace

log = logging.getLogger(__name__)


class _Stages:
    """Runs tasks stage by stage, timing them and counting cache hits for the runs table."""

    def __init__(self, refresh: bool, sideline: Sideline) -> None:
        self.refresh = refresh
        self.results = {s: StageResult(stage=s) for s in progress.STAGES}
        self.sideline = sideline
        self.current = ""
        self.last_cached = False

    def run(
        self,
        stage: str,
        task: Task[..., Any],
        retry: bool = False,
        refresh: bool = False,
        **kwargs: Any,
    ) -> Any:
        self.current = stage
        progress.report(stage, "start")
        options: dict[str, Any] = task_options() if retry else {}
        if self.refresh or refresh:
            options["refresh_cache"] = True
        started = time.perf_counter()
        state = (
            task.with_options(**options)(**kwargs, return_state=True)
            if options
            else task(**kwargs, return_state=True)
        )
        result = self.results[stage]
        result.seconds += time.perf_counter() - started
        result.tasks += 1
        if state.is_failed() or state.is_crashed():
            progress.report(stage, "failed")
            value = state.result()  # raises the task's own exception
            raise RuntimeError(f"{stage} failed without an exception: {value!r}")
        cached = state.name == "Cached"
        self.last_cached = cached
        result.cached += int(cached)
        progress.report(stage, "cached" if cached else "done", 1.0)
        self._progress()
        return state.result()

    def _progress(self) -> None:
        done = sum(1 for r in self.results.values() if r.tasks)
        self.sideline.progress(100.0 * done / len(self.results))

    @property
    def tasks(self) -> int:
        return sum(r.tasks for r in self.results.values())

    @property
    def cache_hits(self) -> int:
        return sum(r.cached for r in self.results.values())


def _run_name() -> str:
    source = str(runtime_flow_run.parameters.get("source", "video"))
    return source.rstrip("/").rsplit("/", 1)[-1][:80] or source[:80]


@flow(name="analyze-video", flow_run_name=_run_name, log_prints=True)
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

    ``provider`` may be a fallback chain ("anthropic,openai,local"). With ``estimate_only`` the
    run stops before any model call and returns the planned calls, tokens and cost.
    """
    settings = get_settings()
    logger = get_run_logger()
    ctx = FlowRunContext.get()
    flow_run_id = str(ctx.flow_run.id) if ctx and ctx.flow_run else None
    run_id = uuid.uuid4().hex
    started_at = utcnow()
    clock = time.perf_counter()
    sideline = Sideline(flow_run_id)
    stages = _Stages(refresh, sideline)
    workspace = open_workspace(settings.work_dir, run_id)
    warehouse = Warehouse(settings.warehouse)
    summary = RunSummary(
        run_id=run_id,
        flow_run_id=flow_run_id,
        status="running",
        source=source,
        provider=provider,
        warehouse=str(settings.warehouse),
    )
    bytes_downloaded = 0
    try:
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
        bytes_downloaded = 0 if stages.last_cached else video.bytes_downloaded
        meta = video.meta
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
        grouping = stages.run(
            "group",
            group,
            detected=opaque(detected),
            detect_key=detect_key,
            granularity=settings.granularity,
            max_images=settings.max_analysis_images,
        )
        group_key = f"{detect_key}:{settings.granularity}:{settings.max_analysis_images}"
        logger.info("%d shots in %d scene groups", len(detected.shots), len(grouping.groups))

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
        planned_id = plan(provider, request)
        outcome = stages.run(
            "analyze",
            analyze,
            retry=True,
            provider_name=provider,
            request=opaque(request),
            planned_id=planned_id,
            group_key=group_key,
        )
        analysis = outcome.analysis
        summary.tokens_in, summary.tokens_out = outcome.tokens_in, outcome.tokens_out
        summary.cost_usd, summary.notes = outcome.cost_usd, outcome.notes
        for note in outcome.notes:
            logger.warning("provider chain: %s", note)
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
            user_tags=sorted(set(tags or [])),
            source_path=video.path,
        )
        stages.run(
            "persist",
            persist,
            refresh=not warehouse.has_video(meta.video_id, analysis.analysis_id),
            write=opaque(write),
            group_key=group_key,
            keep_video=settings.keep_video,
        )
    except BaseException as exc:
        summary.status = "failed"
        summary.error = (
            exc.one_line() if isinstance(exc, AdrefError) else f"{type(exc).__name__}: {exc}"
        )
        _finish(warehouse, summary, stages, started_at, clock, bytes_downloaded)
        close_workspace(workspace, succeeded=False)
        sideline.close()
        logger.error(
            "%s failed: %s (workspace kept at %s)", stages.current, summary.error, workspace
        )
        raise

    summary.status = "completed"
    summary.duration_s = detected.stream.duration_s
    summary.width, summary.height = detected.stream.width, detected.stream.height
    summary.shots, summary.groups = len(detected.shots), len(grouping.groups)
    summary.analysis_id, summary.model = analysis.analysis_id, analysis.model
    summary.provider = analysis.provider
    summary.genre, summary.expression_format = analysis.genre, analysis.expression_format
    summary.mood, summary.tags, summary.summary = (
        analysis.mood,
        analysis.model_tags,
        analysis.summary,
    )
    summary.palette = overall_palette(detected)
    summary.attach_line = warehouse.attach_line()
    _finish(warehouse, summary, stages, started_at, clock, bytes_downloaded)
    close_workspace(workspace, succeeded=True)
    create_markdown_artifact(
        markdown(summary, detected, grouping, analysis),
        key=_artifact_key(meta.video_id),
        description=f"adref summary of {meta.video_id}",
    )
    sideline.close()
    return summary


def _artifact_key(video_id: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in video_id.lower())
    return ("adref-" + safe)[:60].strip("-")


def _finish(
    warehouse: Warehouse,
    summary: RunSummary,
    stages: _Stages,
    started_at: Any,
    clock: float,
    bytes_downloaded: int,
) -> None:
    summary.stages = list(stages.results.values())
    summary.tasks, summary.cache_hits = stages.tasks, stages.cache_hits
    summary.bytes_downloaded = bytes_downloaded
    summary.total_s = time.perf_counter() - clock
    seconds = {r.stage: round(r.seconds, 4) for r in summary.stages}
    record = RunRecord(
        run_id=summary.run_id,
        video_id=summary.video_id,
        source=summary.source,
        flow_run_id=summary.flow_run_id,
        status=summary.status,
        started_at=started_at,
        finished_at=utcnow(),
        download_s=seconds["download"],
        detect_s=seconds["detect"],
        group_s=seconds["group"],
        analyze_s=seconds["analyze"],
        persist_s=seconds["persist"],
        total_s=round(summary.total_s, 4),
        tasks=summary.tasks,
        cache_hits=summary.cache_hits,
        bytes_downloaded=bytes_downloaded,
        provider=summary.provider,
        model=summary.model,
        analysis_id=summary.analysis_id,
        error=summary.error,
        tokens_in=summary.tokens_in,
        tokens_out=summary.tokens_out,
        cost_usd=summary.cost_usd,
        notes="; ".join(summary.notes) or None,
    )
    try:
        warehouse.init()
        warehouse.append_run(record)
    except Exception as exc:  # the run's own outcome matters more than its bookkeeping
        log.warning("could not record the run in the warehouse: %s", exc)
