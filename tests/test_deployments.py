"""adref's deployments: registered on a real Prefect server, run by a real process worker.

The end-to-end test starts ``adref up`` as a user would (its own server, pool, deployments and
worker), runs ``adref analyze`` beside it, then starts deployment runs with parameters and
reads what they stored.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from adref.deployments.apply import apply_deployments
from adref.deployments.definitions import DEPLOYMENTS, full_name
from adref.deployments.up import crash_unfinished
from adref.errors import InputError
from adref.settings import Settings, get_settings, reset_settings
from adref.sources.local import require_inside
from adref.video.testclips import ClipTruth
from adref.warehouse.catalog import Warehouse

pytestmark = pytest.mark.slow  # a real Prefect server, process workers, `adref up`

ADREF = str(Path(sys.executable).parent / "adref")


def test_input_dirs_are_comma_separated_and_default_to_the_inbox(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, input_dirs=f"{tmp_path}/a, {tmp_path}/b")  # type: ignore[arg-type]
    assert s.input_folders == [tmp_path / "a", tmp_path / "b"]
    assert Settings(home=tmp_path).input_folders == [tmp_path / "inbox"]


def test_a_file_outside_the_input_folders_is_refused(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    inside = inbox / "sub" / "a.mp4"
    inside.write_bytes(b"x")
    assert require_inside(inside, [inbox]) == inside
    outside = tmp_path / "b.mp4"
    outside.write_bytes(b"x")
    # A link in the inbox to a file elsewhere is judged by where it points.
    (inbox / "link.mp4").symlink_to(outside)
    for path in (outside, inbox / "link.mp4", inbox / ".." / "b.mp4"):
        with pytest.raises(InputError, match="input folders") as err:
            require_inside(path, [inbox])
        assert "ADREF_INPUT_DIRS" in err.value.one_line()


def test_deploy_registers_the_pool_and_deployments_idempotently(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolUpdate
    from prefect.client.schemas.schedules import CronSchedule

    monkeypatch.setenv("ADREF_WORK_POOL", "adref-deploy-test")
    reset_settings()
    first = apply_deployments(get_settings())
    assert (first.pool.name, first.pool.concurrency_limit, first.pool.created) == (
        "adref-deploy-test",
        5,
        True,
    )
    assert set(first.deployments) == {
        "analyze-video/analyze-video",
        "reanalyze-video/reanalyze-video",
        "compact-warehouse/daily",
        "ingest/ingest",
    }
    with get_client(sync_client=True) as client:
        pool = client.read_work_pool("adref-deploy-test")
        assert pool.type == "process"
        reanalyze = client.read_deployment_by_name("reanalyze-video/reanalyze-video")
        analyze = client.read_deployment_by_name("analyze-video/analyze-video")
        compact = client.read_deployment_by_name("compact-warehouse/daily")
        ((schedule,),) = [compact.schedules]
        assert (schedule.schedule.cron, schedule.active) == ("30 4 * * *", True)  # type: ignore[union-attr]
        # Someone lowers the limit and moves the upkeep in the UI; deploying again keeps both.
        client.update_work_pool("adref-deploy-test", WorkPoolUpdate(concurrency_limit=2))
        client.update_deployment_schedule(
            compact.id, schedule.id, schedule=CronSchedule(cron="0 1 * * *")
        )
    assert reanalyze.entrypoint == "adref.flows.reanalyze.reanalyze_video"
    assert reanalyze.work_pool_name == "adref-deploy-test"
    assert not reanalyze.pull_steps, "the worker runs the installed package: nothing to pull"
    props = reanalyze.parameter_openapi_schema["properties"]
    assert {"video_id", "provider", "model", "refresh"} <= set(props)
    assert reanalyze.parameter_openapi_schema["required"] == ["video_id"]
    assert props["video_id"].get("description"), "parameters are explained in the UI"
    assert {"source", "provider", "model", "owner", "tags"} <= set(
        analyze.parameter_openapi_schema["properties"]
    )

    again = apply_deployments(get_settings())
    assert again.deployments == first.deployments
    assert (again.pool.concurrency_limit, again.pool.created) == (2, False)
    with get_client(sync_client=True) as client:
        compact = client.read_deployment_by_name("compact-warehouse/daily")
    assert [s.schedule.cron for s in compact.schedules] == ["0 1 * * *"]  # type: ignore[union-attr]
    assert [full_name(spec) for spec in DEPLOYMENTS] == list(first.deployments)


def test_the_upkeep_flow_merges_small_files_and_keeps_every_row(
    prefect_api: str, adref_home: Path
) -> None:
    from adref.flows.compact import compact_warehouse
    from tests.test_warehouse import make_write

    assert compact_warehouse().files_before == 0, "no warehouse yet: nothing to do"
    wh = Warehouse(get_settings().warehouse)
    wh.init()
    for i in range(4):
        wh.write_video(make_write(f"youtube:v{i}"))
    with wh.connect() as con:
        rows = con.execute("select count(*) from shots").fetchone()
    done = compact_warehouse(keep_days=0)
    assert done.files_after < done.files_before
    with wh.connect() as con:
        assert con.execute("select count(*) from shots").fetchone() == rows


def test_deploy_without_a_server_says_how_to_get_one(
    adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import adref.cli  # noqa: F401  (registers every command)
    from adref.cli.app import app

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    adref_home.mkdir(parents=True)
    # A state file left by an `adref up` that died: its process is gone, so it is ignored.
    (adref_home / "up.json").write_text('{"api_url": "http://127.0.0.1:9/api", "pid": 999999}')
    result = CliRunner().invoke(app, ["deploy"])
    assert result.exit_code == 2
    assert "adref up" in result.output and "PREFECT_API_URL" in result.output


def test_runs_left_unfinished_in_the_pool_are_marked_crashed(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run a stopped worker left pending or running would hold a pool slot for good."""
    from prefect.client.orchestration import get_client
    from prefect.states import Pending, Running

    monkeypatch.setenv("ADREF_WORK_POOL", "adref-crash-test")
    reset_settings()
    apply_deployments(get_settings())
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("reanalyze-video/reanalyze-video")
        # The other test's pool has the same deployment names: use this pool's.
        assert deployment.work_pool_name == "adref-crash-test"
        runs = [
            client.create_flow_run_from_deployment(deployment.id, parameters={"video_id": v}).id
            for v in ("running", "pending", "scheduled")
        ]
        client.set_flow_run_state(runs[0], Running(), force=True)
        client.set_flow_run_state(runs[1], Pending(), force=True)

        assert crash_unfinished(get_settings(), "the worker stopped") == 2
        states = [client.read_flow_run(r).state for r in runs]
        assert crash_unfinished(get_settings(), "again") == 0
    assert [s.type.value for s in states if s] == ["CRASHED", "CRASHED", "SCHEDULED"]
    assert states[0] and states[0].message == "the worker stopped"


# --- adref up, end to end --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Lines:
    """A child's output read on a thread, so a test can wait for a line with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        stream = proc.stdout
        threading.Thread(
            target=lambda: [self._queue.put(line) for line in stream], daemon=True
        ).start()

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(
            f"no {text!r} within {timeout} s; output so far:\n{''.join(self.seen)}"
        )

    def rest(self) -> str:
        while not self._queue.empty():
            self.seen.append(self._queue.get())
        return "".join(self.seen)


@pytest.fixture
def up_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADREF_"))}
    env.update(ADREF_HOME=str(tmp_path / "home"), ADREF_RETRY_DELAY_S="0.1", COLUMNS="200")
    env.update(ADREF_VIEWER_PORT=str(_free_port()))
    return env


@pytest.fixture
def adref_up(up_env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str], _Lines]]:
    port = _free_port()
    proc = subprocess.Popen(
        [ADREF, "up", "--port", str(port)],
        env=up_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = _Lines(proc)
    try:
        lines.wait_for("adref is up", timeout=240)
        yield f"http://127.0.0.1:{port}/api", proc, lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_final(client: Any, ids: list[UUID], timeout: float = 300) -> dict[UUID, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = {i: client.read_flow_run(i) for i in ids}
        if all(r.state and r.state.is_final() for r in runs.values()):
            return runs
        time.sleep(1)
    states = {str(i): r.state and r.state.type for i, r in runs.items()}
    raise AssertionError(f"flow runs not finished within {timeout} s: {states}")


def _query(home: Path, sql: str) -> list[tuple[Any, ...]]:
    with Warehouse(home / "warehouse").connect() as con:
        return con.execute(sql).fetchall()


def _the_ui_lists_the_deployments(api_url: str) -> None:
    """On a port that is not Prefect's default, the UI still talks to this server."""
    from tests.support.viewer import chromium

    ui_url = api_url.removesuffix("/api")
    assert httpx.get(f"{ui_url}/ui-settings").json()["api_url"] == api_url
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{ui_url}/deployments")
        page.get_by_text("reanalyze-video").first.wait_for(timeout=60_000)
        assert page.get_by_text("Can't connect to Server API").count() == 0


def test_adref_up_runs_deployments_with_parameters_on_its_worker(
    prefect_api: str,
    adref_up: tuple[str, subprocess.Popen[str], _Lines],
    up_env: dict[str, str],
    clip_ad: ClipTruth,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api_url, proc, lines = adref_up
    home = Path(up_env["ADREF_HOME"])
    assert (home / "up.json").exists()
    viewer_url = f"http://127.0.0.1:{up_env['ADREF_VIEWER_PORT']}"
    assert viewer_url in "".join(lines.seen), "adref up prints the viewer's address"
    assert httpx.get(f"{viewer_url}/search").status_code == 200
    _the_ui_lists_the_deployments(api_url)
    inbox = home / "inbox"
    inbox.mkdir()
    video = inbox / "ad.mp4"
    shutil.copy(clip_ad.path, video)

    # The CLI in another terminal finds the running server and records its run there.
    cli = subprocess.run(
        [ADREF, "analyze", str(video), "--tag", "first"],
        env={**up_env, "ADREF_OUTPUT_LANGUAGE": "en"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    ((video_id, first_analysis),) = _query(home, "select video_id, analysis_id from analyses")

    with (
        temporary_settings(updates={PREFECT_API_URL: api_url}),
        get_client(sync_client=True) as client,
    ):
        assert [r.flow_id for r in client.read_flow_runs()], "the CLI's run is on this server"
        pool = client.read_work_pool("adref")
        assert pool.concurrency_limit == 5
        reanalyze = client.read_deployment_by_name("reanalyze-video/reanalyze-video")
        analyze = client.read_deployment_by_name("analyze-video/analyze-video")
        started = [
            client.create_flow_run_from_deployment(
                reanalyze.id, parameters={"video_id": video_id, "provider": "local"}
            ).id,
            client.create_flow_run_from_deployment(
                analyze.id, parameters={"source": str(video), "tags": ["again"]}
            ).id,
            client.create_flow_run_from_deployment(
                analyze.id, parameters={"source": str(clip_ad.path)}
            ).id,
        ]
        runs = _wait_final(client, started)
    again, inboxed, outside = (runs[i] for i in started)

    assert again.state.is_completed(), again.state
    assert again.name.endswith(f"[{video_id}] → local"), again.name
    assert inboxed.state.is_completed(), inboxed.state
    assert outside.state.is_failed(), outside.state
    assert "input folders" in (outside.state.message or ""), outside.state.message

    analyses = _query(
        home, "select analysis_id, provider, output_language from analyses order by 3"
    )
    assert len(analyses) == 2, "the re-analysis sits beside the first analysis"
    assert analyses[0][0] == first_analysis and analyses[0][2] == "en"
    assert analyses[1][1:] == ("local", "ko"), "the worker's run used its own settings"
    by_flow_run = dict(
        (str(fid), (status, tasks, hits))
        for fid, status, tasks, hits in _query(
            home, "select flow_run_id, status, tasks, cache_hits from runs"
        )
    )
    assert by_flow_run[str(started[0])] == ("completed", 2, 0)
    # resolve, download, detect, text, speech and group come from the CLI's run in another process;
    # analyze and persist are new, as the worker analyses in its own language.
    assert by_flow_run[str(started[1])] == ("completed", 8, 6)
    assert by_flow_run[str(started[2])][0] == "failed"

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    out = lines.rest()
    assert "stopped" in out, out
    assert not (home / "up.json").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{api_url}/health", timeout=2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{viewer_url}/search", timeout=2)
