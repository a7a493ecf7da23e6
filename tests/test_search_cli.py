"""``adref index`` and ``adref bench search`` on small warehouses (figures are not asserted)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import adref.cli  # noqa: F401  (registers every command)
from adref.bench.search import run_search_bench
from adref.cli.app import app
from adref.search import store
from adref.search.index import SearchQuery, search
from adref.settings import get_settings
from adref.warehouse.catalog import Warehouse
from tests.search_support import settings_for, video


def test_adref_index_rebuilds_and_updates(adref_home: Path) -> None:
    root = get_settings().warehouse
    runner = CliRunner()
    missing = runner.invoke(app, ["index"])
    assert missing.exit_code == 2 and "no warehouse" in missing.output
    wh = Warehouse(root)
    wh.write_video(video("one", title="alpha"))
    whole = runner.invoke(app, ["index"])
    assert whole.exit_code == 0, whole.output
    assert "rebuilt" in whole.output and "1 videos, 2 shots" in whole.output
    wh.write_video(video("two", title="beta"))
    some = runner.invoke(app, ["index", "two"])
    assert some.exit_code == 0 and "updated 1 video(s)" in some.output and "2 videos" in some.output
    assert "not in the warehouse" not in some.output
    typo = runner.invoke(app, ["index", "two", "sha256:nope"])
    assert typo.exit_code == 0 and "not in the warehouse: sha256:nope" in typo.output, typo.output
    assert store.read_manifest(root) is not None


def test_bench_search_on_a_small_library(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "lib")
    steps: list[str] = []
    bench = run_search_bench(
        settings, videos=30, shots_per_video=6, runs=3, refreshes=2, on_step=steps.append
    )
    assert bench.videos == 30 and bench.shots == 180 and bench.refreshes == 2
    assert [t.name for t in bench.timings] == [
        "text",
        "facet filter",
        "text + facets",
        "colour",
        "more like this",
    ]
    assert all(t.runs == 3 for t in bench.timings)
    assert next(t for t in bench.timings if t.name == "text").results > 0
    assert next(t for t in bench.timings if t.name == "more like this").results > 0
    assert search(settings, SearchQuery()).total == 32, "30 synthetic videos and two more"
    again = run_search_bench(
        settings, videos=30, shots_per_video=6, runs=2, refreshes=1, on_step=steps.append
    )
    assert again.built_s == 0.0, "the library is reused"
