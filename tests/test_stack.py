"""The stack ``adref up`` starts is the stack it stops: SIGTERM in the background, a killed
``adref up``'s leftovers, ``--detach`` and ``down``, and the CLI's background server.

Each test starts real ``adref`` processes (a Prefect server, a process worker) in a home of its
own and reads the results where they are kept: ``/proc``, Prefect's database, the warehouse.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from adref.deployments.processes import Proc, descendants, proc
from adref.video.testclips import ClipTruth
from tests.support.http import LocalHTTPServer, RecordedRequest, Route, unused_port

pytestmark = pytest.mark.slow  # real `adref up` processes

ADREF = str(Path(sys.executable).with_name("adref"))
SAFETY_S = 240.0  # only reached when something is broken


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADREF_"))}
    clean.update(
        ADREF_HOME=str(tmp_path / "home"),
        ADREF_ALLOW_PRIVATE_URLS="true",
        ADREF_DOWNLOAD_TIMEOUT_S="600",
        ADREF_RETRY_DELAY_S="0.1",
        COLUMNS="200",
    )
    yield clean
    # Whatever a failed test left running: `adref down` stops it.
    subprocess.run([ADREF, "down"], env=clean, capture_output=True, timeout=SAFETY_S)


def _state(env: dict[str, str]) -> dict[str, object]:
    path = Path(env["ADREF_HOME"]) / "up.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _wait(what: str, done: object, log: Path | None = None) -> None:
    deadline = time.monotonic() + SAFETY_S
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not {what}" + (f":\n{log.read_text()}" if log else "")
        time.sleep(0.2)


def _flow_run_states(env: dict[str, str], source: str) -> list[str]:
    """Read from the stopped server's own database (the scheduled upkeep runs are left out)."""
    db = Path(env["ADREF_HOME"]) / "prefect" / "prefect.db"
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "select state_type from flow_run where parameters like ?", [f"%{source}%"]
        )
        return [row[0] for row in rows]


def _warehouse_rows(env: dict[str, str], sql: str) -> list[tuple[object, ...]]:
    from adref.warehouse.catalog import Warehouse

    root = Path(env["ADREF_HOME"]) / "warehouse"
    if not root.exists():
        return []
    with Warehouse(root).connect() as con:
        return con.execute(sql).fetchall()


def test_sigterm_to_a_background_adref_up_stops_everything_and_no_run_writes_after(
    env: dict[str, str], tmp_path: Path, clip_ad: ClipTruth
) -> None:
    """Started as a service manager would (own session, SIGINT ignored), stopped with SIGTERM
    while a deployment run is held mid-download: nothing of its tree is left, the run is
    Crashed, and releasing the download afterwards writes nothing."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    release = threading.Event()

    def gate(request: RecordedRequest) -> Route:
        release.wait(SAFETY_S)
        return Route(body=clip_ad.path, content_type="video/mp4")

    port = unused_port()
    log = tmp_path / "up.log"
    with LocalHTTPServer() as server, log.open("wb") as out:
        url = server.add("/held.mp4", Route(handler=gate))
        up = subprocess.Popen(
            [ADREF, "up", "--port", str(port), "--no-viewer"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
        try:
            _wait("ready", lambda: _state(env).get("ready"), log)
            api_url = f"http://127.0.0.1:{port}/api"
            with (
                temporary_settings(updates={PREFECT_API_URL: api_url}),
                get_client(sync_client=True) as client,
            ):
                deployment = client.read_deployment_by_name("analyze-video/analyze-video")
                client.create_flow_run_from_deployment(deployment.id, parameters={"source": url})
            _wait("held mid-run", lambda: server.request_count("/held.mp4") > 0, log)
            supervisor = proc(up.pid)
            assert supervisor is not None
            tree = descendants(supervisor)
            groups = {os.getpgid(p.pid) for p in tree}
            assert len(groups) >= 3, "server, worker and the flow run's own process group"

            up.send_signal(signal.SIGTERM)
            assert up.wait(timeout=SAFETY_S) == 0, log.read_text()
        finally:
            release.set()
            if up.poll() is None:
                up.kill()
        left = [p for p in tree if p.alive()]
        assert not left, f"still running after SIGTERM: {left}"
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{api_url}/health", timeout=2)
    assert _flow_run_states(env, url) == ["CRASHED"]
    assert _warehouse_rows(env, "select video_id from videos") == []
    statuses = _warehouse_rows(env, "select status from runs")
    assert all(s == ("crashed",) for s in statuses), statuses
    assert "stopped" in log.read_text()
    assert "up.json" not in os.listdir(env["ADREF_HOME"])


def _adref(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ADREF, *args], env=env, capture_output=True, text=True, timeout=SAFETY_S)


def _procs(state: dict[str, object]) -> dict[str, Proc]:
    roles = state["processes"]
    assert isinstance(roles, dict)
    return {role: Proc(int(pid), str(ident)) for role, (pid, ident) in roles.items()}


def test_after_kill_9_the_next_up_stops_the_leftovers_and_down_stops_the_rest(
    env: dict[str, str],
) -> None:
    first_port, second_port = unused_port(), unused_port()
    first = _adref(env, "up", "--detach", "--no-viewer", "--port", str(first_port))
    assert first.returncode == 0, first.stderr
    assert "adref is up in the background" in first.stdout
    assert "reanalyze-video/reanalyze-video" in first.stdout, "the same table as adref up"
    old = _procs(_state(env))
    assert set(old) == {"supervisor", "server", "worker"}
    assert all(p.alive() for p in old.values())

    os.kill(old["supervisor"].pid, signal.SIGKILL)
    _wait("dead", lambda: not old["supervisor"].alive())
    second = _adref(env, "up", "--detach", "--no-viewer", "--port", str(second_port))
    assert second.returncode == 0, second.stderr
    assert "an earlier adref up was killed and left processes running" in second.stdout
    assert not old["server"].alive() and not old["worker"].alive()
    new = _procs(_state(env))
    assert new["server"] != old["server"]
    assert httpx.get(f"http://127.0.0.1:{second_port}/api/health").status_code == 200

    down = _adref(env, "down")
    assert down.returncode == 0 and "stopped adref up" in down.stdout, down.stdout
    assert not any(p.alive() for p in new.values())
    again = _adref(env, "down")
    assert again.returncode == 0 and "nothing running" in again.stdout


def test_the_cli_starts_a_background_server_the_next_command_reuses_and_it_stops_when_idle(
    env: dict[str, str], clip_ad: ClipTruth
) -> None:
    # Long enough that the server outlives the gap between the two commands on a busy machine.
    env = {**env, "ADREF_SERVER": "background", "ADREF_SERVER_IDLE_S": "20"}
    first = _adref(env, "analyze", str(clip_ad.path))
    assert first.returncode == 0, first.stderr
    assert "started a Prefect server in the background" in first.stderr
    state = _state(env)
    assert state["kind"] == "background"
    server = _procs(state)
    second = _adref(env, "analyze", str(clip_ad.path))
    assert second.returncode == 0, second.stderr
    assert "started a Prefect server" not in second.stderr
    assert _procs(_state(env)) == server, "the second command used the same server"
    # Idle (no run, no command) for ADREF_SERVER_IDLE_S: it stops itself and its state file.
    _wait("stopped when idle", lambda: not any(p.alive() for p in server.values()))
    assert _state(env) == {}
    assert _flow_run_states(env, clip_ad.path.name) == ["COMPLETED", "COMPLETED"]


def test_adref_up_takes_over_from_the_background_server_and_refuses_a_second_up(
    env: dict[str, str], clip_ad: ClipTruth
) -> None:
    env = {**env, "ADREF_SERVER": "background", "ADREF_SERVER_IDLE_S": "600"}
    first = _adref(env, "analyze", str(clip_ad.path))
    assert first.returncode == 0, first.stderr
    background = _procs(_state(env))
    assert _state(env)["kind"] == "background"

    port = unused_port()
    up = _adref(env, "up", "--detach", "--no-viewer", "--port", str(port))
    assert up.returncode == 0, up.stderr
    assert "stopped the CLI's background Prefect server; adref up takes over" in up.stdout
    assert not any(p.alive() for p in background.values())
    state = _state(env)
    assert state["kind"] == "up"
    assert str(port) in str(state["api_url"])

    again = _adref(env, "analyze", str(clip_ad.path))
    assert again.returncode == 0, again.stderr
    assert "started a Prefect server" not in again.stderr, "the command used adref up's server"
    assert "cached" in again.stderr + again.stdout

    second = _adref(env, "up", "--detach", "--no-viewer", "--port", str(unused_port()))
    assert second.returncode != 0
    assert "adref up is already running" in second.stdout + second.stderr
    assert _procs(_state(env)) == _procs(state), "the running adref up was left alone"

    down = _adref(env, "down")
    assert down.returncode == 0 and "stopped adref up" in down.stdout, down.stdout
    assert _flow_run_states(env, clip_ad.path.name) == ["COMPLETED", "COMPLETED"]


@contextlib.contextmanager
def _held_run(
    env: dict[str, str], gate: Callable[[RecordedRequest], Route]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`adref analyze` of a download the test holds (``gate``), once the run has asked for it."""
    with LocalHTTPServer() as server:
        url = server.add("/held.mp4", Route(handler=gate))
        analyze = subprocess.Popen(
            [ADREF, "analyze", url], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        _wait("held mid-run", lambda: server.request_count("/held.mp4") > 0)
        yield url, analyze


def test_down_lets_a_run_on_the_background_server_finish_and_down_now_does_not_wait(
    env: dict[str, str], tmp_path: Path, clip_ad: ClipTruth
) -> None:
    env = {**env, "ADREF_SERVER": "background", "ADREF_SERVER_IDLE_S": "600"}
    release = threading.Event()

    def gate(request: RecordedRequest) -> Route:
        release.wait(SAFETY_S)
        return Route(body=clip_ad.path, content_type="video/mp4")

    down_log = tmp_path / "down.log"
    with _held_run(env, gate) as (url, analyze):
        try:
            background = _procs(_state(env))
            with down_log.open("wb") as out:
                down = subprocess.Popen([ADREF, "down"], env=env, stdout=out, stderr=out)
                _wait("waiting", lambda: "waiting for 1 run" in down_log.read_text(), down_log)
                assert down.poll() is None and all(p.alive() for p in background.values())
                release.set()
                assert analyze.wait(timeout=SAFETY_S) == 0, analyze.communicate()[1]
                assert down.wait(timeout=SAFETY_S) == 0, down_log.read_text()
        finally:
            release.set()
            if analyze.poll() is None:
                analyze.kill()
    said = down_log.read_text()
    assert "stopped the CLI's background server" in said and ": the server" not in said, said
    assert not any(p.alive() for p in background.values())
    assert _flow_run_states(env, url) == ["COMPLETED"]
    assert _warehouse_rows(env, "select count(*) from videos") == [(1,)]

    # --now: the run is not waited for (the server is stopped under it).
    release.clear()
    with _held_run(env, gate) as (url, analyze):
        try:
            now = _adref(env, "down", "--now")
            assert now.returncode == 0, now.stderr
            assert (
                "waiting" not in now.stdout and "stopped the CLI's background server" in now.stdout
            )
        finally:
            release.set()
            analyze.kill()  # its server is gone: what becomes of it is not this test's question
            analyze.wait()
