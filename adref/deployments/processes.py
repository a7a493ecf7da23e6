"""Processes named by pid and start time, and the trees they head, read from ``/proc``.

A pid alone cannot name a process that may have died since (pids are reused), so each is kept
with ``runcard.process_identity``. A worker's flow runs live in process groups of their own, so
they are found by parentage, not by group.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from adref.runcard import process_identity

_PROC = Path("/proc")


@dataclass(frozen=True)
class Proc:
    pid: int
    identity: str

    def alive(self) -> bool:
        return process_identity(self.pid) == self.identity


def proc(pid: int) -> Proc | None:
    identity = process_identity(pid)
    return None if identity is None else Proc(pid, identity)


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(root: Proc) -> list[Proc]:
    """Every living process under ``root`` (children first found, then theirs)."""
    if not root.alive():
        return []
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found: list[Proc] = []
    todo = list(children.get(root.pid, []))
    while todo:
        pid = todo.pop(0)
        if (p := proc(pid)) is not None:
            found.append(p)
        todo.extend(children.get(pid, []))
    return found


def _signal(p: Proc, signum: int) -> None:
    """To the process's group when it leads one (a child started in a session of its own takes
    its helpers with it), else to the process alone."""
    if not p.alive():
        return
    try:
        if os.getpgid(p.pid) == p.pid:
            os.killpg(p.pid, signum)
        else:
            os.kill(p.pid, signum)
    except ProcessLookupError:
        pass


def freeze(p: Proc) -> None:
    """SIGSTOP: a worker that cannot start another run while its runs are being stopped."""
    _signal(p, signal.SIGSTOP)


def terminate(procs: list[Proc], timeout: float) -> None:
    """SIGTERM to each, then SIGKILL to those alive after ``timeout``; returns once all are gone."""
    for p in procs:
        _signal(p, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(p.alive() for p in procs) and time.monotonic() < deadline:
        time.sleep(0.1)
    kill(procs)


def kill(procs: list[Proc]) -> None:
    """SIGKILL (which also ends a frozen process); returns once all are gone."""
    for p in procs:
        _signal(p, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(p.alive() for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
