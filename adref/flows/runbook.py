"""A run's bookkeeping, the same for both flows: its stages' figures, its progress bar, its name,
its summary artifact and its row in the warehouse's ``runs`` table.

The flow calls its tasks through ``RunBook.stage`` and leaves the rest here, so the flow's body
is the pipeline. Everything goes through Prefect's public API (artifacts, the run's context and
client, a state hook); what only informs (progress, the run's name) never fails a run.
"""

from __future__ import annotations

import logging
import signal
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from prefect import Task, get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.client.orchestration import SyncPrefectClient
from prefect.context import FlowRunContext

from adref import progress
from adref.analysis import Analysis
from adref.errors import AdrefError, ProviderError, Stopped, interruption
from adref.flows.summary import describe_analysis, markdown
from adref.models import (
    DetectResult,
    DownloadedVideo,
    Grouping,
    SpeechResult,
    VideoMeta,
    utcnow,
)
from adref.providers.base import CallEstimate
from adref.runcard import keep_row
from adref.settings import Settings
from adref.sources.resolved import ResolvedSource
from adref.sources.urls import looks_like_url, redact_url
from adref.speech.params import SpeechParams
from adref.tasks.analyze import AnalyzeOutcome
from adref.tasks.policy import configured
from adref.tasks.runs import RunRow, RunSummary, StageResult, attach_line, run_row, write_row
from adref.tasks.speech import transcribe
from adref.workspace import close_workspace, open_workspace

log = logging.getLogger(__name__)


def source_name(source: str) -> str:
    """A run's name before its video is known: the file's or the address's last part."""
    return source.rstrip("/").rsplit("/", 1)[-1][:80] or source[:80]


_ROWS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adref-runs-row")
_WRITING: dict[str, Future[None]] = {}  # flow run id → its runs row, being written


def row_written(flow: Any, flow_run: Any, state: Any) -> None:
    """A state hook of both flows: the flow call returns only once its run's row is written.

    A completed run's row is written while Prefect records the run's final state (a DuckLake
    transaction beside an API call), the one overlap that keeps a warm re-run near an empty
    flow's time."""
    future = _WRITING.pop(str(flow_run.id), None)
    if future is not None:
        future.result()


def _write_and_close(
    settings: Settings, row: RunRow, workspace: Path, succeeded: bool, kept: bool
) -> None:
    """Write the row, then close the run's folder. A row that was ``kept`` beside the run's card
    and could not be written stays there: the next adref start on this machine writes it."""
    if write_row(settings, row) or not kept:
        close_workspace(workspace, succeeded)
    else:
        log.warning("the run's row is kept in %s for the next adref start to write", workspace)


def artifact_key(video_id: str) -> str:
    """The summary artifact's key: one per video, so the latest summary is the one shown."""
    safe = "".join(c if c.isalnum() else "-" for c in video_id.lower())
    return ("adref-" + safe)[:60].strip("-")


class RunBook:
    """Use as a context manager around the flow's body: a run that raises is recorded as failed
    (its workspace kept for inspection), with what its model calls cost."""

    def __init__(
        self,
        settings: Settings,
        *,
        source: str,
        provider: str,
        refresh: bool,
        video_id: str | None = None,
        what: str = "adref stages",
        stages: tuple[str, ...] = progress.STAGES,
        keep_failed: bool = True,
        keyed_artifact: bool = True,
    ) -> None:
        self.settings = settings
        self.refresh = refresh
        self.what = what
        self.stages = stages  # this flow's, for its progress bar
        self.keep_failed = keep_failed  # a failed run's workspace holds what it downloaded
        self.keyed_artifact = keyed_artifact  # the video's latest summary, shown in Artifacts
        ctx = FlowRunContext.get()  # prefect.runtime's deployment id would ask the API for it
        run = ctx.flow_run if ctx else None
        self._client = ctx.client if ctx and isinstance(ctx.client, SyncPrefectClient) else None
        self.flow_run_id = str(run.id) if run else None
        # A retry (the UI's, after a crash) is another Running state of the same flow run.
        self._state_id = str(run.state.id) if run and run.state and run.state.id else None
        self.deployed = bool(run and run.deployment_id)
        self.logger = get_run_logger()
        self.summary = RunSummary(
            run_id=uuid.uuid4().hex,
            flow_run_id=self.flow_run_id,
            status="running",
            source=redact_url(source) if looks_like_url(source) else source,
            video_id=video_id,
            provider=provider,
            warehouse=str(settings.warehouse),
        )
        self.results = {s: StageResult(stage=s) for s in progress.STAGES}
        self.current = ""
        self.last_cached = False
        self.renamed = bool(ctx and ctx.flow and ctx.flow.flow_run_name)  # named at its start
        self.started_at: datetime = utcnow()
        self._clock = time.perf_counter()
        self._progress_id: Any = None
        self._seen: tuple[ResolvedSource | None, VideoMeta] | None = None
        self.workspace = settings.work_dir / self.summary.run_id

    def __enter__(self) -> RunBook:
        """The run's workspace, holding its card while it runs: a killed run is known dead."""
        open_workspace(
            self.settings.work_dir, self.summary.run_id, self.flow_run_id, self._state_id
        )
        return self

    # -- the stages --------------------------------------------------------------------------

    def stage(self, name: str, task: Task[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one task: timed, its cache hit counted, its progress shown. ``refresh=True``
        recomputes it whatever the cache holds."""
        self.current = name
        progress.report(name, "start")
        refresh = kwargs.pop("refresh", False) or self.refresh
        run = configured(task, self.settings, refresh)
        started = time.perf_counter()
        state = run(*args, **kwargs, return_state=True)
        result = self.results[name]
        result.seconds += time.perf_counter() - started
        result.tasks += 1
        if not state.is_completed():
            progress.report(name, "failed")
        value = state.result()  # raises the task's own exception
        self.last_cached = state.name == "Cached"
        result.cached += int(self.last_cached)
        progress.report(name, "cached" if self.last_cached else "done", 1.0)
        if not self.last_cached:
            done = sum(1 for s in self.stages if self.results[s].tasks)
            self._show_progress(100.0 * done / len(self.stages))
        return value

    def _show_progress(self, percent: float) -> None:
        """The bar appears with the first stage that did work: a run served from cache is over
        before anyone could watch it."""
        if self.flow_run_id is None or (self._progress_id is None and self.last_cached):
            return
        try:
            if self._progress_id is None:
                self._progress_id = create_progress_artifact(percent, description=self.what)
            else:
                update_progress_artifact(self._progress_id, percent)
        except Exception as exc:  # it only informs
            log.debug("progress not shown: %s", exc)

    # -- what the run learns -----------------------------------------------------------------

    def downloaded(self, resolved: ResolvedSource, video: DownloadedVideo) -> VideoMeta:
        """The video's metadata as this source gave it (a cached download may be of another
        URL of the same video), and the run named after it."""
        meta = video.meta.model_copy(update={"source_url": resolved.meta.source_url})
        self.summary.bytes_downloaded = 0 if self.last_cached else video.bytes_downloaded
        self._seen = (resolved, meta)
        self.found(meta)
        return meta

    def found(self, meta: VideoMeta, name_suffix: str = "") -> None:
        self.summary.video_id, self.summary.title = meta.video_id, meta.title
        self.logger.info("video %s (%s)", meta.video_id, meta.title)
        self.rename(f"{meta.title or meta.video_id} [{meta.video_id}]{name_suffix}")

    def rename(self, name: str) -> None:
        """One API call, once the video is known (named by its title rather than a random name
        first, which ``flow_run_name`` would add a call for on every run)."""
        self.renamed = True
        if self.flow_run_id is None or self._client is None:
            return
        try:  # with the run's own client: no new connection
            self._client.update_flow_run(uuid.UUID(self.flow_run_id), name=name[:120])
        except Exception as exc:  # it only informs
            log.debug("run not renamed: %s", exc)

    def note(self, line: str | None) -> None:
        if line:
            self.summary.notes.append(line)
            self.logger.warning(line)

    def transcribed(self, path: Path, content_hash: str, params: SpeechParams) -> SpeechResult:
        """The speech stage: a failure served from the cache is no answer to keep, so the engine
        is asked again (the step never raises, so Prefect would keep a failure like an answer)."""
        args = (path, content_hash, params, self.workspace, self.settings)
        speech = self.stage("speech", transcribe, *args)
        if speech.status == "failed" and self.last_cached:
            speech = self.stage("speech", transcribe, *args, refresh=True)
        return speech

    def heard(self, speech: SpeechResult, asked: bool = False) -> None:
        """The speech step's one line: a failure goes to the run's notes, the rest to its log;
        a skip too when the run was ``asked`` for the speech (its transcript is left alone)."""
        if speech.status == "failed" or (asked and not speech.heard):
            self.note(speech.note)
        elif speech.note:
            self.logger.info(speech.note)

    def note_all(self, lines: list[str]) -> None:
        for line in lines:
            self.note(line)

    def analysed(self, outcome: AnalyzeOutcome) -> Analysis:
        """The analysis, with what the chain spent noted in the summary. An answer served from
        cache cost this run nothing: its tokens and cost stay with the analysis (and the run
        that paid for it), or the day's cap would count them once per re-run."""
        if not self.last_cached:
            self.summary.tokens_in, self.summary.tokens_out = outcome.tokens_in, outcome.tokens_out
            self.summary.cost_usd = outcome.cost_usd
            self.summary.notes += outcome.notes
            for line in outcome.notes:
                self.logger.warning("provider chain: %s", line)
        return outcome.analysis

    # -- how the run ends --------------------------------------------------------------------

    def estimated(self, estimates: list[CallEstimate], detected: DetectResult) -> RunSummary:
        self.summary.estimates = estimates
        self.summary.status = "estimated"
        self.summary.shots = len(detected.shots)
        return self.summary

    def stored(
        self,
        detected: DetectResult,
        grouping: Grouping,
        analysis: Analysis,
        title: str | None = None,
    ) -> RunSummary:
        """The completed run's summary. Its artifact is drawn only when this run stored
        something: a run wholly from cache leaves the video's latest summary as it is."""
        summary = self.summary
        describe_analysis(summary, detected, analysis)
        source_title = summary.title
        summary.title = title or source_title
        summary.source_title = source_title if source_title != summary.title else None
        summary.groups = len(grouping.groups)
        summary.attach_line = attach_line(self.settings)
        if self.last_cached:
            key = artifact_key(summary.video_id or "")
            self.logger.info("unchanged: the video's summary is artifact %s", key)
        elif self.flow_run_id is not None:
            self._summary_artifact(detected, grouping, analysis)
        self._show_progress(100.0)
        self._tally()
        seen_at, meta = self._seen or (None, None)
        row = run_row(summary, self.started_at, seen_at, meta)
        if self.flow_run_id is None:
            _write_and_close(self.settings, row, self.workspace, True, kept=False)
        else:  # written while Prefect records the final state; ``row_written`` waits for it
            kept = self._keep(row)
            _WRITING[self.flow_run_id] = _ROWS.submit(
                _write_and_close, self.settings, row, self.workspace, True, kept
            )
        return summary

    def _keep(self, row: RunRow) -> bool:
        """Keep the row beside the run's card (a run under Prefect has one) until it is written:
        a process killed before the commit leaves it for the next start."""
        try:
            keep_row(self.workspace, row.model_dump_json())
        except OSError as exc:  # bookkeeping: the row is still written below
            log.warning("the run's row could not be kept in %s: %s", self.workspace, exc)
            return False
        return True

    def _summary_artifact(self, detected: DetectResult, grouping: Grouping, a: Analysis) -> None:
        summary = self.summary
        try:
            create_markdown_artifact(
                markdown(summary, detected, grouping, a, self.settings.viewer_url),
                key=artifact_key(summary.video_id or "") if self.keyed_artifact else None,
                description=f"adref summary of {summary.video_id} by {a.provider} / {a.model}",
            )
        except Exception as exc:  # the run's data is stored; say what was lost
            self.logger.warning("summary artifact not created: %s", exc)

    def _tally(self) -> None:
        summary = self.summary
        summary.stages = list(self.results.values())
        summary.tasks = sum(r.tasks for r in summary.stages)
        summary.cache_hits = sum(r.cached for r in summary.stages)
        summary.total_s = time.perf_counter() - self._clock

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            return
        summary = self.summary
        stop = interruption(exc)
        if stop is not None:  # stopped, not failed: as Prefect records it (Crashed, Cancelled)
            summary.status = self._stopped_as()
            summary.error = _stop_reason(stop)
        else:
            summary.status = "failed"
            summary.error = (
                exc.one_line() if isinstance(exc, AdrefError) else f"{type(exc).__name__}: {exc}"
            )
        if isinstance(exc, ProviderError):  # a failed run still records what its calls cost
            summary.provider = exc.provider or summary.provider  # the one that failed
            summary.tokens_in, summary.tokens_out = exc.tokens_in, exc.tokens_out
            summary.cost_usd = exc.cost_usd
            summary.notes += exc.notes
        self._tally()
        if not self.renamed:  # failed before its video was known: named by its source
            self.rename(source_name(summary.source))
        row = run_row(summary, self.started_at)
        kept = self.flow_run_id is not None and self._keep(row)
        _write_and_close(self.settings, row, self.workspace, not self.keep_failed, kept)
        where = f" (workspace kept at {self.workspace})" if self.keep_failed else ""
        how = "failed" if stop is None else "stopped"
        self.logger.error("%s %s: %s%s", self.current or "start", how, summary.error, where)
        if stop is not None and stop is not exc:  # a stop DuckDB turned into an error
            raise stop from None

    def _stopped_as(self) -> str:
        """``cancelled`` when the run is being cancelled (the UI's Cancel: its worker stops
        the process), else ``crashed``, Prefect's state for a run whose process was stopped."""
        if self.flow_run_id is None or self._client is None:
            return "crashed"
        try:
            run = self._client.read_flow_run(uuid.UUID(self.flow_run_id))
        except Exception as exc:  # it only names the stop
            log.debug("run state not read: %s", exc)
            return "crashed"
        state = run.state.type.value if run.state is not None else ""
        return "cancelled" if state in ("CANCELLING", "CANCELLED") else "crashed"


def _stop_reason(stop: BaseException) -> str:
    if isinstance(stop, Stopped):
        return f"stopped by {stop.name}"
    if isinstance(stop, KeyboardInterrupt):
        return "stopped by Ctrl-C (SIGINT)"
    if isinstance(stop, SystemExit):
        return f"stopped: the process exited ({stop.code})"
    signum: Any = getattr(stop, "signal", None)  # Prefect's TerminationSignal names its signal
    try:
        return f"stopped by {signal.Signals(signum).name}"
    except ValueError:
        return f"stopped by a signal ({type(stop).__name__})"
