"""Shared fixtures: synthetic clips made once per session, a real Prefect server, an adref home."""

from __future__ import annotations

from pathlib import Path

import pytest

from adref.video.testclips import ClipTruth, make_clip
from tests.flow_fixtures import adref_home, prefect_api

__all__ = ["adref_home", "prefect_api"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the real Prefect server (``prefect_api``, even through another fixture) is slow:
    marked here so a new one is left out of ``make test-fast`` without anyone remembering to."""
    for item in items:
        if "prefect_api" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


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
