"""Flow runs that can never finish, marked crashed so they stop looking alive.

Two kinds: the runs of ``adref up``'s pool when its worker stops, and runs whose process died
(SIGKILL, a power cut) as their card shows. Crashed is Prefect's own word for "the process went
away", and a final state: the UI stops showing them as running and the pool's slots are freed.
A dead run also gets its one ``runs`` row, which its process never wrote.

A run's process may also die after its run ended (Prefect records the final state while the
row is being committed) or fail to write its row: the row it kept beside its card
(``runcard.keep_row``) is written then, as the run left it; or, if another hand marked the run
crashed meanwhile (``adref up`` stopping a process that hung), as a crashed row with the spend it
recorded, so that the row and Prefect's state agree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from adref.models import utcnow
from adref.runcard import Card, kept_row, read_cards, settle_card
from adref.settings import Settings
from adref.sources.urls import redact_url
from adref.warehouse.records import RunRecord, RunRow
from adref.workspace import close_workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadRun:
    """A dead run settled now: marked crashed, or its kept row written as the run left it."""

    flow_run_id: str
    name: str
    workspace: str
    written: str | None = None  # the status of the kept row written; None: marked crashed

    @property
    def marked(self) -> bool:
        return self.written is None


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
    """Mark the flow runs of dead processes crashed, on the Prefect server this process uses,
    and write the rows dead processes kept unwritten; returns the runs settled either way.

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
            kept = _kept(card)
            # Moved on since (crashed by another hand, retried, or ended before its row was in):
            # not ours to mark; the row its process kept, if any, is what it did.
            moved_on = card.state_id and run.state and str(run.state.id) != card.state_id
            why = (
                f"its process (pid {card.pid} on {card.host}) ended without finishing, "
                "killed or cut off; marked by a later adref start"
            )
            if not moved_on and mark_crashed(client, [run], why):
                _record(settings, crashed_row(card, run, why, kept))
                found.append(DeadRun(card.flow_run_id, run.name, str(card.workspace)))
            elif kept is not None:
                crashed = _crashed_why(run)
                if crashed is not None:  # marked by another hand (adref up's stop): agree
                    kept = crashed_row(card, run, crashed or why, kept)
                if not _record(settings, kept):
                    continue  # the next start tries again
                log.info("run %s: the row its process left unwritten is written", run.name)
                found.append(
                    DeadRun(card.flow_run_id, run.name, str(card.workspace), kept.record.status)
                )
                if kept.record.status == "failed":  # as its process leaves a failed run's
                    close_workspace(card.workspace, succeeded=False)
                    continue
            settle_card(card)
    return found


def crashed_row(card: Card, run: Any, why: str, kept: RunRow | None) -> RunRow:
    """The dead run's ``runs`` row: the one it kept (it died before its final state), else what
    is known of it, its spend unknown."""
    if kept is not None:
        changes = {"status": "crashed", "error": why, "finished_at": None}
        record = kept.record.model_copy(update=changes)
        return RunRow(record=record, sighting=kept.sighting)
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
    return RunRow(record=record)


def _crashed_why(run: Any) -> str | None:
    """Why the run is Crashed ("" if no message), or None if it is not."""
    from prefect.client.schemas.objects import StateType

    state = run.state
    if state is None or state.type != StateType.CRASHED:
        return None
    return state.message or ""


def _kept(card: Card) -> RunRow | None:
    text = kept_row(card.workspace)
    if text is None:
        return None
    try:
        return RunRow.model_validate_json(text)
    except ValueError as exc:  # written atomically, so only another version's
        log.warning("the row kept in %s is not readable: %s", card.workspace, exc)
        return None


def _record(settings: Settings, row: RunRow) -> bool:
    # lazy: DuckDB and PyArrow, once a dead run is found; the CLI imports this module to start
    from adref.warehouse.catalog import record_run_row

    return record_run_row(settings, row)
