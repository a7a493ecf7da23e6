"""Failed runs reach the operator: the automation `adref deploy` creates, on a real Prefect
server whose event and automation services run, posts to a real local webhook."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from adref.deployments.alerts import AUTOMATION_NAME, BLOCK_NAME, ensure_alerts
from adref.deployments.apply import apply_deployments
from adref.settings import get_settings, reset_settings
from tests.support.http import LocalHTTPServer, RecordedRequest, Route

pytestmark = pytest.mark.slow  # a real Prefect server


def _wait_for_post(server: LocalHTTPServer, timeout: float = 90) -> RecordedRequest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        posts = [r for r in server.requests if r.path == "/hook" and r.method == "POST"]
        if posts:
            return posts[0]
        time.sleep(0.5)
    raise AssertionError(f"no notification within {timeout} s")


def test_without_a_webhook_nothing_is_created(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client

    monkeypatch.delenv("ADREF_ALERT_WEBHOOK_URL", raising=False)
    reset_settings()
    state = ensure_alerts(get_settings())
    assert state.status == "not configured"
    assert "ADREF_ALERT_WEBHOOK_URL" in state.describe()
    with get_client(sync_client=True) as client:
        assert client.read_automations_by_name(AUTOMATION_NAME) == []


def test_a_failed_run_in_the_pool_posts_to_the_webhook_once_configured(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.automations import Automation
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client
    from prefect.states import Failed

    with LocalHTTPServer({"/hook": Route(body=b"ok")}) as hooks:
        url = hooks.url("/hook") + "?token=s3cret"
        monkeypatch.setenv("ADREF_ALERT_WEBHOOK_URL", url)
        monkeypatch.setenv("ADREF_WORK_POOL", "adref-alerts-test")
        reset_settings()
        applied = apply_deployments(get_settings())
        assert applied.alerts.status == "created"
        assert "s3cret" not in applied.alerts.describe()

        # The address is a secret: the block shows a placeholder, the UI masks the value.
        block = CustomWebhookNotificationBlock.load(BLOCK_NAME)
        assert block.url == "{{url}}"
        assert block.secrets.get_secret_value() == {"url": url}

        # An operator edits the automation in the UI; deploying again keeps the edit.
        automation = Automation.read(name=AUTOMATION_NAME)
        automation.description = "edited by the operator"
        automation.update()
        assert ensure_alerts(get_settings()).status == "kept"
        assert Automation.read(name=AUTOMATION_NAME).description == "edited by the operator"

        with get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name("reanalyze-video/reanalyze-video")
            assert deployment.work_pool_name == "adref-alerts-test"
            run = client.create_flow_run_from_deployment(
                deployment.id, parameters={"video_id": "youtube:nope"}
            )
            client.set_flow_run_state(run.id, Failed(message="no such video"), force=True)
            post = _wait_for_post(hooks)

    payload = json.loads(post.body)
    assert post.query == "token=s3cret"
    assert payload["text"].startswith("adref: reanalyze-video run ")
    assert run.name in payload["subject"] and "failed" in payload["subject"]
    assert "Why: no such video" in payload["body"]
    ui_url = prefect_api.removesuffix("/api")
    assert f"Open it: {ui_url}/runs/flow-run/{run.id}" in payload["body"]
