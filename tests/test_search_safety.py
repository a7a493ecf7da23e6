"""Search text never becomes SQL: injection strings are only words, the warehouse stays as it was;
and a refresh that fails never fails the write it follows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from adref.search import store
from adref.search.index import SearchQuery, refresh, refresh_quietly, search
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from tests.search_support import indexed, table_counts, video

NASTY = [
    "'; DROP TABLE videos; --",
    '" OR 1=1 --',
    "') OR ('1'='1",
    "\\'; DELETE FROM docs; --\\",
    "\x00; DROP TABLE postings",
    "$1 $text ? %s {0}",
    "unnest([1]) UNION SELECT * FROM duckdb_settings()",
    "화장품'); DROP TABLE docs; --",
    "a" * 100_000,
    " ".join(f"w{i}" for i in range(5000)),
]


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Warehouse]:
    wh, settings = indexed(
        tmp_path_factory.mktemp("wh"),
        video("safe", title="drop table videos", summary="or 1=1"),
        video("other", title="화장품"),
    )
    return settings, wh


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_injection_strings_are_only_words(lib: tuple[Settings, Warehouse], text: str) -> None:
    settings, wh = lib
    before = table_counts(wh)
    for q in (
        SearchQuery(text=text),
        SearchQuery(text=text, genres=(text,), tags=(text,), owners=(text,), moods=(text,)),
        SearchQuery(providers=(text,), formats=(text,), colour="#ffffff", text=text),
        SearchQuery(like=(text, 0)),
    ):
        page = search(settings, q)
        assert {h.video_id for h in page.hits} <= {"safe", "other"}
    assert table_counts(wh) == before
    everything = search(settings, SearchQuery())
    assert everything.total == 2, "the index is untouched too"


def test_injection_words_match_as_words(lib: tuple[Settings, Warehouse]) -> None:
    settings, _ = lib
    hits = search(settings, SearchQuery(text="'; DROP TABLE videos; --")).hits
    assert [h.video_id for h in hits] == ["safe"], "drop, table, videos: all in its title"
    assert [h.video_id for h in search(settings, SearchQuery(text="화장품'); --")).hits] == [
        "other"
    ]


def test_a_failed_refresh_is_a_warning_and_the_next_refresh_catches_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wh, settings = indexed(tmp_path / "wh", video("first", title="alpha"))
    wh.write_video(video("missed", title="beta"))
    folder = store.folder(wh.root)
    aside = folder.rename(folder.with_name("search-aside"))
    folder.write_text("a file where the index folder should be")  # the index cannot be written
    with caplog.at_level(logging.WARNING, logger="adref.search.index"):
        assert refresh_quietly(settings, ["missed"]) is None
    assert "search index not refreshed for missed" in caplog.text
    folder.unlink()
    aside.rename(folder)
    assert search(settings, SearchQuery(text="beta")).total == 0
    wh.write_video(video("later", title="gamma"))
    report = refresh_quietly(settings, ["later"])
    assert report is not None and not report.whole and report.updated == 2
    assert search(settings, SearchQuery(text="beta")).total == 1, "caught up"
    assert search(settings, SearchQuery()).total == 3


def test_a_writer_that_never_refreshed_is_caught_up(tmp_path: Path) -> None:
    wh, settings = indexed(tmp_path / "wh", video("a", title="alpha"))
    wh.write_video(video("b", title="beta"))  # no refresh: as a writer that does not know
    from tests.search_support import correct

    correct(wh, "a", "genre", "vlog")
    report = refresh(settings, [])
    assert not report.whole and report.updated == 2
    assert search(settings, SearchQuery(text="beta")).total == 1
    assert [h.video_id for h in search(settings, SearchQuery(genres=("vlog",))).hits] == ["a"]
