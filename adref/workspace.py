"""Per-run workspaces: isolated like the seed's per-user folders, removed after success.

A failed run's folder is kept for inspection; ``adref clean`` removes those older than
``ADREF_WORKSPACE_KEEP_DAYS``. While a run runs, its folder holds its card (``runcard``): a
folder whose process died is garbage whatever its age, and a live run's folder is never removed.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from adref.runcard import drop_card, drop_row, read_card, write_card


def open_workspace(
    work_dir: Path, run_id: str, flow_run_id: str | None = None, state_id: str | None = None
) -> Path:
    path = work_dir / run_id
    path.mkdir(parents=True, exist_ok=True)
    if flow_run_id:
        write_card(path, flow_run_id, state_id)
    return path


def close_workspace(path: Path, succeeded: bool) -> None:
    if succeeded:
        shutil.rmtree(path, ignore_errors=True)
        return
    drop_card(path)  # its end is recorded: kept for inspection, removed by age
    drop_row(path)


def clean_workspaces(work_dir: Path, older_than_s: float) -> list[Path]:
    """Remove what ``removable`` names; return it."""
    removed = removable(work_dir, older_than_s)
    remove_workspaces(removed)
    return removed


def remove_workspaces(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def removable(work_dir: Path, older_than_s: float, *, unmarked_dead: bool = False) -> list[Path]:
    """The folders of runs that died (once their flow run is marked, or before with
    ``unmarked_dead``: what a clean that marks them first will remove) and of other runs last
    modified more than ``older_than_s`` ago; never a live run's. A link is not a workspace (adref
    makes none) and is never followed."""
    if not work_dir.is_dir():
        return []
    cutoff = time.time() - older_than_s
    found = []
    for child in sorted(work_dir.iterdir()):
        if child.is_symlink() or not child.is_dir():
            continue
        card = read_card(child)
        if card is not None and not card.dead():
            continue
        marked = card is not None and (card.settled or unmarked_dead)
        if marked or child.stat().st_mtime < cutoff:
            found.append(child)
    return found
