"""Runs whose process is killed: the next adref start marks them crashed, `adref clean` removes
their folders, and a run alive in another terminal is left alone. Real processes, a real Prefect
server, a real SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from adref.crashed import crash_dead_runs
from adref.runcard import (
    Card,
    keep_row,
    kept_row,
    process_identity,
    read_card,
    save_card,
    settle_card,
)
from adref.settings import Settings
from adref.video.testclips import ClipTruth
from adref.warehouse.catalog import Warehouse
from adref.warehouse.records import RunRecord, RunRow
from adref.workspace import clean_workspaces, open_workspace
from tests.support.cli import invoke
from tests.support.http import LocalHTTPServer, RecordedRequest, Route

SAFETY_S = 240.0  # only ever reached when something is broken: no test waits this long
KILL_TRIES = 3


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


def _killed_once_completed(
    client: Any, source: str, proc: subprocess.Popen[bytes], log: Path
) -> Any:
    """SIGKILL the run's process the moment the API says its flow run is completed."""
    deadline = time.monotonic() + SAFETY_S
    run = None
    while run is None or run.state.type.value != "COMPLETED":
        assert proc.poll() is None, f"it ended before it was killed:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no completed run:\n{log.read_text()}"
        found = [r for r in client.read_flow_runs() if r.parameters.get("source") == source]
        run = client.read_flow_run(found[0].id) if found else None
    proc.kill()
    proc.wait()
    return run


def _runs(warehouse: Warehouse, flow_run_id: Any) -> list[tuple[Any, ...]]:
    if not warehouse.exists():
        return []
    with warehouse.connect() as con:
        return con.execute(
            "select status, source, finished_at is not null, tasks > 0, detect_s > 0 from runs"
            " where flow_run_id = ?",
            [str(flow_run_id)],
        ).fetchall()


def test_a_run_killed_as_it_completes_gets_its_row_at_the_next_start(
    prefect_api: str, tmp_path: Path, clip_ad: ClipTruth
) -> None:
    """Prefect records a run's final state while the run's row is being committed (the two
    overlap: ``runbook.row_written``). A process killed in that moment left a completed run with
    no row, for good: killed as soon as the API said completed, 6 runs of 6 had none. The row
    now waits beside the run's card; the next start writes it."""
    from prefect.client.orchestration import get_client

    home = tmp_path / "home"
    env = _env(home, prefect_api)
    warehouse = Warehouse(home / "warehouse")
    for attempt in range(1, KILL_TRIES + 1):
        video = tmp_path / f"ad-{attempt}.mp4"  # a source of its own: its own flow run
        shutil.copy(clip_ad.path, video)
        log = tmp_path / f"run-{attempt}.log"
        with log.open("wb") as out, get_client(sync_client=True) as client:
            run = _killed_once_completed(
                client, str(video), _adref(["analyze", str(video)], env, out), log
            )
        if not _runs(warehouse, run.id):
            break  # killed between its final state and its row
    else:
        pytest.fail(f"{KILL_TRIES} runs killed as they completed had all written their row")
    (folder,) = [f for f in (home / "work").iterdir() if read_card(f) is not None]
    assert kept_row(folder) is not None, "the row waits beside the card"

    cleaned = invoke(
        ["clean", "--older-than-days", "0"],
        {"ADREF_HOME": str(home), "PREFECT_API_URL": prefect_api},
    )
    assert cleaned.exit_code == 0, cleaned.output
    assert "crashed" not in cleaned.output, "a run that completed is not a crash"
    assert "ended completed; its runs row, left unwritten" in cleaned.output, cleaned.output
    # The run's own row: completed, when it finished, its stage figures; once.
    assert _runs(warehouse, run.id) == [("completed", str(video), True, True, True)]
    assert not folder.exists(), "its folder is garbage once its row is in"
    again = invoke(["clean"], {"ADREF_HOME": str(home), "PREFECT_API_URL": prefect_api})
    assert again.exit_code == 0, again.output
    assert len(_runs(warehouse, run.id)) == 1


def test_a_dead_runs_kept_row_is_what_the_next_start_records(
    prefect_api: str, tmp_path: Path
) -> None:
    """A process killed after keeping its row but before its run's final state: the run is
    marked crashed and its row keeps the spend the run recorded. One killed after its run
    failed: its failed row is written as it was, and its folder kept for inspection. One that
    completed its work but hung, and that ``adref up``'s stop marked crashed meanwhile: its row
    says crashed too, with its spend, so that the row and Prefect's state agree."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed, Failed, Running

    @flow(name="adref-test-dead-run")
    def dead_run() -> None: ...

    settings = Settings(home=tmp_path / "home")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    rows = {}
    with get_client(sync_client=True) as client:
        stopped = Crashed(message="adref up was stopped while it ran")
        for name, ended in (("mid", None), ("failed", Failed(message="boom")), ("hung", stopped)):
            run = client.create_flow_run(dead_run, state=Running())
            folder = open_workspace(settings.work_dir, f"run-{name}")
            save_card(Card(folder, str(run.id), gone.pid, "x", host, state_id=str(run.state.id)))
            record = RunRecord(
                run_id=folder.name,
                flow_run_id=str(run.id),
                source=f"/videos/{name}.mp4",
                status="failed" if name == "failed" else "completed",
                started_at=run.created,
                finished_at=run.created,
                tokens_in=1200,
                cost_usd=0.03,
                error="boom" if name == "failed" else None,
            )
            keep_row(folder, RunRow(record=record).model_dump_json())
            if ended is not None:
                client.set_flow_run_state(run.id, ended, force=True)
            rows[name] = (run, folder)

        dead = crash_dead_runs(settings)
        settled = {d.flow_run_id: d.written for d in dead}
        assert settled == {
            str(rows["mid"][0].id): None,
            str(rows["failed"][0].id): "failed",
            str(rows["hung"][0].id): "crashed",
        }
        assert client.read_flow_run(rows["mid"][0].id).state.type.value == "CRASHED"
        assert client.read_flow_run(rows["failed"][0].id).state.type.value == "FAILED"
    assert crash_dead_runs(settings) == []

    with Warehouse.of(settings).connect() as con:
        found = con.execute(
            "select source, status, tokens_in, cost_usd, finished_at is null, error"
            " from runs order by source"
        ).fetchall()
    assert [row[:5] for row in found] == [
        ("/videos/failed.mp4", "failed", 1200, 0.03, False),
        ("/videos/hung.mp4", "crashed", 1200, 0.03, True),
        ("/videos/mid.mp4", "crashed", 1200, 0.03, True),
    ]
    errors = [row[5] for row in found]
    assert errors[0] == "boom" and errors[1] == "adref up was stopped while it ran"
    assert "pid" in errors[2]
    failed_folder = rows["failed"][1]
    assert failed_folder.is_dir() and read_card(failed_folder) is None
    assert kept_row(failed_folder) is None
    mid_card = read_card(rows["mid"][1])
    assert mid_card is not None and mid_card.settled


def test_a_row_the_warehouse_refused_waits_for_the_next_start(
    prefect_api: str, tmp_path: Path
) -> None:
    """The row's write fails (here: the warehouse's folder is a file): the run's folder keeps
    its card and its row, and once its process is gone the next start writes the row."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Running

    from adref.flows.runbook import _write_and_close

    @flow(name="adref-test-refused-row")
    def refused() -> None: ...

    settings = Settings(home=tmp_path / "home")
    settings.home.mkdir()
    settings.warehouse.write_text("not a folder")
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(refused, state=Running())
        folder = open_workspace(settings.work_dir, "run-refused", str(run.id), str(run.state.id))
        record = RunRecord(
            run_id=folder.name,
            flow_run_id=str(run.id),
            status="completed",
            started_at=run.created,
            finished_at=run.created,
        )
        row = RunRow(record=record)
        keep_row(folder, row.model_dump_json())
        _write_and_close(settings, row, folder, True, kept=True)
        assert kept_row(folder) == row.model_dump_json(), "kept for the next start"
        card = read_card(folder)
        assert card is not None and not card.dead()
        client.set_flow_run_state(run.id, Completed(), force=True)

        # Its process ends; the warehouse is back.
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        save_card(Card(folder, card.flow_run_id, gone.pid, "x", card.host, state_id=card.state_id))
        settings.warehouse.unlink()
        assert [d.written for d in crash_dead_runs(settings)] == ["completed"]
        assert client.read_flow_run(run.id).state.type.value == "COMPLETED"
    with Warehouse.of(settings).connect() as con:
        rows = con.execute("select run_id, status from runs").fetchall()
    assert rows == [("run-refused", "completed")]
    settled = read_card(folder)
    assert settled is not None and settled.settled


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


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_run_stopped_by_the_user_is_recorded_stopped_as_prefect_records_it(
    prefect_api: str, tmp_path: Path, clip_ad: ClipTruth, signum: int
) -> None:
    """Ctrl-C or SIGTERM mid-run: the command exits as interrupted, Prefect says Crashed, and
    the run's row agrees (crashed, with what stopped it), not "failed" with an exception."""
    from prefect.client.orchestration import get_client

    home = tmp_path / "home"
    release = threading.Event()

    def gate(request: RecordedRequest) -> Route:
        release.wait(SAFETY_S)
        return Route(body=clip_ad.path, content_type="video/mp4")

    with LocalHTTPServer() as server, (tmp_path / "run.log").open("wb") as log:
        url = server.add("/stopped.mp4", Route(handler=gate))
        proc = _adref(["analyze", url], _env(home, prefect_api), log)
        try:
            _mid_run(server, "/stopped.mp4", proc, tmp_path / "run.log")
            proc.send_signal(signum)
            release.set()
            code = proc.wait(timeout=SAFETY_S)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = (tmp_path / "run.log").read_text()
    said = "interrupted" if signum == signal.SIGINT else "stopped (SIGTERM)"
    assert code == 128 + signum and said in output, (code, output)
    assert "Traceback" not in output, output
    with get_client(sync_client=True) as client:
        state = _flow_run(client, url).state
    assert state is not None and state.type.value == "CRASHED"
    with Warehouse(home / "warehouse").connect() as con:
        rows = con.execute("select status, error from runs").fetchall()
    why = "stopped by Ctrl-C (SIGINT)" if signum == signal.SIGINT else "stopped by SIGTERM"
    assert rows == [("crashed", why)]
