"""How the flows run their tasks: retried only where a retry can help, refreshed when asked."""

from __future__ import annotations

from adref.settings import Settings
from adref.tasks.detect import detect
from adref.tasks.download import resolve
from adref.tasks.policy import configured


def test_a_task_naming_transient_failures_gets_the_configured_retries() -> None:
    run = configured(resolve, Settings(task_retries=3, retry_delay_s=2.0), refresh=False)
    assert run is not resolve and run.retries == 3
    assert run.retry_delay_seconds == [2.0, 4.0, 8.0] and run.refresh_cache is not True
    assert configured(resolve, Settings(task_retries=0), refresh=False).retries == 0


def test_a_task_without_a_retry_rule_is_used_as_it_is_unless_refreshed() -> None:
    assert configured(detect, Settings(task_retries=3), refresh=False) is detect
    refreshed = configured(detect, Settings(task_retries=3), refresh=True)
    assert refreshed.refresh_cache is True and refreshed.retries == 0
