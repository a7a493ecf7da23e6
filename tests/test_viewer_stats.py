"""The Stats and Analyze pages and the Re-analyse button, built as Panel objects; the Stats page
also in a real browser (Debian's Chromium), where its charts draw."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import panel as pn
import pytest

from adref.providers.registry import get_provider
from adref.settings import Settings
from adref.viewer.app import render
from adref.viewer.context import ViewerContext
from adref.warehouse.catalog import Warehouse
from adref.warehouse.records import RunRecord
from tests.test_warehouse import make_write

TODAY = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)


def _ctx(wh: Warehouse, **params: str) -> ViewerContext:
    settings = Settings(warehouse_dir=wh.root, home=wh.root.parent)  # type: ignore[arg-type]
    return ViewerContext(settings=settings, warehouse=wh, user="mina", params=params)


def _html(view: Any) -> str:
    return "\n".join(str(p.object) for p in view.select(pn.pane.HTML))


def _alerts(view: Any) -> list[str]:
    return [str(a.object) for a in view.select(pn.pane.Alert)]


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = Warehouse(tmp_path_factory.mktemp("viewer-stats") / "wh")
    warehouse.init()
    warehouse.write_video(make_write("youtube:s1"))
    runs = [
        RunRecord(
            run_id="a", video_id="youtube:s1", status="completed", started_at=TODAY,
            provider="local", tasks=6, download_s=1.5, detect_s=3.0, group_s=0.2,
            analyze_s=2.0, persist_s=0.4,
        ),
        RunRecord(
            run_id="b", video_id="youtube:s1", status="completed",
            started_at=TODAY - timedelta(days=1), provider="openai", tasks=6, cache_hits=4,
            analyze_s=6.0, persist_s=0.5, tokens_in=1200, tokens_out=300, cost_usd=0.0123,
        ),
        RunRecord(
            run_id="c", status="failed", started_at=TODAY - timedelta(days=40),
            error="cannot use <b>ftp://x</b>: the address scheme ftp: is not supported",
        ),
    ]  # fmt: skip
    for run in runs:
        warehouse.append_run(run)
    return warehouse


def test_stats_page_shows_charts_and_tables_for_the_period(wh: Warehouse) -> None:
    view = render("stats", _ctx(wh))
    charts = {p.name for p in view.select(pn.pane.Bokeh)}
    assert charts == {"videos", "cache", "stages", "cost"}
    html = _html(view)
    assert "2 runs" in html and "cache hits 33% of tasks" in html and "$0.0123" in html
    assert "<th>openai</th><td>1</td><td>0</td><td>1,200</td><td>300</td>" in html
    assert "<th>detect</th><td>3.00 s</td><td>1</td>" in html
    yesterday = (TODAY - timedelta(days=1)).date().isoformat()
    assert f"<th>{yesterday}</th><td>openai</td><td>1,200</td><td>300</td><td>$0.0123</td>" in html
    assert "No failed runs." in html, "the failure is older than 30 days"
    assert 'href="/stats?days=all"' in html

    everything = _html(render("stats", _ctx(wh, days="all")))
    assert "3 runs" in everything
    assert "<th>cannot use <name></th>" not in everything, "causes are escaped"
    assert "&lt;b&gt;ftp://x&lt;/b&gt;" in everything
    assert "<b>all time</b>" in everything


def test_stats_page_charts_hold_the_days(wh: Warehouse) -> None:
    view = render("stats", _ctx(wh, days="7"))
    (videos,) = [p.object for p in view.select(pn.pane.Bokeh) if p.name == "videos"]
    data = videos.renderers[0].data_source.data
    days = [d.date() for d in data["day"]]
    assert days == [TODAY.date() - timedelta(days=1), TODAY.date()]
    assert list(data["videos"]) == [1, 1]
    (cost,) = [p.object for p in view.select(pn.pane.Bokeh) if p.name == "cost"]
    assert list(cost.renderers[0].data_source.data["openai"]) == [0.0123, 0.0]


def test_stats_page_without_runs_says_so(tmp_path: Path) -> None:
    empty = Warehouse(tmp_path / "wh")
    empty.init()
    view = render("stats", _ctx(empty, days="nonsense"))
    assert any("No runs in the last 30 days" in a for a in _alerts(view))
    assert not view.select(pn.pane.Bokeh)


def test_analyze_page_without_a_server_shows_the_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    (home / "inbox" / "spot.mp4").write_bytes(b"x" * 2000)
    nowhere = Warehouse(home / "warehouse")  # not created: the page works before any video
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        view = render("analyze", _ctx(nowhere))
        (line,) = [a for a in _alerts(view)]
        assert "no Prefect server answers at http://127.0.0.1:9/api" in line
        assert "`adref up`" in line and "\n" not in line
        (picker,) = [w for w in view.select(pn.widgets.Select) if "input folders" in w.label]
        assert list(picker.options.values()) == ["", "0:spot.mp4"]
        (start,) = [b for b in view.select(pn.widgets.Button) if b.label == "Start"]
        picker.value = "0:spot.mp4"
        start.clicks += 1  # the same line again, as an error
        assert "`adref up`" in _alerts(view)[-1]
    assert not nowhere.exists()


def test_video_page_has_a_reanalyse_button(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    view = render("video", _ctx(wh, id="youtube:s1"))
    (provider,) = [w for w in view.select(pn.widgets.Select) if w.label == "Provider"]
    assert provider.value != "local", "a provider that has not analysed it yet"
    (model,) = [w for w in view.select(pn.widgets.TextInput) if w.label == "Model"]
    assert model.placeholder == get_provider(provider.value).default_model
    provider.value = "anthropic"
    assert model.placeholder == "claude-sonnet-4-6", "the chosen provider's default model"
    (button,) = [b for b in view.select(pn.widgets.Button) if b.label == "Re-analyse"]
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        button.clicks += 1
    assert any("`adref up`" in a for a in _alerts(view))


# --- in a browser ----------------------------------------------------------------------------


@pytest.fixture
def served(wh: Warehouse, tmp_path: Path) -> Iterator[str]:
    """``adref viewer`` on this module's warehouse, with no Prefect server anywhere."""
    from tests.test_viewer_browser import clean_env, start_viewer, stop_viewer

    viewer = start_viewer(clean_env(tmp_path / "home", ADREF_WAREHOUSE_DIR=str(wh.root)))
    try:
        yield viewer.url
    finally:
        stop_viewer(viewer)


@pytest.mark.slow  # Chromium
def test_stats_and_analyze_pages_in_a_browser(served: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_viewer_browser import CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1100})
            page.goto(f"{served}/stats?days=7", timeout=60_000)
            page.get_by_text("Tokens and cost by provider").wait_for(timeout=60_000)
            page.locator("canvas").first.wait_for(timeout=60_000)
            assert page.locator("canvas").count() >= 4, "four charts drawn"
            page.screenshot(path=str(tmp_path / "stats.png"), full_page=True)

            page.get_by_text("Analyze", exact=True).first.click()
            line = page.get_by_text("no Prefect server to start runs on")
            line.wait_for(timeout=60_000)
            assert "Start one with adref up" in line.inner_text()
            page.screenshot(path=str(tmp_path / "analyze.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "stats.png").stat().st_size > 10_000
    print(f"screenshots: {tmp_path}")
