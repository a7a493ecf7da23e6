"""Words, Korean, facets and corrections on a small real warehouse (DuckLake + the index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adref.search import tokens
from adref.search.engine import connect
from adref.search.index import SearchQuery, refresh, search
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from tests.search_support import correct, indexed, settings_for, table_counts, video

VIDEOS = [
    video(
        "v:summer",
        title="여름화장품광고",
        summary="sunscreen for the beach",
        tags=("beauty",),
        mood=("bright", "fresh"),
        owner="mina",
        size=(1080, 1920),
    ),
    video(
        "v:coffee",
        title="아이스커피 광고",
        summary="a cold drink on a hot day",
        genre="spot_ad",
        fmt="2d",
        tags=("drink",),
        mood=("calm",),
        owner="jun",
    ),
    video(
        "v:runner",
        title="Running shoes",
        summary="a runner at dawn",
        reason="sports brand film",
        genre="brand_film",
        tags=("sport", "shoes"),
        site_tags=("nike",),
        size=(1080, 1080),
    ),
    video(
        "v:plain",
        title="A car",
        summary="shoes are mentioned once in passing among many other "
        "words about engines, roads, speed, comfort, safety and family trips",
        groups=("a red car on a coastal road", "the family waves"),
    ),
]


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    _, settings = indexed(tmp_path_factory.mktemp("wh"), *VIDEOS)
    return settings


def ids(settings: Settings, **q: object) -> list[str]:
    return [h.video_id for h in search(settings, SearchQuery(**q)).hits]  # type: ignore[arg-type]


def test_hangul_runs_become_bigrams_and_english_words_are_stemmed() -> None:
    assert tokens.words("여름화장품광고") == [
        ("여름", False),
        ("름화", False),
        ("화장", False),
        ("장품", False),
        ("품광", False),
        ("광고", False),
    ]
    assert tokens.words("차 Running!") == [("차", False), ("running", True)]
    with connect() as con:
        assert tokens.tokenise(con, "running runs") == ["run", "run"]


def test_korean_word_inside_a_longer_phrase_is_found(lib: Settings) -> None:
    assert ids(lib, text="화장품") == ["v:summer"]
    assert ids(lib, text="커피") == ["v:coffee"]
    assert set(ids(lib, text="광고")) == {"v:summer", "v:coffee"}
    assert ids(lib, text="화장실") == [], "every query term must occur"


def test_english_stemming_and_bm25_order(lib: Settings) -> None:
    assert ids(lib, text="run") == ["v:runner"]
    assert ids(lib, text="runs")[0] == "v:runner"
    ranked = ids(lib, text="shoes")
    assert ranked == ["v:runner", "v:plain"], (
        "a title word in a short document beats a passing mention"
    )
    assert ids(lib, text="coastal road") == ["v:plain"], "scene-group descriptions are searched"
    assert ids(lib, text="nike") == ["v:runner"], "site tags are searched"
    assert ids(lib, text="뮤직비디오") == []
    assert ids(lib, text="브랜드필름") == ["v:runner"], "genres are found by their labels"


def test_no_text_lists_everything_and_pages(lib: Settings) -> None:
    page = search(lib, SearchQuery(page_size=3))
    assert page.total == 4 and len(page.hits) == 3
    rest = search(lib, SearchQuery(page=1, page_size=3))
    assert len(rest.hits) == 1
    assert {h.video_id for h in (*page.hits, *rest.hits)} == {w.meta.video_id for w in VIDEOS}
    hit = next(h for h in page.hits + rest.hits if h.video_id == "v:runner")
    assert hit.keyframe_path == "media/keyframes/v:runner/0000.jpg" and hit.shot_index == 0
    assert hit.title == "Running shoes" and hit.genre == "brand_film"
    assert set(hit.tags) == {"nike", "sport", "shoes"} and hit.duration_s == 4.0


def test_facets_count_the_current_text_and_the_other_filters(lib: Settings) -> None:
    page = search(lib, SearchQuery())
    assert dict(page.facets["genre"]) == {"tvc": 2, "spot_ad": 1, "brand_film": 1}
    assert dict(page.facets["aspect"]) == {"vertical": 1, "square": 1, "landscape": 2}
    assert dict(page.facets["owner"]) == {"mina": 1, "jun": 1}
    assert dict(page.facets["mood"])["bright"] == 3
    picked = search(lib, SearchQuery(genres=("tvc",)))
    assert picked.total == 2
    assert dict(picked.facets["genre"]) == {"tvc": 2, "spot_ad": 1, "brand_film": 1}, (
        "own filter left out"
    )
    assert dict(picked.facets["aspect"]) == {"vertical": 1, "landscape": 1}
    assert ids(lib, aspects=("vertical",)) == ["v:summer"]
    assert ids(lib, tags=("drink", "nike"), genres=("spot_ad",)) == ["v:coffee"]
    assert ids(lib, formats=("2d",)) == ["v:coffee"]
    assert ids(lib, owners=("mina",), text="sunscreen") == ["v:summer"]
    assert ids(lib, providers=("nope",)) == []
    assert set(ids(lib, min_duration_s=3.0, max_duration_s=4.0)) == {
        w.meta.video_id for w in VIDEOS
    }
    assert ids(lib, max_duration_s=1.0) == []
    texted = search(lib, SearchQuery(text="광고"))
    assert dict(texted.facets["genre"]) == {"tvc": 1, "spot_ad": 1}


def test_corrections_win_over_the_model(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    wh.write_video(VIDEOS[0])
    wh.write_video(VIDEOS[1])
    settings = settings_for(wh.root)
    refresh(settings)
    correct(wh, "v:summer", "genre", "music_video")
    correct(wh, "v:summer", "tags", ["sunblock", "beach"])
    correct(wh, "v:summer", "mood", ["sunny"])
    refresh(settings, ["v:summer"])
    assert ids(settings, genres=("music_video",)) == ["v:summer"]
    assert ids(settings, genres=("tvc",)) == []
    assert ids(settings, text="뮤직비디오") == ["v:summer"]
    assert ids(settings, text="sunblock") == ["v:summer"]
    assert ids(settings, text="beauty") == [], "corrected tags replace the model's"
    (hit,) = search(settings, SearchQuery(text="sunblock")).hits
    assert hit.genre == "music_video" and set(hit.tags) == {"sunblock", "beach"}
    facets = search(settings, SearchQuery()).facets
    assert dict(facets["mood"]) == {"sunny": 1, "calm": 1}
    from datetime import timedelta

    from tests.search_support import NOW

    correct(wh, "v:summer", "genre", "vlog", at=NOW + timedelta(hours=1))
    correct(wh, "v:summer", "genre", "documentary", at=NOW - timedelta(hours=1))
    refresh(settings, ["v:summer"])
    assert ids(settings, genres=("vlog",)) == ["v:summer"], "the latest correction counts"
    assert table_counts(wh)["analyses"] == 2, "the analysis itself is untouched"
