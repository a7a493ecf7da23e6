"""The ingest flow's stages: read the watch list, expand it, look up what is known or queued,
start one analysis run per new video.

Each is a plain function (``adref ingest`` calls them from a shell too) under a thin task.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from prefect import task
from prefect.cache_policies import NO_CACHE

from adref.errors import InputError
from adref.ingest.expand import Expansion, Found, expand_sources
from adref.ingest.plan import VIDEO_TAG, Queued, queued_run, source_key
from adref.ingest.report import Started
from adref.ingest.watchlist import VARIABLE, WatchList, combine, parse_watchlist, read_file
from adref.settings import Settings
from adref.sources.urls import redact_url

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

ANALYZE_DEPLOYMENT = "analyze-video/analyze-video"  # tests check it is one of DEPLOYMENTS
ANALYZE_FLOW = "analyze-video"


def load_watchlist(path: Path, settings: Settings, *, with_variable: bool) -> WatchList:
    """The file's entries, then the Prefect Variable's (when asked and set): both are read."""
    parts: list[WatchList | InputError] = []
    variable = read_variable() if with_variable else None
    default_missing = settings.watchlist is None and not path.exists()
    if not (variable is not None and default_missing):
        try:
            parts.append(read_file(path))
        except InputError as exc:
            parts.append(exc)
    if variable is not None:
        parts.append(variable)
    return combine(parts)


def read_variable() -> WatchList | InputError | None:
    """The watch list kept in the Prefect Variable ``adref_watchlist`` (YAML text, or the same
    structure as JSON), editable in the Prefect UI; None when there is none."""
    from prefect.variables import Variable

    value = Variable.get(VARIABLE, default=None)
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        return parse_watchlist(text, f"Prefect Variable {VARIABLE}")
    except InputError as exc:
        return exc


def recorded_source(found: Found) -> str:
    """A source as a run records it in ``video_sources``: a URL masked, a file's path."""
    return redact_url(found.target) if found.kind == "url" else found.target


def known_in_warehouse(found: list[Found], settings: Settings) -> tuple[set[str], set[str]]:
    """The video ids stored, and the source keys of videos found at a source already seen."""
    # lazy: DuckDB
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.known import known_videos

    ids = sorted({f.video_id for f in found if f.video_id})
    recorded = {recorded_source(f): source_key(f.target) for f in found}
    got_ids, got_sources = known_videos(Warehouse.of(settings), ids, sorted(recorded))
    return got_ids, {recorded[s] for s in got_sources}


def queued_analyses() -> list[Queued]:
    """Analysis runs not finished yet (scheduled, pending, running, paused), deployed or not."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    waiting = [
        StateType.SCHEDULED,
        StateType.PENDING,
        StateType.RUNNING,
        StateType.PAUSED,
        StateType.CANCELLING,
    ]
    runs_filter = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=waiting)))
    flows_filter = FlowFilter(name=FlowFilterName(any_=[ANALYZE_FLOW]))
    queued: list[Queued] = []
    page = 200
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(
                flow_filter=flows_filter,
                flow_run_filter=runs_filter,
                limit=page,
                offset=len(queued),
            )
            queued += [queued_run(r.name, r.parameters.get("source"), r.tags) for r in runs]
            if len(runs) < page:
                return queued


def run_parameters(found: Found, settings: Settings) -> dict[str, Any]:
    source = found.source
    params: dict[str, Any] = {
        "source": found.target,
        "provider": source.provider or settings.provider,
    }
    if source.owner:
        params["owner"] = source.owner
    if source.tags:
        params["tags"] = list(source.tags)
    return params


def start_analyses(new: list[Found], settings: Settings) -> list[Started]:
    """One ``analyze-video`` deployment run per video, none waited on: each its own flow run,
    counted by the work pool's limit."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    if not new:
        return []
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(ANALYZE_DEPLOYMENT)
        except ObjectNotFound:
            raise InputError(
                f"cannot start analysis runs: no {ANALYZE_DEPLOYMENT} deployment on this server",
                hint="Run adref deploy (adref up does it too)",
            ) from None
    ui = ui_url()
    started: list[Started] = []
    for found in new:
        tags = ["adref", "ingest"] + ([VIDEO_TAG + found.video_id] if found.video_id else [])
        run = cast(
            "FlowRun",  # sync here: never a coroutine
            run_deployment(
                name=ANALYZE_DEPLOYMENT,
                parameters=run_parameters(found, settings),
                timeout=0,
                as_subflow=False,
                tags=tags,
            ),
        )
        link = f"{ui}/runs/flow-run/{run.id}" if ui else None
        started.append(Started(found, str(run.id), run.name, link))
    return started


def ui_url() -> str | None:
    """The Prefect UI's address, for links: its setting, else the API's address without /api."""
    from prefect.settings import get_current_settings

    current = get_current_settings()
    if current.ui_url:
        return str(current.ui_url).rstrip("/")
    api = str(current.api.url or "").rstrip("/")
    return api.removesuffix("/api") if api.endswith("/api") else None


@task(name="read watch list", cache_policy=NO_CACHE)
def read_watchlist(settings: Settings) -> WatchList:
    return load_watchlist(settings.watchlist_path, settings, with_variable=True)


@task(name="expand sources", cache_policy=NO_CACHE)
def expand(watch: WatchList, settings: Settings) -> Expansion:
    """Folders only inside the input folders: the runs it starts read nothing else."""
    return expand_sources(watch, settings, inside=settings.input_folders)


@task(name="known videos", cache_policy=NO_CACHE)
def known(found: list[Found], settings: Settings) -> tuple[set[str], set[str]]:
    return known_in_warehouse(found, settings)


@task(name="queued runs", cache_policy=NO_CACHE)
def queued() -> list[Queued]:
    return queued_analyses()


@task(name="start runs", cache_policy=NO_CACHE)
def start(new: list[Found], settings: Settings) -> list[Started]:
    return start_analyses(new, settings)
