"""A run's card: which process on which machine runs it, kept in its workspace while it runs.

A process killed with SIGKILL cannot tell Prefect or the warehouse that its run is over, so the
run would look alive for good. The card lets a later adref process tell a dead run from one still
alive in another terminal. A pid alone is not enough (pids are reused), so the card also holds
what tells the process apart from a later one with the same pid (on Linux the boot and the
process's start tick); and the host, because an adref home on a shared disk may be used by
several machines and only this one's processes can be judged. Beside the card, a run keeps its
``runs`` row until the row is in the warehouse (``keep_row``).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

CARD = "run.json"
ROW = "row.json"  # the run's ``runs`` row, kept until it is in the warehouse
_PROC = Path("/proc")


@dataclass(frozen=True)
class Card:
    workspace: Path
    flow_run_id: str
    pid: int
    process: str
    host: str
    settled: bool = False  # a later start has marked its flow run crashed (or found it over)
    state_id: str | None = None  # the Running state this process put its flow run in

    def dead(self) -> bool:
        """Its process is gone (only this machine's processes can be judged)."""
        return self.host == socket.gethostname() and process_identity(self.pid) != self.process


@lru_cache(maxsize=1)
def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_identity(pid: int) -> str | None:
    """What tells this process from a later one with the same pid; None when it is gone."""
    if not (_PROC / "self/stat").exists():
        # No /proc (macOS): existence only, so a reused pid looks alive, which is the safe side.
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "alive"
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name before it may hold anything
    if fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent
        return None
    return f"{_boot_id()}:{fields[19]}"


def write_card(workspace: Path, flow_run_id: str, state_id: str | None = None) -> None:
    """Say that this process runs ``flow_run_id`` (in its state ``state_id``) in ``workspace``."""
    pid = os.getpid()
    identity = process_identity(pid) or ""
    save_card(Card(workspace, flow_run_id, pid, identity, socket.gethostname(), False, state_id))


def save_card(card: Card) -> None:
    data = {
        "flow_run_id": card.flow_run_id,
        "pid": card.pid,
        "process": card.process,
        "host": card.host,
        "settled": card.settled,
        "state_id": card.state_id,
    }
    _replace(card.workspace / CARD, json.dumps(data))


def settle_card(card: Card) -> None:
    """Remember that the card's flow run has been dealt with; the folder stays for clean."""
    save_card(replace(card, settled=True))


def drop_card(workspace: Path) -> None:
    """The run ended in a state of its own (failed): nothing is left for a later start to mark."""
    (workspace / CARD).unlink(missing_ok=True)


def read_card(workspace: Path) -> Card | None:
    try:
        data = json.loads((workspace / CARD).read_text())
        return Card(
            workspace,
            str(data["flow_run_id"]),
            int(data["pid"]),
            str(data["process"]),
            str(data["host"]),
            bool(data.get("settled", False)),
            data.get("state_id"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def keep_row(workspace: Path, row: str) -> None:
    """Keep the run's row (JSON) beside its card before writing it: the run's final state may
    be recorded before the row's commit, and a process killed in between leaves it here."""
    _replace(workspace / ROW, row)


def kept_row(workspace: Path) -> str | None:
    try:
        return (workspace / ROW).read_text()
    except OSError:
        return None


def drop_row(workspace: Path) -> None:
    """The row is in the warehouse."""
    (workspace / ROW).unlink(missing_ok=True)


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)  # a reader never sees half a file


def read_cards(work_dir: Path) -> list[Card]:
    """Every card under the work folder (runs alive, and runs that died)."""
    if not work_dir.is_dir():
        return []
    cards = (read_card(child) for child in sorted(work_dir.iterdir()) if child.is_dir())
    return [card for card in cards if card is not None]
