"""Runs whose process is killed: the next adref start marks them crashed, `adref clean` removes
their folders, and a run alive in another terminal is left alone. Real processes, a real Prefect
server, a real SIGKILL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from adref.runcard import Card, process_identity, save_card, settle_card
from adref.video.testclips import ClipTruth
from adref.warehouse.catalog import Warehouse
from adref.workspace import clean_workspaces, open_workspace
from tests.support.cli import invoke
from tests.support.http import LocalHTTPServer, RecordedRequest, Route

SAFETY_S = 240.0  # only ever reached when something is broken: no test waits this long


def _env(home: Path, api: str) -> dict[str, str]:
    env = {**os.environ, "ADREF_HOME": str(home), "PREFECT_API_URL": api, "COLUMNS": "200"}
    env.pop("ADREF_WAREHOUSE_DIR", None)
    # The gated download waits for the test, not for a timeout; loopback sources are allowed.
    env.update(ADREF_DOWNLOAD_TIMEOUT_S="600", ADREF_ALLOW_PRIVATE_URLS="true")
    return env


def _adref(args: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "adref", *args], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def _mid_run(server: LocalHTTPServer, path: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the run asks for its video: its flow run is running, held at the gate."""
    deadline = time.monotonic() + SAFETY_S
    while server.request_count(path) == 0:
        assert proc.poll() is None, f"it ended early:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no request for {path}:\n{log.read_text()}"
        time.sleep(0.2)


def _flow_run(client: Any, source: str) -> Any:
    (run,) = [r for r in client.read_flow_runs() if r.parameters.get("source") == source]
    return run


def test_a_killed_run_is_marked_crashed_by_the_next_start_and_its_folder_cleaned(
    prefect_api: str, tmp_path: Path, clip_ad: ClipTruth
) -> None:
    from prefect.client.orchestration import get_client

    home = tmp_path / "home"
    work = home / "work"
    env = _env(home, prefect_api)
    release = threading.Event()

    def gate(request: RecordedRequest) -> Route:
        release.wait(SAFETY_S)
        return Route(body=clip_ad.path, content_type="video/mp4")

    procs: list[subprocess.Popen[bytes]] = []
    with (
        LocalHTTPServer() as server,
        (tmp_path / "killed.log").open("wb") as killed_log,
        (tmp_path / "live.log").open("wb") as live_log,
    ):
        killed_url = server.add("/killed.mp4", Route(handler=gate))
        live_url = server.add("/live.mp4", Route(handler=gate))
        try:
            killed = _adref(["analyze", killed_url], env, killed_log)
            procs.append(killed)
            _mid_run(server, "/killed.mp4", killed, tmp_path / "killed.log")
            (dead_folder,) = list(work.iterdir())
            killed.kill()
            killed.wait()
            with get_client(sync_client=True) as client:
                assert _flow_run(client, killed_url).state.type.value == "RUNNING"

            # The next start, in another terminal, while a third run is alive at the gate.
            live = _adref(["analyze", live_url], env, live_log)
            procs.append(live)
            _mid_run(server, "/live.mp4", live, tmp_path / "live.log")
            (live_folder,) = [f for f in work.iterdir() if f != dead_folder]
            with get_client(sync_client=True) as client:
                dead_run, live_run = _flow_run(client, killed_url), _flow_run(client, live_url)
            assert dead_run.state.type.value == "CRASHED"
            assert f"pid {killed.pid}" in (dead_run.state.message or "")
            assert live_run.state.type.value == "RUNNING"

            cleaned = invoke(
                ["clean", "--older-than-days", "0"],
                {"ADREF_HOME": str(home), "PREFECT_API_URL": prefect_api},
            )
            assert cleaned.exit_code == 0, cleaned.output
            assert not dead_folder.exists(), "a dead run's folder is garbage"
            assert live_folder.is_dir(), "a live run's folder is never removed"

            release.set()
            assert live.wait(timeout=SAFETY_S) == 0, (tmp_path / "live.log").read_text()
        finally:
            release.set()
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    with Warehouse(home / "warehouse").connect() as con:
        rows = con.execute(
            "select flow_run_id, status, source, finished_at is null from runs order by status"
        ).fetchall()
    assert rows == [
        (str(live_run.id), "completed", live_url, False),
        (str(dead_run.id), "crashed", killed_url, True),  # when it died is not known
    ]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux's /proc")
def test_a_live_process_is_told_apart_from_a_gone_or_zombie_one() -> None:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{zombie.pid}/stat")
    try:
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":  # exited, not reaped
            time.sleep(0.05)
        assert process_identity(zombie.pid) is None
        assert process_identity(done.pid) is None
        me = process_identity(os.getpid())
        assert me and me == process_identity(os.getpid())
    finally:
        zombie.wait()


def test_clean_removes_dead_runs_folders_at_any_age_and_never_a_live_one(tmp_path: Path) -> None:
    work = tmp_path / "work"
    old = time.time() - 30 * 86400
    live = open_workspace(work, "live", "flow-run-live")  # this test's process is alive
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    marked, unmarked, elsewhere = (open_workspace(work, name) for name in ("m", "u", "e"))
    settle_card(Card(marked, "flow-run-m", gone.pid, "x", host))
    save_card(Card(unmarked, "flow-run-u", gone.pid, "x", host))
    settle_card(Card(elsewhere, "flow-run-e", gone.pid, "x", "another-machine"))
    for folder in (live, elsewhere):
        os.utime(folder, (old, old))

    removed = clean_workspaces(work, 7 * 86400)

    # Dead and marked: garbage however young. Dead, not yet marked crashed: kept for the next
    # start to mark (by age, like a failed run's). Alive here, or on a machine we cannot judge:
    # never removed, however old.
    assert removed == [marked]
    assert live.is_dir() and unmarked.is_dir() and elsewhere.is_dir()
