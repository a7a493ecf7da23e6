"""Genre and format lists are editable without code changes, as the seed's settings tab allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from adref.analysis import AnalysisContent
from adref.categories import FORMATS, GENRES, formats, genres
from adref.errors import InputError
from adref.providers.base import AnalysisRequest
from adref.providers.local import LocalProvider
from adref.settings import reset_settings
from tests.factories import make_shots, make_stream


@pytest.fixture
def categories_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "categories.json"
    monkeypatch.setenv("ADREF_CATEGORIES_FILE", str(path))
    reset_settings()
    yield path
    reset_settings()


def test_defaults_are_the_seeds_sixteen_genres_and_six_formats() -> None:
    reset_settings()
    assert len(genres()) == 16 and genres() == GENRES
    assert set(formats()) == {"2d", "3d", "live_action", "hybrid", "stop_motion", "typography"}


def test_a_file_replaces_the_genre_list(categories_file: Path) -> None:
    categories_file.write_text(json.dumps({"genres": {"unboxing": ["언박싱", "Unboxing"]}}))
    assert genres() == {"unboxing": ("언박싱", "Unboxing")}
    assert formats() == FORMATS
    assert AnalysisContent(genre="unboxing").genre == "unboxing"
    with pytest.raises(ValidationError):
        AnalysisContent(genre="tvc")


def test_editing_the_lists_changes_the_prompt_version(categories_file: Path) -> None:
    shots = make_shots([("warm", 2.0), ("cool", 2.0)])
    stream = make_stream(4.0)
    from adref.grouping import group_shots

    request = AnalysisRequest(
        meta={"video_id": "sha256:x"},
        stream=stream,
        shots=shots,
        grouping=group_shots(shots, stream),
    )
    categories_file.write_text(json.dumps({"formats": {"2d": ["2D", "2D"]}}))
    before = LocalProvider().prompt_version(request)
    categories_file.write_text(json.dumps({"formats": {"3d": ["3D", "3D"]}}))
    after = LocalProvider().prompt_version(request)
    assert before != after
    content = LocalProvider().analyze(request).content
    assert content.expression_format in (None, "3d")


def test_a_broken_file_is_a_clear_error(categories_file: Path) -> None:
    categories_file.write_text('{"genres": {"x": "only one label"}}')
    with pytest.raises(InputError, match="two labels"):
        genres()
