"""Runs whose process vanished (a SIGKILLed worker, a lost machine) marked Crashed by Prefect.

Nothing is left to say that such a run is over, so it would stay Running and hold one of the
pool's slots for good. Prefect's documented answer ("Detect zombie flows") is used as is: each
run sends a heartbeat event (the worker's ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``), and a proactive
automation marks a run Crashed once no heartbeat and no final state came for a while. Crashed is
final and frees the slot; the UI's Retry runs the video again, its finished stages from cache.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from adref.settings import Settings

if TYPE_CHECKING:
    from prefect.events.schemas.automations import AutomationCore

NAME = "adref: crash runs without heartbeats"
TAG = "adref"  # every adref deployment's runs carry it (definitions.py); others are left alone


def heartbeat_env(settings: Settings) -> dict[str, str]:
    """What a worker's flow runs need in their environment for the automation to judge them."""
    return {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(settings.heartbeat_s)}


def zombie_automation(settings: Settings) -> AutomationCore:
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return AutomationCore(
        name=NAME,
        description=(
            f"adref: a run of an adref deployment (tag {TAG!r}) that sent no heartbeat for "
            f"{settings.zombie_after_s} s lost its process (a killed worker, a lost machine). "
            "Marked Crashed, its pool slot is freed; Retry it from its page."
        ),
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            match_related=ResourceSpecification(
                {"prefect.resource.role": "tag", "prefect.resource.id": f"prefect.tag.{TAG}"}
            ),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=settings.zombie_after_s),
        ),
        actions=[
            ChangeFlowRunState(
                name=None,
                state=StateType.CRASHED,
                message=(
                    f"no heartbeat for {settings.zombie_after_s} s: its process went away "
                    "(a killed worker, a lost machine); Retry runs it again"
                ),
                force=False,
            )
        ],
    )


def ensure_zombie_automation(settings: Settings) -> bool:
    """Create the automation unless one of its name exists (kept as edited in the UI);
    True when it was created."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        if any(a.name == NAME for a in client.read_automations_by_name(NAME)):
            return False
        client.create_automation(zombie_automation(settings))
    return True
