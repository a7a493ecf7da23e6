"""Fixtures for tests that run real Prefect flows: a real (temporary) Prefect server, and an
adref home of their own so no test reads or writes a user's ~/.adref."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from adref.settings import reset_settings


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prefect server on SQLite for the whole session; yields its API URL."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] = "ignore"
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield str(PREFECT_API_URL.value())


@pytest.fixture
def adref_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "adref-home"
    monkeypatch.setenv("ADREF_HOME", str(home))
    monkeypatch.setenv("ADREF_RETRY_DELAY_S", "0.1")
    monkeypatch.setenv("ADREF_ALLOW_PRIVATE_URLS", "true")  # the test servers are on loopback
    monkeypatch.delenv("ADREF_WAREHOUSE_DIR", raising=False)
    reset_settings()
    yield home
    reset_settings()
