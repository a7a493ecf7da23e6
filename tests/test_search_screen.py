"""Words read on screen are searchable, and a hit shows the shot where they are written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adref.search import store
from adref.search.index import SearchQuery, refresh, search
from adref.settings import Settings
from tests.search_support import indexed, video

FIZZ = video(
    "v:fizz",
    title="Summer soda",
    summary="a cold drink",
    looks=("warm", "cool", "white_card"),
    screen=((1, "Zorblax lemon"), (2, "지금 구매하세요"), (2, "zorblax.co.kr")),
)
OTHER = video("v:other", title="Zorblax-free car ad", looks=("cool", "warm"))


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    _, settings = indexed(tmp_path_factory.mktemp("wh"), FIZZ, video("v:plain", title="A car"))
    return settings


def hits(settings: Settings, text: str) -> list[tuple[str, int, str, float]]:
    page = search(settings, SearchQuery(text=text))
    return [(h.video_id, h.shot_index, h.keyframe_path, h.start_s) for h in page.hits]


def test_a_word_only_on_screen_finds_the_shot_that_shows_it(lib: Settings) -> None:
    shot = FIZZ.shots[1]
    assert hits(lib, "zorblax") == [
        ("v:fizz", 1, FIZZ.keyframe_paths[1], pytest.approx(shot.start_s))
    ]
    # The shot holding most of the query's words wins: both are written in shot 2.
    assert hits(lib, "구매 zorblax")[0][:2] == ("v:fizz", 2)
    assert hits(lib, "구매하세요")[0][:2] == ("v:fizz", 2)
    # Words found elsewhere (the title) show the video's representative shot, as before.
    assert hits(lib, "soda")[0][:2] == ("v:fizz", 0)
    assert hits(lib, "nothing-like-this") == []


def test_a_refresh_of_one_video_adds_and_removes_its_words(tmp_path: Path) -> None:
    wh, settings = indexed(tmp_path / "wh", FIZZ)
    wh.write_video(OTHER.model_copy(update={"texts": FIZZ.texts[:1]}))
    refresh(settings, ["v:other"])
    found = {h[0]: h[1] for h in hits(settings, "lemon")}
    assert found == {"v:fizz": 1, "v:other": 1}
    wh.write_video(FIZZ.model_copy(update={"texts": []}))  # stored again, nothing read
    refresh(settings, ["v:fizz"])
    assert [h[0] for h in hits(settings, "lemon")] == ["v:other"]
    assert hits(settings, "구매") == []


def test_an_index_of_the_older_layout_is_rebuilt_before_a_search(tmp_path: Path) -> None:
    _, settings = indexed(tmp_path / "wh", FIZZ)
    manifest_path = store.folder(settings.warehouse) / store.MANIFEST
    data = json.loads(manifest_path.read_text())
    del data["format"]  # as written before the screen table existed
    manifest_path.write_text(json.dumps(data))
    assert hits(settings, "zorblax")[0][:2] == ("v:fizz", 1)
    rebuilt = store.read_manifest(settings.warehouse)
    assert rebuilt is not None and rebuilt.format == store.FORMAT
    assert rebuilt.generation == data["generation"] + 1
