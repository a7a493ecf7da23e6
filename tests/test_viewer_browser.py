"""The viewer as people use it: a real `adref analyze`, a real `adref viewer`, Debian's Chromium.

One warehouse for the module, made by analysing the test ad with the local analyser; the viewer
runs in a subprocess on a free port. Screenshots land in pytest's tmp folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from adref.video.testclips import ClipTruth
from tests.support.cli import invoke
from tests.support.http import unused_port
from tests.support.viewer import (
    CHROMIUM,
    Viewer,
    chromium,
    clean_env,
    raw_get,
    start_viewer,
    stop_viewer,
)

pytestmark = [
    pytest.mark.slow,  # Chromium against a real `adref viewer`
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def demo_home(
    tmp_path_factory: pytest.TempPathFactory, clip_ad: ClipTruth, prefect_api: str
) -> Path:
    """A warehouse holding the test ad, analysed once by the real CLI (on the session's Prefect
    server, which the other flow tests share)."""
    home = tmp_path_factory.mktemp("viewer-home")
    env = {"ADREF_HOME": str(home), "ADREF_OUTPUT_LANGUAGE": "en", "PREFECT_API_URL": prefect_api}
    done = invoke(
        ["analyze", str(clip_ad.path), "--tag", "sunsetdemo", "--owner", "mina"], env, alone=True
    )
    assert done.exit_code == 0, done.output
    return home


@pytest.fixture(scope="module")
def viewer(demo_home: Path) -> Iterator[Viewer]:
    running = start_viewer(clean_env(demo_home, ADREF_OUTPUT_LANGUAGE="en"))
    yield running
    stop_viewer(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def _video_id(home: Path) -> str:
    from adref.warehouse.catalog import Warehouse

    with Warehouse(home / "warehouse").connect(read_only=True) as con:
        row = con.execute("SELECT video_id FROM videos").fetchone()
    assert row is not None
    return str(row[0])


def _media(home: Path, kind: str) -> str:
    return next(
        str(p.relative_to(home / "warehouse"))
        for p in sorted((home / "warehouse" / "media" / kind).rglob("*"))
        if p.is_file() and not p.is_symlink() and not p.name.startswith(".")
    )


PLACEHOLDER = "words, tags, moods… (Enter)"


def _search(page: Page, text: str) -> None:
    box = page.get_by_placeholder(PLACEHOLDER)
    box.fill(text)
    box.press("Enter")


def test_search_a_tag_see_its_keyframe_and_open_the_video(
    viewer: Viewer, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{viewer.url}/search")
    expect(page.get_by_placeholder(PLACEHOLDER)).to_be_visible(timeout=20_000)
    _search(page, "nothingmatchesthis")
    expect(page.get_by_text("0 results")).to_be_visible()
    expect(page.locator(".card")).to_have_count(0)

    _search(page, "sunsetdemo")
    expect(page.get_by_text("1 result", exact=True)).to_be_visible()
    card = page.locator(".card")
    expect(card).to_have_count(1)
    assert card.get_attribute("data-video") == _video_id(viewer.home)
    image = card.locator("img")
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle())
    page.screenshot(path=tmp_path / "search-page.png", full_page=True)

    card.locator("a.title").click()
    page.wait_for_url("**/video?id=*")
    expect(page.locator("video")).to_be_attached(timeout=20_000)
    expect(page.locator("button.shot").first).to_be_visible()


def test_words_only_on_screen_or_only_said_find_their_shots_and_the_video_page_shows_them(
    viewer: Viewer, page: Page, tmp_path: Path
) -> None:
    """The test ad has no voice: a transcript is stored for it as the speech step's rows."""
    import duckdb

    from adref.search.index import refresh
    from adref.settings import Settings
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.write import insert_rows, run_in_transaction

    wh = Warehouse(viewer.home / "warehouse")
    with wh.connect(read_only=True) as con:
        row = con.execute(
            "SELECT t.video_id, t.shot_index, t.text, s.keyframe_path FROM shot_texts t JOIN shots s"
            " USING (video_id, shot_index) WHERE t.text ILIKE '%sale%'"
        ).fetchone()
        said = con.execute(
            "SELECT count(*) FROM analyses WHERE summary ILIKE '%sale%'"
            " OR genre_reason ILIKE '%sale%'"
        ).fetchone()
        assert row is not None, "the text stage read the SALE super of the test ad"
        video_id, shot_index, text, keyframe = row
        voiced = con.execute(
            "SELECT shot_index, start_s FROM shots WHERE video_id = ? AND shot_index NOT IN (0, ?)"
            " ORDER BY shot_index LIMIT 1",
            [video_id, shot_index],
        ).fetchone()
    assert said == (0,), "the word must be only on screen for this test to mean anything"
    assert shot_index != 0 and voiced is not None
    line = "Grab a Quenchora <b>now</b>"

    def store_transcript(con: duckdb.DuckDBPyConnection) -> None:
        segment = {"start_s": voiced[1] + 0.1, "end_s": voiced[1] + 0.9, "text": line}
        common = {"video_id": video_id, "language": "en", "provider": "local", "model": "test"}
        insert_rows(con, "transcripts", [segment | common])

    run_in_transaction(wh, store_transcript, "a transcript for the test ad")
    refresh(Settings(home=viewer.home), [video_id])  # as the persist task does

    page.goto(f"{viewer.url}/search")
    expect(page.get_by_placeholder(PLACEHOLDER)).to_be_visible(timeout=20_000)
    _search(page, "sale")
    card = page.locator(".card")
    # Before the search the page lists every video at its first shot: wait for the answer.
    expect(card).to_have_attribute("data-shot", str(shot_index))
    expect(card).to_have_count(1)
    expect(page.get_by_text("1 result", exact=True)).to_be_visible()
    expect(card.locator(".quote.screen")).to_contain_text(f"“{text}”")
    expect(card.locator(".quote.screen b")).to_have_text("On screen")
    image = card.locator("img")
    assert (image.get_attribute("src") or "").endswith(str(keyframe))
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle())
    page.screenshot(path=tmp_path / "search-on-screen-word.png", full_page=True)

    _search(page, "quenchora")
    expect(card).to_have_attribute("data-shot", str(voiced[0]))
    expect(card.locator(".quote.said")).to_have_text(f"Said“{line}”")  # as text, not markup
    card.locator("a.title").click()
    page.wait_for_url("**/video?id=*")
    strip = page.locator(".strip")
    expect(strip.locator(f"button.shot[data-shot='{shot_index}'] + .lines.screen")).to_contain_text(
        text, timeout=20_000
    )
    said_under = strip.locator(f"button.shot[data-shot='{voiced[0]}'] ~ .lines.said")
    expect(said_under).to_have_text(f"Said{line}")
    expect(strip.locator(".lines.said")).to_have_count(1)
    page.screenshot(path=tmp_path / "video-page-said.png", full_page=True)


def test_a_second_browser_session_does_not_see_the_first_ones_state(
    viewer: Viewer, browser: Browser
) -> None:
    first, second = browser.new_context(), browser.new_context()
    try:
        a, b = first.new_page(), second.new_page()
        a.goto(f"{viewer.url}/search")
        expect(a.get_by_placeholder(PLACEHOLDER)).to_be_visible(timeout=20_000)
        _search(a, "nothingmatchesthis")
        expect(a.get_by_text("0 results")).to_be_visible()

        b.goto(f"{viewer.url}/search")
        expect(b.get_by_placeholder(PLACEHOLDER)).to_have_value("", timeout=20_000)
        expect(b.get_by_text("1 result", exact=True)).to_be_visible()
        _search(b, "sunsetdemo")
        expect(b.locator(".card")).to_have_count(1)
        expect(a.get_by_text("0 results")).to_be_visible()
        expect(a.get_by_placeholder(PLACEHOLDER)).to_have_value("nothingmatchesthis")
    finally:
        first.close()
        second.close()


def test_clicking_a_shot_seeks_the_player(viewer: Viewer, page: Page, tmp_path: Path) -> None:
    from urllib.parse import quote

    page.goto(f"{viewer.url}/video?id={quote(_video_id(viewer.home), safe='')}")
    shots = page.locator("button.shot")
    expect(shots.first).to_be_visible(timeout=20_000)
    assert shots.count() >= 5
    expect(page.locator("canvas").first).to_be_attached()  # the pacing chart
    video = page.locator("video")
    video.evaluate("v => new Promise(r => v.readyState >= 1 ? r(0) : v.onloadedmetadata = r)")
    target = shots.nth(3)
    start = float(target.get_attribute("data-start") or "nan")
    assert start > 0
    target.click()
    page.wait_for_function(
        "([v, t]) => Math.abs(v.currentTime - t) < 0.05", arg=[video.element_handle(), start]
    )
    assert abs(video.evaluate("v => v.currentTime") - start) < 0.05
    page.screenshot(path=tmp_path / "video-page.png", full_page=True)


def test_media_is_served_with_ranges_and_nothing_outside_it(viewer: Viewer) -> None:
    wh = viewer.home / "warehouse"
    keyframe = _media(viewer.home, "keyframes")
    video = _media(viewer.home, "videos")
    assert httpx.get(f"{viewer.url}/{keyframe}").content == (wh / keyframe).read_bytes()
    ranged = httpx.get(f"{viewer.url}/{video}", headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == (wh / video).read_bytes()[10:20]

    outside = viewer.home / "secret.txt"
    outside.write_text("not for browsers")
    link = wh / "media" / "keyframes" / "link.jpg"
    link.symlink_to(outside)
    (wh / "media" / ".hidden.tmp").write_text("half written")
    attempts = [
        "/media/../catalog.sqlite",
        "/media/%2e%2e/catalog.sqlite",
        "/media/%2E%2E%2Fcatalog.sqlite",
        "/media/keyframes/..%2F..%2Fcatalog.sqlite",
        f"/media/{wh}/catalog.sqlite",
        "/media/%2Fetc%2Fpasswd",
        "/media//etc/passwd",
        "/media/keyframes/link.jpg",
        "/media/.hidden.tmp",
        "/media/",
        "/media/nothing-here.jpg",
        "/media/%00",
        "/media/keyframes/a%00.jpg",
    ]
    try:
        for path in attempts:
            status, body = raw_get(viewer.url, path)
            assert status in (403, 404), (path, status)
            assert b"not for browsers" not in body and b"SQLite" not in body
    finally:
        link.unlink()
        (wh / "media" / ".hidden.tmp").unlink()


def test_hostile_words_in_a_link_stay_words(viewer: Viewer, page: Page) -> None:
    """A link can carry anything into a page: a tag or mood filter (whose box renders its
    options' labels as HTML), a message that quotes it (Markdown: a link, an image fetched by
    every reader), a digit Python takes for one (Panel's own query parser failed on it)."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    script = "<img src=x onerror=alert('tag')>"
    page.goto(f"{viewer.url}/search?tag={quote(script)}&mood={quote(script)}&shot=%C2%B2")
    expect(page.get_by_placeholder(PLACEHOLDER)).to_be_visible(timeout=20_000)
    expect(page.get_by_text(f"{script} (0)").first).to_be_attached()

    lure = "x. [Your session expired: sign in](https://evil.example/login) ![](/tracker.png)"
    page.goto(f"{viewer.url}/video?id={quote(lure)}&t=%C2%B2")
    expect(page.get_by_text("Your session expired", exact=False)).to_be_visible(timeout=20_000)
    expect(page.locator("a[href*='evil.example']")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert dialogs == []
    paths = [httpx.URL(url).path for url in fetched]
    assert "/tracker.png" not in paths and "/x" not in paths, paths

    for path in ("/search?q=%C2%B2", "/stats?days=%C2%B2", "/boards?add=x&shot=%C2%B2"):
        status, _ = raw_get(viewer.url, path)
        assert status == 200, path


@pytest.mark.timeout(60)  # a regression that serves instead of refusing fails, not hangs
def test_beyond_loopback_without_a_login_the_viewer_refuses_to_start(tmp_path: Path) -> None:
    args = ["viewer", "--address", "0.0.0.0", "--port", str(unused_port())]
    done = invoke(args, {"ADREF_HOME": str(tmp_path / "home")}, alone=True)
    assert done.exit_code == 2, done.output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "refusing to serve the viewer on 0.0.0.0" in lines[0], lines
    assert "ADREF_VIEWER_PASSWORD" in lines[0]


def test_with_basic_auth_only_a_logged_in_user_gets_pages_and_media(
    demo_home: Path, browser: Browser, tmp_path: Path
) -> None:
    env = clean_env(
        demo_home, ADREF_VIEWER_PASSWORD="correct horse", ADREF_VIEWER_COOKIE_SECRET="s" * 40
    )
    running = start_viewer(env, "--address", "0.0.0.0")
    try:
        keyframe = _media(demo_home, "keyframes")
        anonymous = httpx.get(f"{running.url}/search")
        assert anonymous.status_code in (302, 401, 403)
        assert httpx.get(f"{running.url}/{keyframe}").status_code == 403

        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{running.url}/search")
        page.fill("input[name=username]", "mina")
        page.fill("input[name=password]", "wrong")
        page.click("button[type=submit]")
        expect(page.locator("input[name=password]")).to_be_visible()
        page.fill("input[name=username]", "mina")
        page.fill("input[name=password]", "correct horse")
        page.click("button[type=submit]")
        expect(page.locator(".user")).to_have_text("mina", timeout=20_000)
        assert page.request.get(f"{running.url}/{keyframe}").status == 200
        page.screenshot(path=tmp_path / "logged-in.png")
        context.close()
    finally:
        stop_viewer(running)


def test_a_video_stored_while_the_viewer_runs_shows_without_a_restart(
    viewer: Viewer, page: Page
) -> None:
    """Last in this module: it adds a video to the shared warehouse."""
    from adref.search.index import refresh
    from adref.settings import Settings
    from adref.warehouse.catalog import Warehouse
    from tests.test_warehouse import make_write

    page.goto(f"{viewer.url}/search")
    expect(page.get_by_placeholder(PLACEHOLDER)).to_be_visible(timeout=20_000)
    _search(page, "wintersnowdemo")
    expect(page.get_by_text("0 results")).to_be_visible()

    warehouse = Warehouse(viewer.home / "warehouse")
    warehouse.write_video(
        make_write("youtube:late", title="Late arrival", user_tags=["wintersnowdemo"])
    )
    refresh(Settings(home=viewer.home), ["youtube:late"])  # as the persist task does

    _search(page, "wintersnowdemo")  # the same words again: Enter searches again
    expect(page.get_by_text("1 result", exact=True)).to_be_visible()
    expect(page.locator(".card a.title")).to_have_text("Late arrival")
    page.goto(f"{viewer.url}/video?id=youtube%3Alate")
    expect(page.get_by_role("heading", name="Late arrival")).to_be_visible(timeout=20_000)
