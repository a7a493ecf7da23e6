"""What every adref flow does around its tasks: time them, count cache hits, record the run."""

from __future__ import annotations

import logging
import time
from typing import Any

from prefect import Task
from prefect.results import ResultRecord
from prefect.states import State
from prefect.utilities.annotations import opaque

from adref import progress
from adref.analysis import Analysis
from adref.errors import ProviderError
from adref.flows.sideline import Sideline
from adref.flows.summary import RunSummary, StageResult
from adref.models import utcnow
from adref.providers.base import AnalysisRequest
from adref.tasks.analyze import analyze, plan
from adref.tasks.policy import task_options
from adref.warehouse.catalog import Warehouse
from adref.warehouse.records import RunRecord, Sighting

log = logging.getLogger(__name__)


class Stages:
    """Runs tasks stage by stage, timing them and counting cache hits for the runs table."""

    def __init__(
        self, refresh: bool, sideline: Sideline, counted: tuple[str, ...] = progress.STAGES
    ) -> None:
        self.refresh = refresh
        self.results = {s: StageResult(stage=s) for s in progress.STAGES}
        self.sideline = sideline
        self.counted = counted  # the stages this flow has, for its progress bar
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
        state = _configured(task, options)(**kwargs, return_state=True)
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
        return _value(state)

    def _progress(self) -> None:
        done = sum(1 for s in self.counted if self.results[s].tasks)
        self.sideline.progress(100.0 * done / len(self.counted))

    @property
    def tasks(self) -> int:
        return sum(r.tasks for r in self.results.values())

    @property
    def cache_hits(self) -> int:
        return sum(r.cached for r in self.results.values())


def _value(state: State[Any]) -> Any:
    """A completed task's value. ``State.result()`` would get it on Prefect's event-loop thread
    and wait for it there, even when it is already in memory: a thread hop per task."""
    if state.is_completed() and isinstance(state.data, ResultRecord):
        return state.data.result
    return state.result()


_CONFIGURED: dict[tuple[Any, ...], Task[..., Any]] = {}


def _configured(task: Task[..., Any], options: dict[str, Any]) -> Task[..., Any]:
    """The task with these options, made once: ``with_options`` builds a whole new task (its
    signature read, its key hashed from its source) on every call, for the same options."""
    if not options:
        return task
    key = (task, *sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()))
    configured = _CONFIGURED.get(key)
    if configured is None:
        configured = _CONFIGURED[key] = task.with_options(**options)
    return configured


def settle(summary: RunSummary, stages: Stages, clock: float, bytes_downloaded: int) -> None:
    """Put the stages' figures and the time so far into the summary."""
    summary.stages = list(stages.results.values())
    summary.tasks, summary.cache_hits = stages.tasks, stages.cache_hits
    summary.bytes_downloaded = bytes_downloaded
    summary.total_s = time.perf_counter() - clock


def record_run(
    warehouse: Warehouse,
    summary: RunSummary,
    stages: Stages,
    started_at: Any,
    clock: float,
    bytes_downloaded: int,
    sighting: Sighting | None = None,
) -> None:
    """Append the run's row (timings, cache hits, spend, error) whatever its outcome, with the
    source a completed run saw its video at."""
    settle(summary, stages, clock, bytes_downloaded)
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
        warehouse.append_run(record, sighting)
    except Exception as exc:  # the run's own outcome matters more than its bookkeeping
        log.warning("could not record the run in the warehouse: %s", exc)


def analyze_stage(
    stages: Stages,
    summary: RunSummary,
    provider: str,
    request: AnalysisRequest,
    group_key: str,
    logger: Any,
) -> Analysis:
    """Ask the provider chain (cached on its planned ids) and note this run's spend in the summary.

    An answer served from cache cost this run nothing: its tokens and cost stay with the analysis
    (and the run that paid for it), or the day's cap would count them once per re-run.
    """
    try:
        outcome = stages.run(
            "analyze",
            analyze,
            retry=True,
            provider_name=provider,
            request=opaque(request),
            planned_id=plan(provider, request),
            group_key=group_key,
        )
    except ProviderError as exc:  # a failed run still records what its model calls cost
        summary.provider = exc.provider or summary.provider  # the one that failed, not the chain
        summary.tokens_in, summary.tokens_out = exc.tokens_in, exc.tokens_out
        summary.cost_usd = exc.cost_usd
        summary.notes += exc.notes
        raise
    analysis: Analysis = outcome.analysis
    if stages.last_cached:
        return analysis
    summary.tokens_in, summary.tokens_out = outcome.tokens_in, outcome.tokens_out
    summary.cost_usd = outcome.cost_usd
    summary.notes += outcome.notes
    for note in outcome.notes:
        logger.warning("provider chain: %s", note)
    return analysis
