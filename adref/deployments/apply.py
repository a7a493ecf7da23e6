"""Register adref's work pool and deployments on a Prefect server, idempotently.

Run again after an upgrade and the deployments follow the code (parameters, descriptions);
the pool's concurrency limit and the deployments' schedules are set when they are created and
then left alone, so what someone changed in the Prefect UI stays as they set it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast
from uuid import UUID

from adref.deployments.alerts import AlertState, ensure_alerts
from adref.deployments.definitions import DEPLOYMENTS, full_name
from adref.deployments.zombies import ensure_zombie_automation
from adref.settings import Settings

if TYPE_CHECKING:
    from prefect.client.schemas.actions import DeploymentScheduleCreate


@dataclass(frozen=True)
class PoolState:
    name: str
    concurrency_limit: int | None
    created: bool


@dataclass(frozen=True)
class Applied:
    pool: PoolState
    deployments: dict[str, UUID]  # full name -> id
    alerts: AlertState


def ensure_pool(settings: Settings) -> PoolState:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            pool = client.read_work_pool(settings.work_pool)
        except ObjectNotFound:
            pool = client.create_work_pool(
                WorkPoolCreate(
                    name=settings.work_pool,
                    type=ProcessWorker.type,
                    description="adref: one flow run per video, run as a local process.",
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                    concurrency_limit=settings.max_concurrent_videos,
                )
            )
            return PoolState(pool.name, pool.concurrency_limit, created=True)
    return PoolState(pool.name, pool.concurrency_limit, created=False)


def apply_deployments(settings: Settings) -> Applied:
    """The pool, every deployment in ``DEPLOYMENTS`` on it, the automation that marks runs
    whose process died, the failed-run alert, and the shared result storage when there is one;
    returns what the server has."""
    from prefect.deployments.runner import RunnerDeployment
    from prefect.flows import Flow
    from prefect.types.entrypoint import EntrypointType

    pool = ensure_pool(settings)
    if settings.results_path is not None:  # saved before any run needs it: no race
        from adref.shared_results import result_storage  # lazy: see tasks.policy.configured

        result_storage(settings)
    ids: dict[str, UUID] = {}
    for spec in DEPLOYMENTS:
        module, _, attribute = spec.entrypoint.rpartition(".")
        flow = getattr(importlib.import_module(module), attribute)
        assert isinstance(flow, Flow) and flow.name == spec.flow_name, spec
        kept = _schedules_kept(full_name(spec))
        deployment = RunnerDeployment.from_flow(
            flow,
            name=spec.name,
            description=spec.description,
            tags=list(spec.tags),
            work_pool_name=pool.name,
            entrypoint_type=EntrypointType.MODULE_PATH,
            **({"cron": spec.cron} if kept is None else {"schedules": kept}),
        )
        ids[full_name(spec)] = cast(UUID, deployment.apply())  # sync here: never a coroutine
    ensure_zombie_automation(settings)
    return Applied(pool=pool, deployments=ids, alerts=ensure_alerts(settings))


def _schedules_kept(name: str) -> list[DeploymentScheduleCreate] | None:
    """An existing deployment's schedules as they are now (edited in the UI, or removed);
    None for a new deployment, which gets the default schedule."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            existing = client.read_deployment_by_name(name)
        except ObjectNotFound:
            return None
    return [
        DeploymentScheduleCreate(schedule=s.schedule, active=s.active) for s in existing.schedules
    ]
