"""The zombie automation as adref builds it, and the settings it is built from (no server: the
automation at work, a worker killed mid-run, is in test_pool_limit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from adref.deployments.definitions import DEPLOYMENTS
from adref.deployments.zombies import TAG, heartbeat_env, zombie_automation
from adref.settings import Settings


def test_the_automation_judges_adref_runs_by_the_heartbeat_setting(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, heartbeat_s=40, zombie_after_s=150)
    automation = zombie_automation(settings)
    trigger = automation.trigger
    assert trigger.within.total_seconds() == 150  # type: ignore[union-attr]
    assert trigger.posture.value == "Proactive"  # type: ignore[union-attr]
    assert trigger.for_each == {"prefect.resource.id"}  # type: ignore[union-attr]
    assert [a.state.value for a in automation.actions] == ["CRASHED"]  # type: ignore[union-attr]
    assert all(TAG in spec.tags for spec in DEPLOYMENTS), "every adref run is matched by tag"
    assert heartbeat_env(settings) == {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "40"}


@pytest.mark.parametrize(("heartbeat", "after"), [(20, 180), (60, 100)])
def test_a_heartbeat_setting_that_would_crash_live_runs_is_refused(
    tmp_path: Path, heartbeat: int, after: int
) -> None:
    with pytest.raises(ValidationError):
        Settings(home=tmp_path, heartbeat_s=heartbeat, zombie_after_s=after)
