"""A Prefect automation that tells the operator when an adref run fails or crashes.

Nobody watches a scheduled ingest at 3 a.m.: a failed run must reach someone. The automation
and its notification block live on the Prefect server, where an operator can read, pause or
edit them in the UI; like the deployments' schedules, an automation that already exists is
left as the operator set it (found by name). The webhook's address is a secret (a Slack URL
is a credential): it is kept in the block's secret values, never in plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast
from uuid import UUID

from adref.settings import Settings

AUTOMATION_NAME = "adref: a run failed or crashed"
BLOCK_NAME = "adref-alerts"
TRIGGER_EVENTS = frozenset({"prefect.flow-run.Failed", "prefect.flow-run.Crashed"})

SUBJECT = "adref: {{ flow.name }} run {{ flow_run.name }} {{ flow_run.state.name | lower }}"
BODY = (
    "Flow run {{ flow.name }}/{{ flow_run.name }} ended {{ flow_run.state.name }} "
    "at {{ flow_run.state.timestamp }}.\n"
    "Why: {{ flow_run.state.message }}\n"
    "Parameters: {{ flow_run.parameters }}\n"
    "Open it: <ui>/runs/flow-run/{{ flow_run.id }}"
)


@dataclass(frozen=True)
class AlertState:
    status: Literal["created", "kept", "not configured"]
    automation: str = AUTOMATION_NAME

    def describe(self) -> str:
        if self.status == "not configured":
            return "not configured: set ADREF_ALERT_WEBHOOK_URL to be told of failed runs"
        return f"{self.automation!r} ({self.status}) → block {BLOCK_NAME!r}"


def ensure_alerts(settings: Settings) -> AlertState:
    """The notification block (always refreshed from the setting), then the automation, created
    only when missing so an operator's edits in the UI stay. Without a webhook, nothing."""
    from prefect.automations import Automation, EventTrigger, Posture, SendNotification
    from prefect.client.orchestration import get_client

    if settings.alert_webhook_url is None:
        return AlertState("not configured")
    block_id = _save_block(settings.alert_webhook_url.get_secret_value())
    with get_client(sync_client=True) as client:
        if client.read_automations_by_name(AUTOMATION_NAME):
            return AlertState("kept")
        ui_url = str(client.api_url).rstrip("/").removesuffix("/api")
    Automation(
        name=AUTOMATION_NAME,
        description=(
            f"Created by adref: notifies through the block {BLOCK_NAME!r} when a flow run "
            f"in the work pool {settings.work_pool!r} fails or crashes. Edit freely: "
            "`adref deploy` leaves an existing automation as it is."
        ),
        trigger=EventTrigger(
            expect=set(TRIGGER_EVENTS),
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={
                "prefect.resource.role": "work-pool",
                "prefect.resource.name": settings.work_pool,
            },
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[
            SendNotification(
                block_document_id=block_id, subject=SUBJECT, body=BODY.replace("<ui>", ui_url)
            )
        ],
    ).create()
    return AlertState("created")


def _save_block(url: str) -> UUID:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    # {"text": ...} is what Slack, Mattermost and most chat webhooks read; the other keys are
    # for anything else listening.
    block = CustomWebhookNotificationBlock(
        name=BLOCK_NAME,
        url="{{url}}",
        json_data={"text": "{{subject}}\n{{body}}", "subject": "{{subject}}", "body": "{{body}}"},
        headers=None,
        cookies=None,
        secrets={"url": url},  # type: ignore[arg-type]  # pydantic coerces to SecretDict
    )
    return cast(UUID, block.save(BLOCK_NAME, overwrite=True))  # sync here: never a coroutine
