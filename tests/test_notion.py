"""Publishing to Notion: the real notion-client against a fake Notion on loopback, a real warehouse."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adref.notion import shape
from adref.notion.client import NotionAPI, NotionError, TokenBucket
from adref.notion.config import notion_config
from adref.notion.push import Publisher, public_viewer
from adref.notion.setup import PROPERTIES
from adref.settings import Settings
from adref.warehouse import moodboards as mb
from adref.warehouse.catalog import Warehouse
from adref.warehouse.corrections import Edit, save_corrections
from adref.warehouse.notion_pages import page_of
from tests.board_library import build_library
from tests.support.fake_notion import DROP, GARBLED, FakeNotion

TOKEN = "secret_NOTIONtok3n-never-shown"


@pytest.fixture
def notion() -> contextlib.AbstractContextManager[FakeNotion]:
    with FakeNotion(token=TOKEN) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def settings(tmp_path: Path, notion: FakeNotion) -> Settings:
    s = Settings(
        home=tmp_path / "home",
        warehouse_dir=tmp_path / "wh",
        output_language="en",
        notion_api_key=TOKEN,
        notion_database_id=notion.state.database_id,
        notion_base_url=notion.base_url,
        notion_requests_per_s=50,
    )
    build_library(s.warehouse)
    return s


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def publisher(settings: Settings, sleeps: Sleeps | None = None) -> Publisher:
    config = notion_config(settings)
    assert config is not None
    api = NotionAPI(
        TOKEN,
        settings.notion_base_url,
        requests_per_s=1000,
        retries=4,
        sleep=sleeps if sleeps is not None else Sleeps(),
    )
    return Publisher(settings, config, api)


def props(page: dict) -> dict:
    return page["properties"]


def test_setup_adds_the_missing_properties_and_leaves_a_persons_own_alone(
    settings: Settings, notion: FakeNotion
) -> None:
    notion.state.properties["Genre"] = {"id": "g", "name": "Genre", "type": "rich_text"}
    with publisher(settings) as p:
        schema = p.schema
    assert set(schema.added) == set(PROPERTIES) - {"Genre"}
    assert schema.mismatched == {"Genre": "rich_text"}
    assert notion.state.properties["Mood"]["type"] == "multi_select"
    assert notion.state.properties["Genre"]["type"] == "rich_text", "not retyped"
    with publisher(settings) as p:
        assert p.schema.added == [] and p.schema.title_property == "Name"
        pushed = p.video("youtube:sea")
    assert "Genre" not in props(notion.state.pages[pushed.page_id]), "nothing written to theirs"


def test_first_push_then_second_push_updates_the_same_page(
    settings: Settings, notion: FakeNotion
) -> None:
    with publisher(settings) as p:
        first = p.video("youtube:sea")
    assert first.created and notion.problems == []
    page = notion.state.pages[first.page_id]
    assert props(page)["Name"]["title"][0]["text"]["content"] == "여름 음료 광고 — 바다"
    assert props(page)["Genre"]["select"]["name"] == "TV commercial"
    assert props(page)["adref ID"]["rich_text"][0]["text"]["content"] == "youtube:sea"
    kinds = [b["type"] for b in notion.page_blocks(first.page_id)]
    assert kinds.count("image") == 4, "a keyframe per scene group"
    assert all(u["status"] == "attached" for u in notion.state.uploads.values())
    assert len(notion.state.uploads) == 4
    blocks_before = len(notion.page_blocks(first.page_id))

    with publisher(settings) as p:
        second = p.video("youtube:sea")
    assert not second.created and second.page_id == first.page_id
    assert len(notion.live_pages()) == 1, "no duplicate"
    assert len(notion.page_blocks(first.page_id)) == blocks_before, "body replaced, not doubled"
    stored = page_of(
        Warehouse(settings.warehouse), "video", "youtube:sea", notion.state.database_id
    )
    assert stored is not None and stored.page_id == first.page_id
    with Warehouse(settings.warehouse).connect() as con:
        assert con.execute("SELECT count(*) FROM notion_pages").fetchone() == (1,)


def test_a_persons_corrections_are_what_notion_shows(
    settings: Settings, notion: FakeNotion
) -> None:
    wh = Warehouse(settings.warehouse)
    save_corrections(
        wh, "youtube:sea", Edit(genre="viral_video", mood=["calm"], tags=["sea, summer"]), "mina"
    )
    with publisher(settings) as p:
        page = notion.state.pages[p.video("youtube:sea").page_id]
    assert props(page)["Genre"]["select"]["name"] == "Viral video"
    assert [o["name"] for o in props(page)["Mood"]["multi_select"]] == ["calm"]
    tags = [o["name"] for o in props(page)["Tags"]["multi_select"]]
    assert "sea， summer" in tags, "a comma in an option is shaped, not refused"
    assert notion.problems == []


def test_a_page_archived_or_deleted_in_notion_is_made_again(
    settings: Settings, notion: FakeNotion
) -> None:
    with publisher(settings) as p:
        first = p.video("vimeo:city")
    notion.archive(first.page_id)
    with publisher(settings) as p:
        again = p.video("vimeo:city")
    assert again.created and again.page_id != first.page_id
    assert [pg["id"] for pg in notion.live_pages()] == [again.page_id]
    del notion.state.pages[again.page_id]  # deleted for good
    with publisher(settings) as p:
        third = p.video("vimeo:city")
    assert third.created and len(notion.live_pages()) == 1


def test_a_burst_of_429_is_waited_out_as_retry_after_asks(
    settings: Settings, notion: FakeNotion
) -> None:
    sleeps = Sleeps()
    notion.fail_next(429, count=3, retry_after="2")
    with publisher(settings, sleeps) as p:
        pushed = p.video("youtube:sea")
    assert sleeps == [2.0, 2.0, 2.0]
    assert pushed.created and len(notion.live_pages()) == 1


def test_5xx_is_backed_off_exponentially_and_a_lasting_one_fails_clearly(
    settings: Settings, notion: FakeNotion
) -> None:
    sleeps = Sleeps()
    notion.fail_next(503, count=3)
    with publisher(settings, sleeps) as p:
        p.video("youtube:sea")
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2]
    notion.fail_next(500, count=10, path_prefix="/v1/pages")
    with publisher(settings, Sleeps()) as p, pytest.raises(NotionError) as caught:
        p.video("vimeo:city")
    assert "Notion page create failed: 500" in caught.value.one_line()
    assert TOKEN not in caught.value.one_line()


def test_a_create_done_yet_answered_503_is_adopted_not_made_twice(
    settings: Settings, notion: FakeNotion
) -> None:
    sleeps = Sleeps()
    notion.fail_next(503, path_prefix="/v1/pages", after=True)
    with publisher(settings, sleeps) as p:
        first = p.video("youtube:sea")
    assert notion.count("POST", "/v1/pages") == 1, "the create was not sent again"
    assert len(sleeps) == 1, "one backoff, then the look-up found the page"
    (live,) = notion.live_pages()
    assert first.created and first.page_id == live["id"]
    assert props(live)["adref ID"]["rich_text"][0]["text"]["content"] == "youtube:sea"
    kinds = [b["type"] for b in notion.page_blocks(first.page_id)]
    assert kinds.count("image") == 4 and notion.problems == []
    stored = page_of(
        Warehouse(settings.warehouse), "video", "youtube:sea", notion.state.database_id
    )
    assert stored is not None and stored.page_id == first.page_id

    with publisher(settings) as p:
        second = p.video("youtube:sea")
    assert not second.created and second.page_id == first.page_id
    assert len(notion.live_pages()) == 1
    assert notion.count("PATCH", f"/v1/pages/{first.page_id}") == 1
    assert [b["type"] for b in notion.page_blocks(first.page_id)] == kinds, "body replaced"
    assert notion.problems == []


def test_an_answer_that_is_not_json_is_retried_and_a_lasting_one_fails_clearly(
    settings: Settings, notion: FakeNotion
) -> None:
    """A proxy's page, or a body cut short: Notion's error, retried like a lost answer (a
    create it hid is adopted, not made twice), never an "unexpected" crash."""
    notion.fail_next(GARBLED, path_prefix="/v1/pages", after=True)
    with publisher(settings, Sleeps()) as p:
        pushed = p.video("youtube:sea")
    assert pushed.created and notion.count("POST", "/v1/pages") == 1
    assert [pg["id"] for pg in notion.live_pages()] == [pushed.page_id]
    notion.fail_next(GARBLED, count=10)
    with publisher(settings, Sleeps()) as p, pytest.raises(NotionError) as caught:
        p.video("vimeo:city")
    assert "the answer was not Notion's JSON" in caught.value.one_line()


def test_a_create_done_whose_answer_was_lost_is_adopted_too(
    settings: Settings, notion: FakeNotion
) -> None:
    public = settings.model_copy(update={"viewer_url": "https://adref.example.com"})
    notion.fail_next(DROP, path_prefix="/v1/pages", after=True)
    with publisher(public) as p:  # linked images: a second create would be accepted
        pushed = p.board(mb.create_board(Warehouse(settings.warehouse), "mina", "Night"))
    assert pushed.created and notion.count("POST", "/v1/pages") == 1
    assert [pg["id"] for pg in notion.live_pages()] == [pushed.page_id]


def test_a_page_the_warehouse_lost_is_found_by_its_adref_id_and_updated(
    settings: Settings, notion: FakeNotion
) -> None:
    wh = Warehouse(settings.warehouse)
    with publisher(settings) as p:
        first = p.video("vimeo:city")
    with wh.connect(read_only=False) as con:  # as if the push died before noting the page
        con.execute("DELETE FROM notion_pages")
    with publisher(settings) as p:
        again = p.video("vimeo:city")
    assert not again.created and again.page_id == first.page_id
    assert len(notion.live_pages()) == 1 and notion.problems == []
    stored = page_of(wh, "video", "vimeo:city", notion.state.database_id)
    assert stored is not None and stored.page_id == first.page_id


def test_only_a_failure_that_may_have_been_done_makes_the_create_look_first(
    settings: Settings, notion: FakeNotion
) -> None:
    query = r"/v1/data_sources/[^/]+/query"
    notion.fail_next(429, path_prefix="/v1/pages", retry_after="0")
    with publisher(settings) as p:
        p.video("youtube:sea")
    assert notion.count("POST", query) == 1, "only the look-up before a first create"
    notion.fail_next(400, path_prefix="/v1/pages")
    with publisher(settings) as p, pytest.raises(NotionError):
        p.video("vimeo:city")
    assert notion.count("POST", query) == 2, "a 400 was refused: nothing to look for"
    notion.fail_next(502, path_prefix="/v1/pages")  # not done: looked for, not found, sent again
    with publisher(settings) as p:
        assert p.video("vimeo:city").created
    assert notion.count("POST", query) == 4
    assert len(notion.live_pages()) == 2 and notion.problems == []


def test_a_validation_error_fails_at_once_in_one_line(
    settings: Settings, notion: FakeNotion
) -> None:
    sleeps = Sleeps()
    notion.fail_next(400, count=1)
    with publisher(settings, sleeps) as p, pytest.raises(NotionError) as caught:
        p.video("youtube:sea")
    assert sleeps == [] and "400 validation_error" in caught.value.one_line()


def test_long_text_and_many_blocks_are_shaped_not_refused(
    settings: Settings, notion: FakeNotion
) -> None:
    wh = Warehouse(settings.warehouse)
    long_note = ("광고 " * 700).strip()  # 2,099 characters: over one rich text's 2,000
    save_corrections(wh, "youtube:sea", Edit(note=long_note[:2000]), "mina")
    summary = "word " * 1500  # 7,500 characters
    with wh.connect(read_only=False) as con:
        con.execute("UPDATE analyses SET summary = ? WHERE video_id = 'youtube:sea'", [summary])
    many = [f"b{i}" for i in range(130)]
    assert len(list(shape.chunked([shape.bullet(m) for m in many]))) == 2
    with publisher(settings) as p:
        page_id = p.video("youtube:sea").page_id
    assert notion.problems == []
    texts = [
        t["text"]["content"]
        for b in notion.page_blocks(page_id)
        if b["type"] == "paragraph"
        for t in b["paragraph"]["rich_text"]
    ]
    assert max(len(t) for t in texts) <= 2000
    assert "".join(texts).count("word") == 1500, "nothing cut"


def test_a_page_over_100_blocks_is_created_then_appended(
    settings: Settings, notion: FakeNotion
) -> None:
    wh = Warehouse(settings.warehouse)
    with wh.connect(read_only=False) as con:  # 60 scene groups: ~3 blocks each
        con.execute(
            "INSERT INTO scene_groups SELECT video_id, group_index + 10 * g, shot_indices, start_s, "
            "end_s, representative_shot, keyframe_path, analysed FROM scene_groups, range(1, 16) t(g) "
            "WHERE video_id = 'youtube:sea'"
        )
    with publisher(settings) as p:
        page_id = p.video("youtube:sea").page_id
    create = next(c for c in notion.calls if c.method == "POST" and c.path == "/v1/pages")
    assert len(create.body["children"]) == 100
    assert len(notion.page_blocks(page_id)) > 100
    assert notion.problems == []


def test_a_moodboard_is_a_grid_of_frames_with_source_and_timecode(
    settings: Settings, notion: FakeNotion
) -> None:
    wh = Warehouse(settings.warehouse)
    board = mb.create_board(wh, "mina", "Summer, sea", "cool blues")
    mb.add_items(wh, board, "mina", [("youtube:sea", 0), ("youtube:sea", 2), ("vimeo:city", 1)])
    mb.set_note(wh, board, "mina", "vimeo:city", 1, "the neon")
    with publisher(settings) as p:
        first = p.board(board)
        again = p.board(board)
    assert first.created and not again.created and len(notion.live_pages()) == 1
    page = notion.state.pages[first.page_id]
    assert props(page)["Name"]["title"][0]["text"]["content"] == "Summer, sea"
    assert props(page)["Kind"]["select"]["name"] == "moodboard"
    assert props(page)["adref ID"]["rich_text"][0]["text"]["content"] == f"moodboard:{board}"
    (row,) = [b for b in notion.page_blocks(first.page_id) if b["type"] == "column_list"]
    cells = notion.state.children[row["id"]]
    assert len(cells) == 3
    under = [notion.tree(c) for c in cells]
    assert all(blocks[0]["type"] == "image" for blocks in under)
    words = json.dumps(under, ensure_ascii=False)
    assert "여름 음료 광고 — 바다 · 00:04.0" in words and "City lights at night · 00:01.5" in words
    assert "the neon" in words and "video?id=vimeo%3Acity&t=1.500" in words
    assert notion.problems == []


def test_keyframes_link_to_a_public_viewer_instead_of_uploading(
    settings: Settings, notion: FakeNotion
) -> None:
    assert not public_viewer("http://127.0.0.1:5006") and not public_viewer("http://10.0.0.2")
    assert public_viewer("https://adref.example.com")
    public = settings.model_copy(update={"viewer_url": "https://adref.example.com"})
    with publisher(public) as p:
        page_id = p.video("youtube:sea").page_id
    images = [b for b in notion.page_blocks(page_id) if b["type"] == "image"]
    assert images and all(
        b["image"]["external"]["url"].startswith("https://adref.example.com/media/keyframes/")
        for b in images
    )
    assert notion.state.uploads == {}


def test_every_request_carries_the_pinned_version_and_the_token_stays_secret(
    settings: Settings, notion: FakeNotion, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    notion.fail_next(429, count=1, retry_after="0")
    with publisher(settings) as p:
        p.video("youtube:sea")
    assert {c.headers["notion-version"] for c in notion.calls} == {"2025-09-03"}
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(settings) and TOKEN not in settings.model_dump_json()
    for file in Path(settings.warehouse).rglob("*"):
        if file.is_file():
            assert TOKEN.encode() not in file.read_bytes(), file


def test_the_token_bucket_spaces_requests_to_the_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    bucket = TokenBucket(rate=3.0, burst=3.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(9):
        bucket.take()
    assert slept[:0] == [] and len(slept) == 6, "three at once, then one every third of a second"
    assert now[0] == pytest.approx(2.0)


def test_shaping_rules() -> None:
    assert shape.option("a, b,c") == "a， b，c"
    assert shape.option("  ") is None and len(shape.option("x" * 300) or "") == 100
    assert [len(p) for p in shape.text_pieces("y" * 4500)] == [2000, 2000, 500]
    assert shape.url_value("file:///etc/passwd") == {"url": None}
    assert shape.options(["a", "a", "b,", ""]) == ["a", "b，"]


def test_off_without_a_token_or_a_database(tmp_path: Path) -> None:
    assert notion_config(Settings(home=tmp_path, notion_database_id="db")) is None
    assert notion_config(Settings(home=tmp_path, notion_api_key="x")) is None


def test_the_boards_page_has_a_publish_button_only_when_notion_is_configured(
    settings: Settings, notion: FakeNotion
) -> None:
    import panel as pn

    from adref.viewer import boards as page
    from adref.viewer.context import ViewerContext

    wh = Warehouse(settings.warehouse)
    board = mb.create_board(wh, "mina", "Sea")
    mb.add_items(wh, board, "mina", [("youtube:sea", 1)])
    off = settings.model_copy(update={"notion_api_key": None})
    view = page.page(ViewerContext(off, wh, "mina", {"id": board}))
    assert "Publish to Notion" not in {b.label for b in view.select(pn.widgets.Button)}

    view = page.page(ViewerContext(settings, wh, "jin", {"id": board}))
    (button,) = [b for b in view.select(pn.widgets.Button) if b.label == "Publish to Notion"]
    button.clicks += 1
    assert "Published to Notion." in "\n".join(str(a.object) for a in view.select(pn.pane.Alert))
    (live,) = notion.live_pages()
    assert live["properties"]["Name"]["title"][0]["text"]["content"] == "Sea"


def test_the_cli_sets_up_and_pushes_and_says_what_failed_in_one_line(
    settings: Settings, notion: FakeNotion, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import adref.cli  # noqa: F401  (registers every command)
    from adref.cli.app import app
    from adref.settings import reset_settings

    env = {
        "ADREF_HOME": str(settings.home),
        "ADREF_WAREHOUSE_DIR": str(settings.warehouse),
        "NOTION_API_KEY": TOKEN,
        "NOTION_DATABASE_ID": notion.state.database_id,
        "ADREF_NOTION_BASE_URL": notion.base_url,
        "ADREF_NOTION_REQUESTS_PER_S": "50",
        "ADREF_NOTION_RETRIES": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    try:
        runner = CliRunner()
        setup = runner.invoke(app, ["notion", "setup"])
        assert setup.exit_code == 0, setup.output
        assert "added" in setup.output and "Mood" in setup.output
        pushed = runner.invoke(app, ["notion", "push", "--all"])
        assert pushed.exit_code == 0, pushed.output
        assert pushed.output.count("created video") == 2
        again = runner.invoke(app, ["notion", "push", "youtube:sea"])
        assert "updated video youtube:sea" in again.output and len(notion.live_pages()) == 2
        notion.token = "secret_rotated"  # the stored token no longer works
        refused = runner.invoke(app, ["notion", "push", "youtube:sea"])
        assert refused.exit_code == 1 and "401 unauthorized" in refused.output
        assert TOKEN not in refused.output
        missing = runner.invoke(app, ["notion", "push", "youtube:nope"])
        assert missing.exit_code == 2 and "youtube:nope" in missing.output
    finally:
        reset_settings()


@pytest.mark.slow
def test_a_flow_run_with_notion_failing_stores_the_video_and_notes_it(
    prefect_api: str, adref_home: Path, clip_ad, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    from adref.flows.analyze_video import analyze_video
    from adref.flows.reanalyze import reanalyze_video
    from adref.settings import get_settings, reset_settings

    with FakeNotion(token=TOKEN) as notion:
        for key, value in {
            "NOTION_API_KEY": TOKEN,
            "NOTION_DATABASE_ID": notion.state.database_id,
            "ADREF_NOTION_BASE_URL": notion.base_url,
            "ADREF_NOTION_REQUESTS_PER_S": "50",
            "ADREF_NOTION_RETRIES": "1",
        }.items():
            monkeypatch.setenv(key, value)
        reset_settings()
        notion.fail_next(503, count=50)
        summary = analyze_video(source=str(clip_ad.path), notion=True)
        assert summary.status == "completed"
        (note,) = [n for n in summary.notes if n.startswith("Notion:")]
        assert "not published" in note and "503" in note and "adref notion push" in note
        wh = Warehouse(get_settings().warehouse)
        with wh.connect() as con:
            assert con.execute("SELECT count(*) FROM videos").fetchone() == (1,)
            (notes,) = con.execute("SELECT notes FROM runs").fetchone() or ("",)
        assert "Notion:" in notes

        import adref.cli  # noqa: F401  (registers every command)
        from adref.cli.app import app

        vid = str(summary.video_id)
        cli = CliRunner().invoke(app, ["reanalyze", vid, "--notion", "--refresh", "--yes"])
        assert cli.exit_code == 0, cli.output
        said = " ".join(cli.stderr.split())
        assert f"note: Notion: {vid} not published: Notion database retrieve failed: 503" in said

        notion._failures.clear()
        with Publisher(get_settings()) as p:  # what `adref notion push` does to catch up
            assert p.video(str(summary.video_id)).created
        assert len(notion.live_pages()) == 1 and notion.problems == []

        again = reanalyze_video(video_id=str(summary.video_id), notion=True)
        assert again.status == "completed"
        assert not [n for n in again.notes if n.startswith("Notion:")]
        assert len(notion.live_pages()) == 1, "the re-analysis updated the same page"
        assert notion.count("PATCH", r"/v1/pages/[^/]+") == 1

    database = PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split(":///", 1)[1]
    prefect_db = Path(database).parent
    seen_note = False
    for root in (adref_home, Path(os.environ["PREFECT_HOME"]), prefect_db):
        for file in root.rglob("*"):
            if file.is_file():
                data = file.read_bytes()
                assert TOKEN.encode() not in data, file
                seen_note |= root == prefect_db and b"not published" in data
    assert seen_note, "the run's artifact and logs (in Prefect's database) say what failed"


def test_asking_for_notion_with_no_database_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import adref.cli  # noqa: F401  (registers every command)
    from adref.cli.app import app
    from adref.settings import reset_settings

    monkeypatch.setenv("ADREF_HOME", str(tmp_path))
    monkeypatch.delenv("NOTION_DATABASE_ID", raising=False)
    monkeypatch.delenv("ADREF_NOTION_DATABASE_ID", raising=False)
    reset_settings()
    try:
        for command in (["analyze", "nowhere.mp4", "--notion"], ["reanalyze", "x", "--notion"]):
            result = CliRunner().invoke(app, command)
            assert result.exit_code == 2 and "--notion needs a Notion database" in result.output
        pushed = CliRunner().invoke(app, ["notion", "push", "--all"])
        assert pushed.exit_code == 2 and "Notion is not configured" in pushed.output
    finally:
        reset_settings()


@pytest.mark.slow
def test_the_token_can_come_from_a_prefect_secret_block(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    from adref.settings import get_settings, reset_settings

    block_token = "secret_NOTION-from-a-BLOCK-7731"
    for name in ("NOTION_API_KEY", "ADREF_NOTION_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with FakeNotion(token=block_token) as notion:
        for key, value in {
            "NOTION_DATABASE_ID": notion.state.database_id,
            "ADREF_NOTION_BASE_URL": notion.base_url,
            "ADREF_NOTION_REQUESTS_PER_S": "50",
        }.items():
            monkeypatch.setenv(key, value)
        reset_settings()
        settings = get_settings()
        assert settings.notion_api_key is None
        assert notion_config(settings) is None, "no block yet: Notion is off"
        Secret(value=block_token).save(settings.notion_secret_block, overwrite=True)
        try:
            config = notion_config(settings)
            assert config is not None and config.token.get_secret_value() == block_token
            assert block_token not in repr(config)
            build_library(settings.warehouse)
            with Publisher(settings, config) as p:
                pushed = p.video("youtube:sea")
        finally:
            Secret(value="").save(settings.notion_secret_block, overwrite=True)
        assert pushed.created and len(notion.live_pages()) == 1 and notion.problems == []
        assert {c.headers["authorization"] for c in notion.calls} == {f"Bearer {block_token}"}
        assert notion_config(settings) is None, "a blank block: off again"

    database = PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split(":///", 1)[1]
    roots = (adref_home, Path(os.environ["PREFECT_HOME"]), Path(database).parent)
    files = [f for root in roots for f in root.rglob("*") if f.is_file()]
    assert files and any(f.is_relative_to(adref_home) for f in files)
    assert [f for f in files if block_token.encode() in f.read_bytes()] == []


def test_doctor_says_whether_notion_is_set_up_and_never_shows_the_token(
    tmp_path: Path, notion: FakeNotion
) -> None:
    from adref.doctor.notion import notion_checks

    home = tmp_path / "doctor"
    assert notion_checks(Settings(home=home)) == [], "off and unmentioned: no row"
    half = notion_checks(Settings(home=home, notion_database_id=notion.state.database_id))
    assert [(c.status, "no token" in c.detail) for c in half] == [("warning", True)]

    s = Settings(
        home=home,
        notion_api_key=TOKEN,
        notion_database_id=notion.state.database_id,
        notion_base_url=notion.base_url,
        notion_requests_per_s=50,
    )
    (offline,) = notion_checks(s)
    assert offline.status == "ok" and "--online" in offline.detail
    assert notion.calls == [], "offline, Notion is not asked"
    (missing,) = notion_checks(s, online=True)
    assert missing.status == "warning" and "adref notion setup" in missing.fix
    with Publisher(s) as p:
        assert p.schema.added  # what `adref notion setup` does
    (ready,) = notion_checks(s, online=True)
    assert ready.status == "ok" and "every property in place" in ready.detail
    notion.fail_next(401)
    (refused,) = notion_checks(s.model_copy(update={"notion_retries": 0}), online=True)
    assert refused.status == "error" and "401" in refused.detail
    rows = [half, [offline, missing, ready, refused]]
    assert TOKEN not in repr(rows)
