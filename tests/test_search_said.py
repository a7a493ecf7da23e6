"""Words said in the voice-over are searchable: a hit shows the shot playing when they are said
and quotes the line, as a hit for words on screen quotes the line read there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adref.models import shot_at
from adref.search import store
from adref.search.index import Hit, SearchQuery, search
from adref.settings import Settings
from tests.search_support import indexed, video

FIZZ = video(
    "v:fizz",
    title="Summer soda",
    looks=("warm", "cool", "white_card", "warm"),  # shots of 2 s: 0-2, 2-4, 4-6, 6-8
    screen=((2, "Zorblax lemon"),),
    said=(
        (0.3, 1.9, "Hot days are long."),
        (2.6, 4.4, "Grab a Quenchora, ice cold."),  # starts in shot 1, ends in shot 2
        (6.1, 7.5, "Zorblax is back."),
    ),
)


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    _, settings = indexed(tmp_path_factory.mktemp("wh"), FIZZ, video("v:plain", title="A car"))
    return settings


def found(settings: Settings, text: str) -> list[Hit]:
    return list(search(settings, SearchQuery(text=text)).hits)


def test_a_word_only_said_finds_the_shot_playing_when_it_is_said(lib: Settings) -> None:
    [hit] = found(lib, "quenchora")
    shot = FIZZ.shots[1]
    assert (hit.video_id, hit.shot_index, hit.keyframe_path) == (
        "v:fizz",
        1,
        FIZZ.keyframe_paths[1],
    )
    assert hit.start_s == pytest.approx(shot.start_s)
    assert (hit.quoted, hit.quote) == ("said", "Grab a Quenchora, ice cold.")
    assert [(h.shot_index, h.quote) for h in found(lib, "hot days")] == [(0, "Hot days are long.")]


def test_a_word_on_screen_quotes_the_line_read_there(lib: Settings) -> None:
    [hit] = found(lib, "lemon")
    assert (hit.shot_index, hit.quoted, hit.quote) == (2, "screen", "Zorblax lemon")
    # Words neither written nor said (the title) show the representative shot, unquoted.
    [hit] = found(lib, "soda")
    assert (hit.shot_index, hit.quoted, hit.quote) == (0, None, None)


def test_a_word_both_written_and_said_shows_where_more_of_the_query_is(lib: Settings) -> None:
    # "zorblax" is written in shot 2 and said in shot 3: the earlier shot, as on a tie.
    [hit] = found(lib, "zorblax")
    assert (hit.shot_index, hit.quoted) == (2, "screen")
    # "zorblax back" is all said in shot 3, only half written in shot 2.
    [hit] = found(lib, "zorblax back")
    assert (hit.shot_index, hit.quoted, hit.quote) == (3, "said", "Zorblax is back.")


def test_a_stretch_said_belongs_to_the_shot_it_starts_in_else_overlaps_else_is_nearest() -> None:
    spans = [(0, 0.0, 2.0), (1, 2.0, 4.0), (2, 5.0, 6.0)]
    assert shot_at(spans, 2.6, 4.4) == 1
    assert shot_at(spans, 4.2, 5.9) == 2  # starts in the gap, mostly over shot 2
    assert shot_at(spans, 4.1, 4.3) == 1  # in the gap, nearer shot 1's end
    assert shot_at(spans, 6.5, 7.0) == 2  # past the last cut
    assert shot_at([], 1.0, 2.0) is None


def test_an_index_of_format_2_is_rebuilt_before_a_search(tmp_path: Path) -> None:
    _, settings = indexed(tmp_path / "wh", FIZZ)
    manifest_path = store.folder(settings.warehouse) / store.MANIFEST
    data = json.loads(manifest_path.read_text())
    data["format"] = 2  # as written when only the words on screen were indexed per shot
    manifest_path.write_text(json.dumps(data))
    assert [(h.shot_index, h.quoted) for h in found(settings, "quenchora")] == [(1, "said")]
    rebuilt = store.read_manifest(settings.warehouse)
    assert rebuilt is not None and rebuilt.format == store.FORMAT == 4
    assert rebuilt.generation == data["generation"] + 1
