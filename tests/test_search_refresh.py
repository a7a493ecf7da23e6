"""Refreshing the index: incremental changes, atomic swaps under readers, concurrent refreshers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from adref.search import store
from adref.search.index import SearchQuery, refresh, search
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from adref.warehouse.delete import delete_rows
from tests.search_support import indexed, settings_for, video


def ids(settings: Settings, **q: object) -> set[str]:
    return {h.video_id for h in search(settings, SearchQuery(page_size=200, **q)).hits}  # type: ignore[arg-type]


def test_add_reanalyse_and_delete_incrementally(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    settings = settings_for(wh.root)
    assert search(settings, SearchQuery()).total == 0, "no warehouse: an empty page"
    wh.write_video(video("one", title="first", looks=("warm",)))
    first = search(settings, SearchQuery(text="first"))  # no index yet: built on demand
    assert [h.video_id for h in first.hits] == ["one"]

    wh.write_video(video("two", title="second", looks=("red",)))
    report = refresh(settings, ["two"])
    assert not report.whole and report.updated == 1 and report.documents == 2 and report.shots == 2
    assert ids(settings, text="second") == {"two"}
    assert ids(settings, colour="#d32f2f") == {"two"}

    reanalysis = video(
        "two", title="second", provider="gemini", summary="a lighthouse", genre="vlog"
    )
    wh.write_analysis(reanalysis.analysis)
    refresh(settings, ["two"])
    assert ids(settings, text="lighthouse") == {"two"}
    assert dict(search(settings, SearchQuery()).facets["provider"]) == {"local": 2, "gemini": 1}

    wh.write_video(video("two", title="second", looks=("green", "green", "green")))
    report = refresh(settings, ["two"])
    assert report.shots == 4, "the re-stored video's old shots are gone, its new ones there"
    assert ids(settings, colour="#d32f2f") == set()
    assert ids(settings, colour="#3f9b46") == {"two"}

    delete_rows(wh, "one")
    report = refresh(settings, ["one"])
    assert report.removed == 1 and report.documents == 1 and report.shots == 3
    assert ids(settings) == {"two"} and ids(settings, text="first") == set()
    assert ids(settings, colour="#e8883a") == set()
    assert search(settings, SearchQuery(like=("one", 0))).hits == ()

    whole = refresh(settings)
    assert whole.whole and whole.documents == 1 and whole.shots == 3
    names = {p.name for p in store.folder(wh.root).iterdir()}
    manifest = store.read_manifest(wh.root)
    assert manifest is not None
    assert names <= manifest.files() | set(manifest.previous) | {"current.json", ".refresh.lock"}


def test_many_small_refreshes_merge_segments(tmp_path: Path) -> None:
    wh, settings = indexed(tmp_path / "wh", video("base", looks=("grey",)))
    for i in range(12):
        wh.write_video(video(f"v{i}", looks=("warm", "cool"), seed=i))
        refresh(settings, [f"v{i}"])
    manifest = store.read_manifest(wh.root)
    assert manifest is not None and len(manifest.segments) <= 8
    assert len(ids(settings, colour="#e8883a")) == 12
    page = search(settings, SearchQuery(like=("v3", 0), page_size=200))
    assert page.total == 24, "every other live shot, once"


def test_a_reader_keeps_its_generation_while_a_refresh_swaps(tmp_path: Path) -> None:
    wh, settings = indexed(tmp_path / "wh", video("old", title="kept"))
    before = store.opened(wh.root)
    assert before is not None
    cursor = before.cursor()
    for i in range(3):  # the reader's files are two generations old after this
        wh.write_video(video(f"new{i}", title="kept"))
        refresh(settings, [f"new{i}"])
    assert cursor.execute("SELECT count(*) FROM docs").fetchone() == (1,), "its snapshot holds"
    assert before.segments[0][0].array("vectors").shape[0] == 2
    cursor.close()
    assert ids(settings, text="kept") == {"old", "new0", "new1", "new2"}


def _refresh_one(root: str, video_id: str) -> None:
    wh = Warehouse(Path(root))
    wh.write_video(video(video_id, title=f"title {video_id}", looks=("warm",)))
    refresh(settings_for(Path(root)), [video_id])


@pytest.mark.slow  # refresh processes at once
def test_concurrent_refreshes_from_several_processes_lose_nothing(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    wh.init()
    wh.write_video(video("seed"))
    settings = settings_for(wh.root)
    refresh(settings)
    names = [f"p{i}" for i in range(5)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_refresh_one, args=(str(wh.root), n)) for n in names]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 5
    assert ids(settings) == {"seed", *names}
    assert len(ids(settings, colour="#e8883a")) == 6
    assert search(settings, SearchQuery(text="title")).total == 5


@pytest.mark.parametrize("deleted", ["current.json", "text"])
def test_a_damaged_index_is_rebuilt(tmp_path: Path, deleted: str) -> None:
    wh, settings = indexed(tmp_path / "wh", video("x", title="phoenix"))
    manifest = store.read_manifest(wh.root)
    assert manifest is not None
    target = "current.json" if deleted == "current.json" else manifest.text
    (store.folder(wh.root) / target).unlink()
    if deleted == "text":
        refresh(settings, ["x"])  # notices the missing file and rebuilds whole
    assert ids(settings, text="phoenix") == {"x"}


def test_a_grown_text_database_is_rewritten_compactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adref.search import build

    monkeypatch.setattr(build, "COMPACT_GROWTH", 0.0)
    wh, settings = indexed(tmp_path / "wh", video("a", title="alpha"))
    assert ids(settings, text="alpha") == {"a"}  # a reader holds the file being compacted
    wh.write_video(video("b", title="beta"))
    refresh(settings, ["b"])
    manifest = store.read_manifest(wh.root)
    assert manifest is not None
    assert manifest.text_bytes_at_build == (store.folder(wh.root) / manifest.text).stat().st_size
    assert ids(settings, text="alpha beta") == set()
    assert ids(settings, text="beta") == {"b"} and ids(settings) == {"a", "b"}
