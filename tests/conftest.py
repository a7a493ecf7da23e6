"""Shared fixtures: synthetic clips made once per session, a real Prefect server, an adref home."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from adref.video.testclips import ClipTruth, make_clip
from tests.flow_fixtures import adref_home, prefect_api

__all__ = ["adref_home", "prefect_api"]

# Commands under test start a temporary Prefect server, as before, unless a test asks for the
# background one (which would outlive the test).
os.environ.setdefault("ADREF_SERVER", "embedded")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the real Prefect server (``prefect_api``, even through another fixture) is slow:
    marked here so a new one is left out of ``make test-fast`` without anyone remembering to."""
    for item in items:
        if "prefect_api" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def no_unexpected_error_logs(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """Fails a test that logged an ERROR it did not ask for: a library (PySceneDetect, Prefect)
    may log an error and carry on, and a passing test would hide it. A test that expects one says
    so with ``@pytest.mark.expected_error_log`` (``match=`` a regex to allow only those)."""
    yield
    marker = request.node.get_closest_marker("expected_error_log")
    if marker is not None and marker.kwargs.get("match") is None:
        return
    allowed = re.compile(marker.kwargs["match"]) if marker is not None else None
    unexpected = [
        f"{r.name}: {r.getMessage()}"[:300]
        for when in ("setup", "call")
        for r in caplog.get_records(when)
        if r.levelno >= logging.ERROR and not (allowed and allowed.search(r.getMessage()))
    ]
    if unexpected:
        pytest.fail("unexpected ERROR log records:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture(scope="session")
def clips_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


def _clip(kind: str, folder: Path) -> ClipTruth:
    return make_clip(kind, folder / f"{kind}.mp4")


@pytest.fixture(scope="session")
def clip_ad(clips_dir: Path) -> ClipTruth:
    return _clip("ad", clips_dir)


@pytest.fixture(scope="session")
def clip_vertical(clips_dir: Path) -> ClipTruth:
    return _clip("vertical", clips_dir)


@pytest.fixture(scope="session")
def clip_vfr(clips_dir: Path) -> ClipTruth:
    return _clip("vfr", clips_dir)


@pytest.fixture(scope="session")
def clip_single(clips_dir: Path) -> ClipTruth:
    return _clip("single", clips_dir)


@pytest.fixture(scope="session")
def clip_rapid(clips_dir: Path) -> ClipTruth:
    return _clip("rapid", clips_dir)
