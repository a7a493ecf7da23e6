"""Starting and following adref's deployment runs through the Prefect API, for the viewer.

The viewer never runs a flow itself: it asks the Prefect server for a run of a deployment
(``adref up`` or ``adref deploy`` registers them), a worker takes it, and the page follows
the run's state and task runs. The server is the one ``PREFECT_API_URL`` names, else the one an
``adref up`` on this machine advertises; with neither reachable every call raises
``NoServer``, whose message is the one line the page shows. The viewer never starts an
embedded server: it would vanish with the page, and no worker would see its runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx

from adref.deployments.definitions import DEPLOYMENTS, full_name
from adref.errors import AdrefError, InputError
from adref.prefect_env import running_api_url
from adref.progress import STAGES
from adref.providers.chain import chain_names
from adref.providers.registry import get_provider
from adref.settings import Settings
from adref.sources.local import existing_file, require_inside
from adref.sources.urls import check_url, looks_like_url
from adref.warehouse.catalog import Warehouse
from adref.warehouse.stats import run_outcome

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

log = logging.getLogger(__name__)

_BY_FLOW = {d.flow_name: full_name(d) for d in DEPLOYMENTS}
ANALYZE, REANALYZE = _BY_FLOW["analyze-video"], _BY_FLOW["reanalyze-video"]
REANALYZE_STAGES = ("analyze", "persist")
# Prefect task names → the stage a person sees (the flows' progress bars use the same five).
_TASK_STAGE = {"resolve": "download", "persist-analysis": "persist"} | {s: s for s in STAGES}
HEALTH_TIMEOUT_S = 3.0


class NoServer(AdrefError):
    """No Prefect server answers where adref would look for one."""


@dataclass(frozen=True)
class StartedRun:
    flow_run_id: str
    name: str
    ui_url: str  # the run in the Prefect UI


@dataclass(frozen=True)
class StageState:
    stage: str
    state: str  # pending | running | done | cached | failed


@dataclass
class RunProgress:
    flow_run_id: str
    name: str
    state: str  # Prefect's state type: SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, ...
    state_name: str  # its display name: Scheduled, Late, Running, Completed, Cached, ...
    message: str
    final: bool
    succeeded: bool
    stages: list[StageState] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    video_id: str | None = None  # known from the parameters, or once the run recorded it
    parameters: dict[str, Any] = field(default_factory=dict)


def api_url(settings: Settings) -> str:
    """The Prefect API to use, checked to answer; ``NoServer`` says how to get one."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value() or running_api_url(settings)
    if not url:
        raise NoServer(
            "no Prefect server to start runs on",
            hint="Start one with `adref up` (or set PREFECT_API_URL), then try again",
        )
    url = url.rstrip("/")
    try:
        healthy = httpx.get(f"{url}/health", timeout=HEALTH_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        healthy = False
    if not healthy:
        raise NoServer(
            f"no Prefect server answers at {url}",
            hint="Start one with `adref up` (or set PREFECT_API_URL), then try again",
        )
    return url


@contextmanager
def prefect_client(settings: Settings) -> Iterator[tuple[SyncPrefectClient, str]]:
    """A client for the server ``api_url`` finds, and that URL. Settings are scoped to this
    block (a context variable), so sessions on other threads are not affected."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = api_url(settings)
    with (
        temporary_settings(updates={PREFECT_API_URL: url}),
        get_client(sync_client=True) as client,
    ):
        yield client, url


def ui_link(url: str, flow_run_id: str) -> str:
    return f"{url.removesuffix('/api')}/runs/flow-run/{flow_run_id}"


def analyze_parameters(
    settings: Settings,
    source: str,
    provider: str = "local",
    model: str | None = None,
    tags: list[str] | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """An ``analyze-video`` run's parameters, checked as the run would check them, so a bad
    URL, a file outside the input folders or an unknown provider is refused before any run."""
    source = source.strip()
    if not source:
        raise InputError("nothing to analyse", hint="Paste a video URL or pick a file")
    if looks_like_url(source):
        source = check_url(source, allow_private=settings.allow_private_urls)
    else:
        source = str(require_inside(existing_file(source), settings.input_folders))
    params: dict[str, Any] = {"source": source, "provider": _provider(provider)}
    if model and model.strip():
        params["model"] = model.strip()
    if clean := [t.strip() for t in tags or [] if t.strip()]:
        params["tags"] = list(dict.fromkeys(clean))
    if owner and owner.strip():
        params["owner"] = owner.strip()
    return params


def reanalyze_parameters(video_id: str, provider: str, model: str | None = None) -> dict[str, Any]:
    if not video_id.strip():
        raise InputError("no video to analyse again")
    params: dict[str, Any] = {"video_id": video_id.strip(), "provider": _provider(provider)}
    if model and model.strip():
        params["model"] = model.strip()
    return params


def default_model(provider: str) -> str:
    """The model a provider (the first of a chain) uses when none is given, for the forms."""
    try:
        return get_provider(chain_names(provider)[0]).default_model
    except AdrefError:
        return ""


def _provider(spec: str) -> str:
    return ",".join(chain_names(spec))


def start_analyze(settings: Settings, **kwargs: Any) -> StartedRun:
    """Start an ``analyze-video`` run (keyword arguments as ``analyze_parameters`` takes)."""
    return _start(settings, ANALYZE, analyze_parameters(settings, **kwargs))


def start_reanalyze(
    settings: Settings, video_id: str, provider: str, model: str | None = None
) -> StartedRun:
    return _start(settings, REANALYZE, reanalyze_parameters(video_id, provider, model))


def _start(settings: Settings, deployment: str, parameters: dict[str, Any]) -> StartedRun:
    from prefect.exceptions import ObjectNotFound

    with prefect_client(settings) as (client, url):
        try:
            found = client.read_deployment_by_name(deployment)
        except ObjectNotFound:
            raise AdrefError(
                f"the {deployment} deployment is not on the Prefect server at {url}",
                hint="Register it with `adref deploy`, or use the server `adref up` starts",
            ) from None
        run = client.create_flow_run_from_deployment(
            found.id, parameters=parameters, tags=["adref-viewer"]
        )
    return StartedRun(str(run.id), run.name, ui_link(url, str(run.id)))


def follow(settings: Settings, flow_run_id: str, log_lines: int = 12) -> RunProgress:
    """Where a run is: its state, each stage's state from its task runs, its last log lines,
    and its video once known (from the parameters, or the ``runs`` row it wrote)."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.client.schemas.sorting import LogSort

    try:
        run_id = UUID(flow_run_id)
    except ValueError:
        raise InputError(f"no flow run {flow_run_id!r}", "not a flow run id") from None
    with prefect_client(settings) as (client, _):
        run = client.read_flow_run(run_id)
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])),
            limit=log_lines,
            sort=LogSort.TIMESTAMP_DESC,
        )
    state = run.state
    params = dict(run.parameters or {})
    progress = RunProgress(
        flow_run_id=flow_run_id,
        name=run.name,
        state=state.type.value if state else "PENDING",
        state_name=state.name if state and state.name else "Pending",
        message=(state.message or "") if state else "",
        final=bool(state and state.is_final()),
        succeeded=bool(state and state.is_completed()),
        stages=stage_states(REANALYZE_STAGES if "video_id" in params else STAGES, tasks),
        logs=[f"{entry.timestamp:%H:%M:%S} {entry.message}" for entry in reversed(logs)],
        video_id=params.get("video_id"),
        parameters=params,
    )
    if progress.final and progress.video_id is None:
        outcome = run_outcome(Warehouse.of(settings), flow_run_id)
        progress.video_id = outcome.video_id if outcome else None
    return progress


def stage_states(stages: tuple[str, ...], tasks: list[Any]) -> list[StageState]:
    """Each stage's state from its task runs (Prefect's ``TaskRun`` objects).

    A task run is named ``<task>-<suffix>``; a stage with several task runs (resolve and
    download) is running while any runs, failed if any failed, cached if all came from cache.
    """
    seen: dict[str, list[tuple[str | None, str | None]]] = {s: [] for s in stages}
    for task in tasks:
        name = task.name.rsplit("-", 1)[0] if "-" in task.name else task.name
        stage = _TASK_STAGE.get(name)
        if stage in seen:
            state = task.state
            seen[stage].append((state.type.value, state.name) if state else (None, None))
    return [StageState(stage, _stage_state(runs)) for stage, runs in seen.items()]


def _stage_state(runs: list[tuple[str | None, str | None]]) -> str:
    kinds = {kind for kind, _ in runs}
    if not runs:
        return "pending"
    if kinds & {"FAILED", "CRASHED", "CANCELLED"}:
        return "failed"
    if kinds & {"RUNNING", "PENDING", "SCHEDULED", "PAUSED", "CANCELLING", None}:
        return "running"
    return "cached" if all(label == "Cached" for _, label in runs) else "done"
