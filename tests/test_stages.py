"""How the flows run their tasks: configured copies are made once, yet follow the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from adref.settings import reset_settings


def test_a_configured_task_is_reused_until_its_options_change(
    adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adref.flows.stages import _configured
    from adref.tasks.download import resolve
    from adref.tasks.policy import task_options

    monkeypatch.setenv("ADREF_TASK_RETRIES", "3")
    reset_settings()
    first = _configured(resolve, task_options())
    assert first is _configured(resolve, task_options()), "made once, not on every run"
    assert first.retries == 3 and first is not resolve
    assert _configured(resolve, {}) is resolve

    monkeypatch.setenv("ADREF_TASK_RETRIES", "0")
    reset_settings()
    assert _configured(resolve, task_options()).retries == 0, "new settings, new options"
    refreshed = _configured(resolve, {**task_options(), "refresh_cache": True})
    assert refreshed.refresh_cache is True and refreshed.retries == 0
