"""Per-run workspace folders: isolated like the seed's per-user folders, removed after success.

A failed run's folder is kept for inspection; ``adref clean`` removes those older than
``ADREF_WORKSPACE_KEEP_DAYS``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path


def open_workspace(work_dir: Path, run_id: str) -> Path:
    path = work_dir / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def close_workspace(path: Path, succeeded: bool) -> None:
    if succeeded:
        shutil.rmtree(path, ignore_errors=True)


def clean_workspaces(work_dir: Path, older_than_s: float) -> list[Path]:
    """Remove workspace folders last modified more than ``older_than_s`` ago; return them."""
    if not work_dir.is_dir():
        return []
    cutoff = time.time() - older_than_s
    removed = []
    for child in sorted(work_dir.iterdir()):
        if child.is_dir() and child.stat().st_mtime < cutoff:
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed
