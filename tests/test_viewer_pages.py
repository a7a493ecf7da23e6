"""Viewer pages built as Panel objects (no browser): links, the video page, escaping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import panel as pn
import pytest

from adref.models import SpeechResult, TranscriptSegment
from adref.settings import Settings
from adref.viewer.app import PAGES, render
from adref.viewer.context import ViewerContext
from adref.warehouse.catalog import Warehouse
from adref.warehouse.detail import video_view
from tests.test_warehouse import make_write


def _ctx(wh: Warehouse, lang: str = "en", **params: str) -> ViewerContext:
    settings = Settings(warehouse_dir=wh.root, output_language=lang)  # type: ignore[arg-type]
    return ViewerContext(settings=settings, warehouse=wh, user="mina", params=params)


def _html(view: Any) -> str:
    """Every HTML fragment a page shows, in order."""
    return "\n".join(str(p.object) for p in view.select(pn.pane.HTML))


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = Warehouse(tmp_path_factory.mktemp("viewer") / "wh")
    warehouse.init()
    warehouse.write_video(
        make_write("youtube:abc", shots=4, title="<script>alert(1)</script> Summer", owner="mina")
    )
    warehouse.write_video(make_write("youtube:abc", shots=4, provider="openai"))
    return warehouse


def test_links_name_the_page_and_encode_their_parameters(wh: Warehouse) -> None:
    ctx = _ctx(wh)
    assert ctx.link("video", id="sha256:ab/c", t=1.5) == "/video?id=sha256%3Aab%2Fc&t=1.5"
    assert ctx.link("search") == "/search"
    assert ctx.link("search", q=None) == "/search"
    served = ViewerContext(ctx.settings, wh, "mina", app_path="/app")
    assert served.link("video", id="x") == "/app?page=video&id=x"
    assert ctx.media_url("media/keyframes/a b/0001.jpg") == "/media/keyframes/a%20b/0001.jpg"
    assert ctx.media_url(None) is None


def test_video_view_reads_every_analysis_side_by_side(wh: Warehouse) -> None:
    view = video_view(wh, "youtube:abc")
    assert view is not None
    assert [s.shot_index for s in view.shots] == [0, 1, 2, 3]
    assert sorted(a.provider for a in view.analyses) == ["local", "openai"]
    for analysis in view.analyses:
        assert [g.description for g in analysis.groups] == [f"group {i}" for i in range(4)]
        assert analysis.tokens_in == 100 and analysis.cost_usd == pytest.approx(0.001)
        assert analysis.fields["features"]["colour"] == "warm reds"
    assert sum(w for _, w in view.palette) == pytest.approx(1.0)
    assert view.palette[0][0] == "#c04020"
    assert video_view(wh, "youtube:missing") is None


def test_video_page_shows_player_shots_pacing_and_analyses(wh: Warehouse) -> None:
    view = render("video", _ctx(wh, id="youtube:abc", t="2.0"))
    html = _html(view)
    assert "<script>alert(1)" not in html, "titles are escaped"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Summer" in html
    assert html.count('class="shot') == 4
    assert 'data-start="2.000"' in html and "v.currentTime = 2.000" in html
    assert 'class="shot at" data-shot="2"' in html, "the shot the link opened at is marked"
    assert "/media/keyframes/x/0002.jpg" in html
    assert "/search?like=youtube%3Aabc&amp;shot=3" in html, "more like this, per shot"
    assert "TV commercial (tvc)" in html and "Live action (live_action)" in html
    assert "tokens 100 in / 20 out · cost $0.0010" in html
    assert "group 3" in html
    assert "<tr><th>colour</th><td>warm reds</td></tr>" in html, "features, one row each"
    assert len(view.select(pn.pane.Bokeh)) == 1, "the pacing chart"
    assert len([p for p in view.select(pn.pane.HTML) if p.name == "analysis"]) == 2


def test_each_shot_shows_the_text_read_on_it_escaped(wh: Warehouse, tmp_path: Path) -> None:
    view = video_view(wh, "youtube:abc")
    assert view is not None
    assert [s.texts for s in view.shots] == [("지금 구매하세요",), ("SUMMER SALE 50%",), (), ()]
    html = _html(render("video", _ctx(wh, id="youtube:abc")))
    assert html.count("class='lines screen'") == 2 and "class='lines said'" not in html
    assert "<b>On screen</b><span>지금 구매하세요</span>" in html
    assert "<span>SUMMER SALE 50%</span>" in html
    # Anything can be written on screen: it is escaped like the titles.
    other = Warehouse(tmp_path / "wh")
    hostile = make_write("youtube:x", shots=2)
    texts = [hostile.texts[0].model_copy(update={"text": "<img src=x onerror=alert(1)>"})]
    other.write_video(hostile.model_copy(update={"texts": texts}))
    html = _html(render("video", _ctx(other, id="youtube:x")))
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_each_shot_shows_what_is_said_during_it_escaped(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    write = make_write("youtube:said", shots=3)  # shots of 1 s: 0-1, 1-2, 2-3
    heard = [
        (0.2, 0.9, "Welcome"),
        (1.5, 2.5, "<script>alert('said')</script> Now"),
        (2.2, 3.4, "Buy Zorp"),
    ]
    transcript = SpeechResult(
        status="done",
        segments=[TranscriptSegment(start_s=a, end_s=b, text=t) for a, b, t in heard],
        language="en",
        provider="local",
        model="tiny.en",
    )
    wh.write_video(write.model_copy(update={"transcript": transcript}))
    view = video_view(wh, "youtube:said")
    assert view is not None
    assert [s.said for s in view.shots] == [
        ("Welcome",),
        ("<script>alert('said')</script> Now",),  # starts in shot 1, though it ends in shot 2
        ("Buy Zorp",),
    ]
    html = _html(render("video", _ctx(wh, id="youtube:said")))
    assert html.count("class='lines said'") == 3 and html.count("class='lines screen'") == 2
    assert "<b>Said</b><span>Welcome</span>" in html
    # The voice-over is whatever the ad says, transcribed: escaped like the titles.
    assert "<script>alert('said')" not in html
    assert "&lt;script&gt;alert(&#x27;said&#x27;)&lt;/script&gt; Now" in html

    from adref.viewer.search import SearchPageState

    results = SearchPageState(_ctx(wh, q="zorp")).results.object
    assert "data-shot='2'" in results, "the hit shows the shot where the word is said"
    assert "<b>Said</b>“Buy Zorp”" in results
    results = SearchPageState(_ctx(wh, q="alert")).results.object
    assert "<script>" not in results and "“&lt;script&gt;alert(&#x27;said&#x27;)" in results


def test_labels_follow_the_output_language(wh: Warehouse) -> None:
    html = _html(render("video", _ctx(wh, lang="ko", id="youtube:abc")))
    assert "TVC (tvc)" in html and "실사 (live_action)" in html


def test_missing_video_and_missing_warehouse_say_so(wh: Warehouse, tmp_path: Path) -> None:
    assert "No video youtube:nope" in str(
        render("video", _ctx(wh, id="youtube:nope")).select(pn.pane.Alert)[0].object
    )
    empty = Warehouse(tmp_path / "none")
    alert = render("video", _ctx(empty, id="x")).select(pn.pane.Alert)[0].object
    assert "No warehouse at" in str(alert) and "adref analyze" in str(alert)


def test_every_page_gets_the_menu_and_the_user(wh: Warehouse) -> None:
    html = _html(render("video", _ctx(wh, id="youtube:abc")))
    for name, page in PAGES.items():
        assert (f'href="/{name}"' in html) == page.menu
    assert '<span class="user">mina</span>' in html


# --- the search page ------------------------------------------------------------------------


def _enter(state: Any, text: str) -> None:
    """What typing ``text`` and pressing Enter does."""
    state.text.value = text
    state.text.enter_pressed = True


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = Warehouse(tmp_path_factory.mktemp("viewer-search") / "wh")
    warehouse.init()
    # No text read on screen: make_write's ("SUMMER SALE 50%") would be found by "summer" too.
    for write in (
        make_write("youtube:one", title="Beach <b>day</b>", user_tags=["summer"]),
        make_write("youtube:two", title="Snow night", user_tags=["winter"]),
    ):
        warehouse.write_video(write.model_copy(update={"texts": []}))
    return warehouse


def test_a_link_seeds_the_search(two: Warehouse) -> None:
    from adref.viewer.search import query_from_params

    q = query_from_params(
        _ctx(two, q="여름 beach", like="youtube:one", shot="2", colour="#AA3300", tag="a,b")
    )
    assert (q.text, q.like, q.colour, q.tags) == (
        "여름 beach",
        ("youtube:one", 2),
        "#AA3300",
        ("a", "b"),
    )
    bad = query_from_params(_ctx(two, colour="red'); drop table videos; --", shot="x", like="v"))
    assert bad.colour is None and bad.like is None


def test_search_page_filters_counts_and_pages_on_the_server(two: Warehouse) -> None:
    from adref.viewer.search import SearchPageState

    state = SearchPageState(_ctx(two))
    assert state.total == 2 and state.results.object.count("class='card'") == 2
    tags = state.facets["tag"]
    assert {"summer (1)", "winter (1)"} <= set(tags.options)
    assert "TV commercial (2)" in state.facets["genre"].options

    _enter(state, "summer")
    assert state.total == 1 and "Beach &lt;b&gt;day&lt;/b&gt;" in state.results.object
    assert "/video?id=youtube%3Aone" in state.results.object
    assert "/search?like=youtube%3Aone&amp;shot=0" in state.results.object

    state.text.value = "winter"
    assert state.total == 1 and "Beach" in state.results.object, "typing alone does not search"
    state.page_size = 1
    _enter(state, "")
    assert state.count.object.startswith("<b>2 results</b>")
    assert state.prev.disabled and not state.next.disabled
    first = state.results.object
    state.turn(1)
    assert state.page_no == 1 and state.results.object != first and state.next.disabled
    state.turn(1)
    assert state.page_no == 1, "no page past the last"

    state.page_size = 24
    tags.value = ["winter"]
    assert state.page_no == 0 and state.total == 1 and "Snow night" in state.results.object

    injected = SearchPageState(_ctx(two, q="'; DROP TABLE videos; --"))
    assert injected.total == 0 and "No results" in injected.results.object
    assert SearchPageState(_ctx(two)).total == 2, "the warehouse is untouched"


def test_colour_and_more_like_this_answer_shots(two: Warehouse) -> None:
    from adref.viewer.search import SearchPageState

    state = SearchPageState(_ctx(two, like="youtube:one", shot="1"))
    assert state.total > 0 and "Shots like shot 1 of <a" in str(state.like_note.object)
    assert "Beach &lt;b&gt;day&lt;/b&gt;</a>" in str(state.like_note.object)
    assert state.clear_like.visible
    state.clear_like.clicks += 1
    assert state.like is None and state.total == 2 and not state.clear_like.visible
    state.colour.value = "#c04020"
    state.by_colour.value = True
    assert state.total >= 2 and "data-shot" in state.results.object
