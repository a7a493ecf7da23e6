"""Auto moodboard: a new board of the query's best shots, not all of one look."""

from __future__ import annotations

import pytest

from adref.boards.auto import auto_moodboard
from adref.errors import InputError
from adref.search.query import SearchQuery
from adref.settings import Settings
from adref.warehouse import moodboards as mb
from adref.warehouse.catalog import Warehouse
from tests.board_library import VIDEOS, build_library


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("auto")
    s = Settings(home=root / "home", warehouse_dir=root / "wh")
    build_library(s.warehouse)
    return s


def looks(items: tuple[mb.Item, ...]) -> list[str]:
    return [VIDEOS[i.video_id][1][i.shot_index or 0] for i in items]


def test_a_board_of_distinct_looks_from_every_matching_video(settings: Settings) -> None:
    board = auto_moodboard(settings, "mina", SearchQuery(), 5, name="Auto")
    view = mb.read_board(Warehouse(settings.warehouse), board)
    assert view.board.owner == "mina" and view.board.name == "Auto"
    assert len(view.items) == 5 and [i.position for i in view.items] == list(range(5))
    assert {i.video_id for i in view.items} == set(VIDEOS)
    assert len(set(looks(view.items))) == 5, "near-duplicate looks (two cool, two night) wait"


def test_a_colour_query_picks_among_the_shots_of_that_colour(settings: Settings) -> None:
    board = auto_moodboard(settings, "mina", SearchQuery(colour="#2f6fb5"), 2)
    view = mb.read_board(Warehouse(settings.warehouse), board)
    assert looks(view.items) == ["cool", "cool"], "only the two blue shots are near that colour"
    assert view.board.name == "Auto: latest"


def test_nothing_found_or_a_bad_size_is_one_clear_error(settings: Settings) -> None:
    with pytest.raises(InputError, match="no shots match"):
        auto_moodboard(settings, "mina", SearchQuery(text="zzzxqv"), 3)
    with pytest.raises(InputError, match="between 1 and 60"):
        auto_moodboard(settings, "mina", SearchQuery(), 0)
