"""Point Prefect at adref's home before Prefect is imported.

Prefect reads its settings when first imported, so every door (CLI, bench, tests) calls
``configure()`` first. A user's own PREFECT_* variables always win; next comes the server of an
``adref up`` (or the CLI's background server) on this machine, found through its state file; else the
embedded server starts with the first run.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from adref.runcard import process_identity
from adref.settings import Settings, resolved


def configure(settings: Settings) -> None:
    # `adref up` in another terminal: run there, so the run shows in its UI.
    if "PREFECT_API_URL" not in os.environ and (api_url := running_api_url(settings)):
        os.environ["PREFECT_API_URL"] = api_url
        stack = read_stack(settings)
        _unwatched.append(stack is not None and stack.kind == "background")
    if "PREFECT_API_URL" not in os.environ:
        os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
        # Prefect's SQLite database cannot be created in a folder that does not exist yet.
        os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)
        os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
    for name, value in defaults(settings).items():
        os.environ.setdefault(name, value)


# Whether the server this process was pointed at is the CLI's background one: no worker and no
# automation there watches flow-run heartbeats.
_unwatched: list[bool] = []


def defaults(settings: Settings) -> dict[str, str]:
    """Prefect settings every adref process gets unless the user set them: this one, and the
    server and worker ``adref up`` starts."""
    return {
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        # Cached task results belong to adref's home whichever server records the runs, so a
        # run from the CLI and one from a worker of `adref up` reuse each other's work.
        "PREFECT_LOCAL_STORAGE_PATH": str(settings.prefect_home / "storage"),
        # A fresh home migrates its database on first start; give a busy 2-core machine time.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        # Nothing here may reach the internet; keep the server quiet and offline.
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # A worker asks for scheduled runs every 10 s by default: a run asked for just after a
        # look waited up to 10 s (5 s on average) before its process started. One query every
        # 2 s is nothing to a local server.
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        # A server whose database restarts (PostgreSQL, docs/scale-out.md) answers 500 until it
        # reconnects. Prefect's client retries only 429/502/503, so a run failing meanwhile could
        # not report its Failed state and was marked Crashed, its reason lost; with 500 retried
        # (backing off, PREFECT_CLIENT_MAX_RETRIES times) the report waits for the database.
        "PREFECT_CLIENT_RETRY_EXTRA_CODES": "500",
    }


@contextmanager
def in_process_run() -> Iterator[None]:
    """Settings for a flow run inside this process (``adref analyze``, the bench).

    With the embedded server nothing outlives the process to watch flow-run heartbeats (no
    zombie automation, the server stops with us), yet Prefect's heartbeat thread costs up to a
    second at the end of every run while it finishes a one-second sleep. So heartbeats are off
    for in-process runs on the embedded server and on the CLI's background server (no worker or
    automation there reads them); against another server they stay on.
    """
    if "PREFECT_API_URL" in os.environ and not any(_unwatched):
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def state_file(settings: Settings) -> Path:
    return resolved(settings.home) / "up.json"


@dataclass(frozen=True)
class Stack:
    """What ``up.json`` says: a server some adref process started, and the processes it runs.

    ``processes`` maps a role (supervisor, server, worker, viewer) to its pid and
    ``runcard.process_identity``, so a later command tells them from processes that reuse a pid.
    ``kind`` is ``up`` (``adref up``) or ``background`` (the CLI's server, stopping when idle).
    """

    api_url: str
    kind: str = "up"
    processes: dict[str, tuple[int, str]] = field(default_factory=dict)
    ready: bool = False

    def alive(self, role: str) -> bool:
        if role not in self.processes:
            return False
        pid, identity = self.processes[role]
        now = process_identity(pid)
        return now is not None and (now == identity or not identity)

    def to_json(self) -> str:
        pid = self.processes.get("supervisor", (0, ""))[0]
        return json.dumps({**asdict(self), "pid": pid})


def read_stack(settings: Settings) -> Stack | None:
    try:
        state = json.loads(state_file(settings).read_text())
        processes = {
            role: (int(pid), str(identity))
            for role, (pid, identity) in (state.get("processes") or {}).items()
        }
        processes.setdefault("supervisor", (int(state["pid"]), ""))
        return Stack(
            str(state["api_url"]),
            str(state.get("kind", "up")),
            processes,
            bool(state.get("ready", False)),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def running_api_url(settings: Settings) -> str | None:
    """The API of an ``adref up`` (or background server) alive on this machine, if there is one.

    Finding it counts as using it: the file's time tells a background server it is not idle.
    """
    stack = read_stack(settings)
    if stack is None or not stack.alive("supervisor"):
        return None
    with suppress(OSError):
        os.utime(state_file(settings))
    return stack.api_url


def advertise(settings: Settings, stack: Stack) -> None:
    """Write the state file other adref commands read to find this server (atomically)."""
    path = state_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(stack.to_json())
    tmp.replace(path)


def withdraw(settings: Settings, supervisor: int) -> None:
    """Remove the state file if it still names ``supervisor``."""
    stack = read_stack(settings)
    if stack is not None and stack.processes.get("supervisor", (0, ""))[0] == supervisor:
        state_file(settings).unlink(missing_ok=True)


def secret_block(name: str) -> str | None:
    """A Prefect Secret block's value, when a Prefect API is at hand (inside a run, or a server
    set by Prefect's own setting: the environment, a profile or a test harness). With none,
    nothing is asked: asking would start an ephemeral server just to find no block."""
    # lazy: Prefect is imported only after configure(), and most callers never ask
    from prefect.context import FlowRunContext, TaskRunContext
    from prefect.settings import PREFECT_API_URL

    if not (FlowRunContext.get() or TaskRunContext.get() or PREFECT_API_URL.value()):
        return None
    try:
        from prefect.blocks.system import Secret

        block: Any = Secret.load(name, _sync=True)  # type: ignore[call-arg]
        value = block.get()
    except ValueError:  # no such block
        return None
    except Exception as exc:
        logging.getLogger(__name__).debug(
            "could not read Secret block %s: %s", name, type(exc).__name__
        )
        return None
    return str(value).strip() or None
