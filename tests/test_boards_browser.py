"""Boards and corrections as a person uses them, in Debian's Chromium against `adref viewer`.

The warehouse is the small board library (built through the warehouse's write functions, no
flow run needed); the viewer runs in a subprocess. Screenshots land in pytest's tmp folder.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from adref.search.index import search
from adref.search.query import SearchQuery
from adref.settings import Settings
from tests.board_library import KOREAN_TITLE, build_library
from tests.support.viewer import CHROMIUM, Viewer, chromium, clean_env, start_viewer, stop_viewer

pytestmark = [
    pytest.mark.slow,  # Chromium against a real `adref viewer`
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("boards-home")
    build_library(root / "warehouse")
    return root


@pytest.fixture(scope="module")
def viewer(home: Path) -> Iterator[Viewer]:
    running = start_viewer(clean_env(home, ADREF_OUTPUT_LANGUAGE="en"))
    yield running
    stop_viewer(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    yield context.new_page()
    context.close()


def open_card(page: Page, title: str) -> None:
    page.locator(".card-header", has_text=title).first.click()


def test_a_corrected_genre_is_what_search_finds(
    viewer: Viewer, page: Page, home: Path, tmp_path: Path
) -> None:
    settings = Settings(home=home)
    assert search(settings, SearchQuery(genres=("brand_film",))).total == 0
    page.goto(f"{viewer.url}/video?id={quote('youtube:sea', safe='')}")
    open_card(page, "Edit")
    card = page.locator(".card", has_text="Save corrections").first
    card.locator("select").first.select_option(label="Brand film (brand_film)")
    card.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_text("Saved: genre.")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("corrected by", exact=False).first).to_be_visible()
    page.screenshot(path=tmp_path / "edit.png", full_page=True)

    found = search(settings, SearchQuery(genres=("brand_film",)))
    assert [h.video_id for h in found.hits] == ["youtube:sea"]
    assert found.hits[0].genre == "brand_film"
    page.goto(f"{viewer.url}/search?genre=brand_film")
    expect(page.locator(".card[data-video='youtube:sea']")).to_be_visible(timeout=20_000)
    assert page.locator(".card[data-video='vimeo:city']").count() == 0


def test_a_new_board_of_two_shots_exports_and_stays(
    viewer: Viewer, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{viewer.url}/boards")
    page.get_by_placeholder("Name").first.fill("Client deck 여름")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Created 'Client deck 여름'.")).to_be_visible(timeout=20_000)

    # one shot from a video page, one from a search hit
    page.goto(f"{viewer.url}/video?id={quote('youtube:sea', safe='')}")
    open_card(page, "Add to moodboard")
    card = page.locator(".card", has_text="Add to moodboard").first
    card.locator("select").first.select_option(label="1 · 00:01.5")
    card.locator("select").nth(1).select_option(label="Client deck 여름")
    card.locator("button.bk-btn", has_text="Add to moodboard").click()
    expect(page.get_by_text("Added:")).to_be_visible(timeout=20_000)

    page.goto(f"{viewer.url}/search?q=City")
    hit = page.locator(".card[data-video='vimeo:city']")
    expect(hit).to_be_visible(timeout=20_000)
    hit.get_by_text("Add to moodboard").click()
    page.locator("select").first.select_option(label="Client deck 여름")
    page.locator("button.bk-btn", has_text="Add to moodboard").click()
    expect(page.get_by_text("Added shot 0 of vimeo:city.")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("2 shots")).to_be_visible()

    for kind in ("png", "pdf"):
        with page.expect_download(timeout=30_000) as info:
            page.get_by_role("button", name=f"Export {kind.upper()}").click()
        path = tmp_path / f"board.{kind}"
        info.value.save_as(path)
        if kind == "png":
            img = Image.open(io.BytesIO(path.read_bytes()))
            assert img.format == "PNG" and img.width == 1600
            blue = img.convert("RGB").getpixel((64 + 150, 300))
            assert abs(blue[0] - 0x2F) < 20 and abs(blue[2] - 0xB5) < 20, "the sea's frame"
        else:
            text = subprocess.run(
                ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout
            assert "Client deck 여름" in text and KOREAN_TITLE in text
            assert "00:01.5" in text and "City lights at night" in text
    page.screenshot(path=tmp_path / "board-page.png", full_page=True)

    page.reload()
    page.get_by_role("button", name="Client deck 여름 (2)").click()
    expect(page.get_by_text("2 shots")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("shot 1 · 00:01.5")).to_be_visible()
    expect(page.get_by_text("shot 0 · 00:00.0")).to_be_visible()
