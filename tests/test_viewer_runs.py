"""Starting and following deployment runs from the viewer, against a real Prefect server.

The server has adref's deployments applied but no worker: a worker taking the run is what
tests/test_deployments.py checks end to end (minutes). Here a started run is read back with its
parameters and state, and a run the test makes in process (a re-analysis) is followed to its
stages and its video.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from adref.errors import AdrefError, InputError
from adref.settings import Settings, get_settings, reset_settings
from adref.sources.inbox import list_input_files, picked_file
from adref.viewer import runs
from adref.warehouse.catalog import Warehouse
from adref.warehouse.media import store_keyframes
from tests.test_warehouse import make_write


@pytest.fixture
def deployed(prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    from adref.deployments.apply import apply_deployments

    monkeypatch.setenv("ADREF_WORK_POOL", "adref-viewer-test")
    reset_settings()
    apply_deployments(get_settings())
    (adref_home / "inbox" / "spring").mkdir(parents=True)
    (adref_home / "inbox" / "spring" / "ad.mp4").write_bytes(b"not read before the run")
    return get_settings()


def _read(flow_run_id: str) -> tuple[str, dict[str, object], str | None]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)  # type: ignore[arg-type]
        deployment = client.read_deployment(run.deployment_id)  # type: ignore[arg-type]
    return deployment.name, run.parameters, run.state and run.state.type.value


def test_an_analyze_run_starts_with_the_pages_parameters(deployed: Settings) -> None:
    started = runs.start_analyze(
        deployed,
        source=" https://www.example.com/ad ",
        provider="openai, local",
        tags=["summer", " ", "summer", "drinks"],
        owner="mina",
    )
    assert started.ui_url.endswith(f"/runs/flow-run/{started.flow_run_id}")
    assert _read(started.flow_run_id) == (
        "analyze-video",
        {
            "source": "https://www.example.com/ad",
            "provider": "openai,local",
            "tags": ["summer", "drinks"],
            "owner": "mina",
        },
        "SCHEDULED",
    )
    progress = runs.follow(deployed, started.flow_run_id)
    assert (progress.state, progress.final, progress.video_id) == ("SCHEDULED", False, None)
    assert [(s.stage, s.state) for s in progress.stages] == [
        (stage, "pending")
        for stage in ("download", "detect", "text", "speech", "group", "analyze", "persist")
    ]


def test_a_picked_input_file_is_sent_as_its_absolute_path(deployed: Settings) -> None:
    (listed,) = list_input_files(deployed.input_folders)
    path = picked_file(deployed.input_folders, listed.folder, listed.relative)
    started = runs.start_analyze(deployed, source=str(path))
    name, params, _ = _read(started.flow_run_id)
    assert (name, params) == ("analyze-video", {"source": str(path), "provider": "local"})


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("", "nothing to analyse"),
        ("file:///etc/passwd", "scheme file:"),
        ("http://127.0.0.1:8080/ad.mp4", "127.0.0.1"),
        ("/etc/hostname", "input folders"),
    ],
)
def test_a_bad_source_is_refused_before_any_run(
    deployed: Settings, monkeypatch: pytest.MonkeyPatch, source: str, says: str
) -> None:
    monkeypatch.setenv("ADREF_ALLOW_PRIVATE_URLS", "false")
    reset_settings()
    with pytest.raises(InputError, match=says):
        runs.start_analyze(get_settings(), source=source)


def test_an_unknown_provider_is_refused(deployed: Settings) -> None:
    with pytest.raises(InputError, match="unknown provider 'gpt'"):
        runs.start_reanalyze(deployed, "youtube:a", provider="gpt")


def test_a_reanalysis_is_followed_to_its_stages_and_video(deployed: Settings) -> None:
    from prefect.logging.handlers import APILogHandler

    from adref.flows.reanalyze import reanalyze_video

    wh = Warehouse(deployed.warehouse)
    wh.init()
    w = make_write("youtube:viewer1")
    wh.write_video(
        w.model_copy(
            update={"keyframe_paths": store_keyframes(wh.media, "youtube:viewer1", w.shots)}
        )
    )
    started = runs.start_reanalyze(deployed, "youtube:viewer1", provider="local", model=" ")
    assert _read(started.flow_run_id) == (
        "reanalyze-video",
        {"video_id": "youtube:viewer1", "provider": "local"},
        "SCHEDULED",
    )

    # What a worker would run, here in process: a real flow run with its task runs and logs.
    summary = reanalyze_video("youtube:viewer1", provider="local")
    assert summary.flow_run_id
    APILogHandler().flush()  # logs reach the server in batches
    progress = runs.follow(deployed, summary.flow_run_id)
    assert (progress.state, progress.final, progress.succeeded) == ("COMPLETED", True, True)
    assert [(s.stage, s.state) for s in progress.stages] == [
        ("analyze", "done"),
        ("persist", "done"),
    ]
    assert progress.video_id == "youtube:viewer1"
    assert any("re-analysing youtube:viewer1" in line for line in progress.logs), progress.logs


def test_without_a_server_one_line_says_how_to_start_one(
    adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}),
        pytest.raises(runs.NoServer) as err,
    ):
        runs.start_analyze(get_settings(), source="https://www.example.com/ad")
    line = err.value.one_line()
    assert "\n" not in line and "`adref up`" in line and "127.0.0.1:9" in line


def test_a_server_without_the_deployments_says_to_deploy(
    prefect_api: str, adref_home: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        for name in (runs.ANALYZE, runs.REANALYZE):
            with contextlib.suppress(ObjectNotFound):  # not applied yet in this session
                client.delete_deployment(client.read_deployment_by_name(name).id)
    with pytest.raises(AdrefError, match="adref deploy"):
        runs.start_reanalyze(get_settings(), "youtube:a", provider="local")


def test_stage_states_from_task_runs() -> None:
    from prefect.states import Completed, Failed, Running

    task_runs = [
        SimpleNamespace(name=name, state=state)
        for name, state in [
            ("resolve-1a2", Completed(name="Cached")),
            ("download-3b4", Completed(name="Cached")),
            ("detect-5c6", Completed()),
            ("group-7d8", Running()),
            ("persist-analysis-9e0", Failed()),
        ]
    ]
    states = runs.stage_states(("download", "detect", "group", "analyze", "persist"), task_runs)
    assert [s.state for s in states] == ["cached", "done", "running", "pending", "failed"]


def test_the_file_picker_lists_only_files_inside_the_input_folders(tmp_path: Path) -> None:
    inbox, other = tmp_path / "inbox", tmp_path / "other"
    (inbox / "sub").mkdir(parents=True)
    other.mkdir()
    (inbox / "a.mp4").write_bytes(b"a")
    (inbox / "sub" / "b.mov").write_bytes(b"bb")
    (inbox / ".hidden.mp4").write_bytes(b"h")
    (other / "secret.mp4").write_bytes(b"s")
    (inbox / "out.mp4").symlink_to(other / "secret.mp4")
    (inbox / "in.mp4").symlink_to(inbox / "a.mp4")
    (inbox / "outdir").symlink_to(other, target_is_directory=True)
    listed = list_input_files([inbox])
    assert [(f.folder, f.relative, f.size_bytes) for f in listed] == [
        (0, "a.mp4", 1),
        (0, "in.mp4", 1),
        (0, "sub/b.mov", 2),
    ]
    assert picked_file([inbox], 0, "sub/b.mov") == inbox / "sub" / "b.mov"
    for folder, rel in [
        (0, "../other/secret.mp4"),
        (0, str(other / "secret.mp4")),
        (0, "out.mp4"),
        (0, "outdir/secret.mp4"),
        (0, "sub"),
        (0, ""),
        (1, "a.mp4"),
    ]:
        with pytest.raises(InputError):
            picked_file([inbox], folder, rel)


def test_the_analyze_page_starts_a_run_and_shows_its_stages(deployed: Settings) -> None:
    import panel as pn

    from adref.viewer.app import render
    from adref.viewer.context import ViewerContext

    ctx = ViewerContext(deployed, Warehouse(deployed.warehouse), user="mina")
    view = render("analyze", ctx)
    assert not view.select(pn.pane.Alert), "a server answers: no warning"
    (picker,) = [w for w in view.select(pn.widgets.Select) if "input folders" in w.label]
    (tags,) = [w for w in view.select(pn.widgets.TextInput) if w.label.startswith("Tags")]
    (start,) = [b for b in view.select(pn.widgets.Button) if b.label == "Start"]
    picker.value = "0:spring/ad.mp4"
    tags.value = "spring, launch"
    start.clicks += 1
    (progress,) = [p for p in view.select(pn.pane.HTML) if p.name == "progress"]
    html = str(progress.object)
    assert "Scheduled" in html and "waiting for a worker" in html
    assert html.count("class='stage pending'") == 7
    flow_run_id = html.split("/runs/flow-run/")[1].split('"')[0]
    assert _read(flow_run_id)[1] == {
        "source": str(deployed.input_folders[0] / "spring" / "ad.mp4"),
        "provider": "local",
        "tags": ["spring", "launch"],
        "owner": "mina",
    }


def test_the_analyze_page_follows_a_run_live_in_a_browser(
    deployed: Settings, prefect_api: str, adref_home: Path, tmp_path: Path
) -> None:
    """The page polls the API: states the server records show up without a reload, and a
    completed run links to the video its ``runs`` row names."""
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Running

    from adref.warehouse.records import RunRecord
    from tests.support.viewer import chromium, clean_env, start_viewer, stop_viewer

    viewer = start_viewer(
        clean_env(adref_home, PREFECT_API_URL=prefect_api, ADREF_WORK_POOL=deployed.work_pool)
    )
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{viewer.url}/analyze", timeout=60_000)
            page.get_by_placeholder("https://www.youtube.com/watch?v=…").fill(
                "https://www.example.com/spot"
            )
            page.get_by_role("button", name="Start").click()
            page.get_by_text("waiting for a worker").wait_for(timeout=60_000)
            link = page.locator("a[href*='/runs/flow-run/']").first.get_attribute("href")
            assert link, "the run in the Prefect UI"
            flow_run_id = link.rsplit("/", 1)[1]

            wh = Warehouse(deployed.warehouse)
            wh.init()
            with get_client(sync_client=True) as client:
                client.set_flow_run_state(flow_run_id, Running(), force=True)  # type: ignore[arg-type]
                page.locator(".state", has_text="Running").wait_for(timeout=30_000)
                wh.append_run(
                    RunRecord(
                        run_id="live-1",
                        flow_run_id=flow_run_id,
                        video_id="youtube:live1",
                        status="completed",
                        started_at=datetime.now(UTC),
                    )
                )
                client.set_flow_run_state(flow_run_id, Completed(), force=True)  # type: ignore[arg-type]
            open_video = page.get_by_role("link", name="Open the video")
            open_video.wait_for(timeout=30_000)
            assert open_video.get_attribute("href") == "/video?id=youtube%3Alive1"
            page.screenshot(path=str(tmp_path / "analyze-done.png"), full_page=True)
    finally:
        stop_viewer(viewer)
