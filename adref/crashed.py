"""Flow runs that can never finish, marked crashed so they stop looking alive.

Two kinds: the runs of ``adref up``'s pool when its worker stops, and runs whose process died
(SIGKILL, a power cut) as their card shows. Crashed is Prefect's own word for "the process went
away", and a final state: the UI stops showing them as running and the pool's slots are freed.
A dead run also gets its one ``runs`` row, which its process never wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from adref.models import utcnow
from adref.runcard import Card, read_cards, settle_card
from adref.settings import Settings
from adref.sources.urls import redact_url
from adref.warehouse.records import RunRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadRun:
    flow_run_id: str
    name: str
    workspace: str


def unfinished() -> list[Any]:
    """The state types of a run that still expects its process to move it on."""
    from prefect.client.schemas.objects import StateType

    return [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]


def mark_crashed(client: Any, runs: Iterable[Any], why: str) -> list[Any]:
    """Set each run still pending, running or cancelling to Crashed; returns those it set."""
    from prefect.states import Crashed

    marked = [run for run in runs if run.state is not None and run.state.type in unfinished()]
    for run in marked:
        client.set_flow_run_state(run.id, Crashed(message=why), force=True)
    return marked


def dead_cards(settings: Settings) -> list[Card]:
    """Cards of runs whose process died and whose flow run nobody has marked yet."""
    return [card for card in read_cards(settings.work_dir) if not card.settled and card.dead()]


def crash_dead_runs(settings: Settings) -> list[DeadRun]:
    """Mark the flow runs of dead processes crashed, on the Prefect server this process uses.

    A card whose run this server does not know (one recorded by another server) is left for a
    start against that server. Touches Prefect only when there is a dead card, so a usual start
    pays one folder listing.
    """
    cards = dead_cards(settings)
    if not cards:
        return []
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    found: list[DeadRun] = []
    with get_client(sync_client=True) as client:
        for card in cards:
            try:
                run = client.read_flow_run(UUID(card.flow_run_id))
            except (ObjectNotFound, ValueError):
                continue
            if card.state_id and run.state and str(run.state.id) != card.state_id:
                settle_card(card)  # moved on since (crashed by Prefect, retried): not ours
                continue
            why = (
                f"its process (pid {card.pid} on {card.host}) ended without finishing, "
                "killed or cut off; marked by a later adref start"
            )
            if mark_crashed(client, [run], why):
                _record(settings, card, run, why)
                found.append(DeadRun(card.flow_run_id, run.name, str(card.workspace)))
            settle_card(card)
    return found


def _record(settings: Settings, card: Card, run: Any, why: str) -> None:
    """The dead run's ``runs`` row: what is known of it, its spend unknown."""
    # lazy: DuckDB and PyArrow, once a dead run is found; the CLI imports this module to start
    from adref.warehouse.catalog import Warehouse

    params = run.parameters or {}
    source = params.get("source") or params.get("video_id")
    record = RunRecord(
        run_id=card.workspace.name,
        video_id=params.get("video_id"),
        source=redact_url(str(source)) if source else None,
        flow_run_id=card.flow_run_id,
        status="crashed",
        started_at=run.start_time or run.created or utcnow(),
        finished_at=None,
        provider=params.get("provider"),
        model=params.get("model"),
        error=why,
        notes="model calls it made, if any, are not counted: it died before recording them",
    )
    try:
        warehouse = Warehouse.of(settings)
        warehouse.init()
        warehouse.append_run(record)
    except Exception as exc:  # the flow run is marked; the row is bookkeeping
        log.warning("could not record the crashed run in the warehouse: %s", exc)
