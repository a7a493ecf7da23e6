"""``adref up``: a Prefect server and a worker for adref's deployments, as child processes.

The server keeps its database in adref's Prefect home, the same one the embedded default uses,
so runs started from the CLI and from the UI share one history. While it is up, a small state
file tells other adref commands in other terminals to use it instead of starting their own.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from adref import prefect_env
from adref.crashed import mark_crashed, unfinished
from adref.deployments.idle import IdleWatch
from adref.deployments.zombies import heartbeat_env
from adref.errors import AdrefError
from adref.runcard import process_identity
from adref.settings import Settings, resolved

STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0


class UpError(AdrefError):
    """The server or the worker did not start, or stopped on its own."""


@dataclass
class Running:
    api_url: str
    server: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes] | None
    logs: Path
    viewer: subprocess.Popen[bytes] | None = None

    def stack(self, kind: str, ready: bool) -> prefect_env.Stack:
        """The state file's view of these processes (this one is the supervisor)."""
        pids = {"supervisor": os.getpid(), "server": self.server.pid}
        pids |= {"worker": self.worker.pid} if self.worker else {}
        pids |= {"viewer": self.viewer.pid} if self.viewer else {}
        processes = {role: (pid, process_identity(pid) or "") for role, pid in pids.items()}
        return prefect_env.Stack(self.api_url, kind, processes, ready)


def _child_env(settings: Settings, api_url: str | None) -> dict[str, str]:
    env = {"PREFECT_HOME": str(settings.prefect_home), **prefect_env.defaults(settings)}
    env.update(os.environ)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    else:
        env.pop("PREFECT_API_URL", None)
    return env


def _spawn(
    args: list[str], env: dict[str, str], log: IO[bytes], module: str = "prefect"
) -> subprocess.Popen[bytes]:
    # A session of its own: the terminal's Ctrl-C reaches us only, and we stop children in order.
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_answering(
    name: str,
    process: subprocess.Popen[bytes],
    url: str,
    probe: str,
    answered: Callable[[int], bool],
    log: Path,
    exit_hint: str,
) -> None:
    """Poll ``url + probe`` until its status is ``answered``; UpError once ``process`` exits or
    the start-up time runs out (the caller stops the child)."""
    import httpx  # lazy: ~30 ms; the CLI imports this module to start, only a start asks a server

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UpError(
                f"the {name} did not start", f"it exited with code {process.returncode}", exit_hint
            )
        try:
            if answered(httpx.get(f"{url}{probe}", timeout=2).status_code):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise UpError(
        f"the {name} did not start",
        f"no answer from {url} within {STARTUP_TIMEOUT_S:.0f} s",
        f"See {log}",
    )


def _port_free(port: int) -> bool:
    import httpx  # lazy: as above

    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
    except httpx.ConnectError:
        return True
    except httpx.HTTPError:
        return False
    return False


def free_port(preferred: int) -> int:
    """``preferred`` if nothing listens there, else one the system picks."""
    if _port_free(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(settings: Settings, port: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    if not _port_free(port):
        raise UpError(f"port {port} is in use", "something already listens there", "Use --port")
    logs = resolved(settings.home) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    api_url = f"http://127.0.0.1:{port}/api"
    server_log = logs / "prefect-server.log"
    env = _child_env(settings, None)
    # The UI asks /ui-settings where its API is; left to Prefect, that is port 4200 whatever
    # --port says (another server's data, or none). A proxy address the user set still wins.
    if not {"PREFECT_UI_API_URL", "PREFECT_SERVER_UI_API_URL"} & env.keys():
        env["PREFECT_SERVER_UI_API_URL"] = api_url
    with server_log.open("ab") as log:
        server = _spawn(["server", "start", "--host", "127.0.0.1", "--port", str(port)], env, log)
    try:
        _wait_answering(
            "Prefect server",
            server,
            api_url,
            "/health",
            lambda status: status == 200,
            server_log,
            f"See {server_log}; is the port already in use?",
        )
    except BaseException:
        stop(server)
        raise
    return server, api_url, logs


def start_worker(settings: Settings, api_url: str, logs: Path) -> subprocess.Popen[bytes]:
    """The pool's worker; its runs' heartbeats are what the zombie automation judges them by,
    so their frequency is adref's setting whatever the environment says."""
    env = {**_child_env(settings, api_url), **heartbeat_env(settings)}
    with (logs / "prefect-worker.log").open("ab") as log:
        return _spawn(
            ["worker", "start", "--pool", settings.work_pool, "--type", "process"], env, log
        )


def start_viewer(settings: Settings, url: str, logs: Path) -> subprocess.Popen[bytes]:
    """``adref viewer`` as a child, once it answers at ``url``."""
    port = urlsplit(url).port or settings.viewer_port
    if not _port_free(port):
        raise UpError(
            f"port {port} is in use",
            "the viewer cannot listen there",
            "Set ADREF_VIEWER_PORT, or start with --no-viewer",
        )
    log_path = logs / "viewer.log"
    with log_path.open("ab") as log:
        viewer = _spawn(["viewer", "--port", str(port)], dict(os.environ), log, module="adref")
    try:
        _wait_answering(
            "viewer",
            viewer,
            url,
            "/search",
            lambda status: status < 500,
            log_path,
            f"See {log_path}",
        )
    except BaseException:
        stop(viewer)
        raise
    return viewer


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM to the child's process group, then SIGKILL; reaps it."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def crash_unfinished(settings: Settings, why: str) -> int:
    """Mark the pool's runs still pending or running as crashed; returns how many.

    Only ``adref up``'s own worker takes this pool's runs on its own server, so when that
    worker is stopped (or died with the last session) those runs will never finish: left as
    they are, each would hold one of the pool's concurrency slots for good.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        WorkPoolFilter,
        WorkPoolFilterName,
    )

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=unfinished()))
            ),
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[settings.work_pool])),
        )
        return len(mark_crashed(client, runs, why))


def supervise(
    running: Running, idle_stop_s: float | None = None, state: Path | None = None
) -> str | None:
    """Block until a child exits on its own, and say which (the caller stops the rest); or,
    given ``idle_stop_s``, return None once the server has been idle that long."""
    idle = IdleWatch(running.api_url, idle_stop_s, state) if idle_stop_s else None
    while True:
        if idle is not None and idle.expired():
            return None
        if running.server.poll() is not None:
            return f"the Prefect server exited (code {running.server.returncode})"
        if running.worker is not None and running.worker.poll() is not None:
            return f"the worker exited (code {running.worker.returncode})"
        if running.viewer is not None and running.viewer.poll() is not None:
            return f"the viewer exited (code {running.viewer.returncode})"
        time.sleep(0.5)
