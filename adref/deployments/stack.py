"""Stopping a stack whole, in the order that leaves no run contradicting its state.

The same order serves ``adref up`` stopping its own children, ``adref down``, and a later start
cleaning up after an ``adref up`` killed with SIGKILL: the viewer; then the worker, frozen so it
starts nothing more, its flow-run processes (in process groups of their own, so a signal to the
worker's group misses them) killed and gone, the worker too; only then the pool's unfinished
runs marked crashed (no process is left to write a row after that); the server last.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from adref import prefect_env
from adref.deployments import processes
from adref.deployments.processes import Proc
from adref.deployments.up import STOP_TIMEOUT_S, UpError, crash_unfinished
from adref.prefect_env import Stack, read_stack
from adref.settings import Settings, resolved

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 240.0


@dataclass
class Stopped:
    roles: list[str] = field(default_factory=list)
    flow_runs: int = 0
    crashed: int = 0

    def describe(self) -> str:
        parts = [f"the {role}" for role in self.roles]
        if self.flow_runs:
            parts.append(f"{self.flow_runs} flow-run process(es)")
        text = ", ".join(parts) or "nothing"
        return text + (f"; {self.crashed} unfinished run(s) marked crashed" if self.crashed else "")


@contextmanager
def against(api_url: str) -> Iterator[None]:
    """Prefect's client talks to this server (Prefect may be imported before its URL is known)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield


def _proc(stack: Stack, role: str) -> Proc | None:
    if not stack.alive(role):
        return None
    pid, identity = stack.processes[role]
    return processes.proc(pid) if not identity else Proc(pid, identity)


def stop_stack(settings: Settings, stack: Stack, why: str) -> Stopped:
    """Stop every process ``stack`` names but the supervisor, in order; see the module's note."""
    stopped = Stopped()
    viewer, worker, server = (_proc(stack, role) for role in ("viewer", "worker", "server"))
    if viewer is not None:
        processes.terminate([viewer], STOP_TIMEOUT_S)
        stopped.roles.append("viewer")
    if worker is not None:
        processes.freeze(worker)
        runs = processes.descendants(worker)
        outside = [p for p in runs if _group(p) != worker.pid]
        # SIGKILL, not SIGTERM: a run told to stop still records itself "failed" on its way
        # out, which would contradict the Crashed its flow run gets below.
        processes.kill([*outside, worker, *runs])
        stopped.roles.append("worker")
        stopped.flow_runs = len({_group(p) for p in outside})
    if "worker" in stack.processes and server is not None:
        try:
            with against(stack.api_url):
                stopped.crashed = crash_unfinished(settings, why)
        except Exception as exc:  # the server must still be stopped
            log.warning("could not mark unfinished runs crashed: %s", exc)
    if server is not None:
        processes.terminate([server], STOP_TIMEOUT_S)
        stopped.roles.append("Prefect server")
    return stopped


def _group(p: Proc) -> int:
    try:
        return os.getpgid(p.pid)
    except ProcessLookupError:
        return -1


def leftovers(settings: Settings) -> Stack | None:
    """The stack of an ``adref up`` that died without stopping its children, if any lives."""
    stack = read_stack(settings)
    if stack is None or stack.alive("supervisor"):
        return None
    if not any(stack.alive(role) for role in stack.processes):
        prefect_env.state_file(settings).unlink(missing_ok=True)
        return None
    return stack


def clear_leftovers(settings: Settings) -> Stopped | None:
    """Stop what a dead ``adref up`` left running; None if nothing was left."""
    stack = leftovers(settings)
    if stack is None:
        return None
    stopped = stop_stack(settings, stack, "the adref up that ran it was killed")
    prefect_env.state_file(settings).unlink(missing_ok=True)
    return stopped


def stop_running(settings: Settings, timeout: float = 90.0) -> tuple[Stack, Stopped] | None:
    """``adref down``: SIGTERM to a live supervisor (it stops its own), then whatever is left."""
    stack = read_stack(settings)
    if stack is None:
        return None
    supervisor = _proc(stack, "supervisor")
    stopped = Stopped()
    if supervisor is not None:
        processes.terminate([supervisor], timeout)
        stopped.roles = [role for role in stack.processes if role != "supervisor"]
    if (rest := clear_leftovers(settings)) is not None:
        stopped.roles = sorted(set(stopped.roles) | set(rest.roles))
        stopped.flow_runs, stopped.crashed = rest.flow_runs, rest.crashed
    prefect_env.withdraw(settings, stack.processes.get("supervisor", (0, ""))[0])
    return stack, stopped


def start_detached(settings: Settings, args: list[str]) -> Stack:
    """``adref up ARGS`` in a session of its own, logging to HOME/logs/up.log; returns its stack
    once it is ready (UpError with the log's last line if it exits first)."""
    logs = resolved(settings.home) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / "up.log"
    with log_path.open("ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "adref", "up", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        stack = read_stack(settings)
        if stack and stack.ready and stack.processes.get("supervisor", (0, ""))[0] == child.pid:
            return stack
        if child.poll() is not None:
            lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
            raise UpError(
                "adref up did not start in the background",
                lines[-1] if lines else f"it exited with code {child.returncode}",
                f"See {log_path}",
            )
        time.sleep(0.2)
    processes.terminate([p for p in [processes.proc(child.pid)] if p], STOP_TIMEOUT_S)
    raise UpError(
        "adref up did not start in the background",
        f"not ready within {READY_TIMEOUT_S:.0f} s",
        f"See {log_path}",
    )


def log_file(settings: Settings) -> Path:
    return resolved(settings.home) / "logs" / "up.log"
