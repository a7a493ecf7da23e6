"""Storage: the warehouse read and written for real, free disk, and what runs left behind."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from adref import caches, prefect_env
from adref.crashed import crash_dead_runs, dead_cards
from adref.doctor.check import Check
from adref.runcard import kept_row, read_cards
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from adref.warehouse.media_store import BucketMedia, MediaUnreachable
from adref.workspace import clean_workspaces, removable

MB = 1024 * 1024
MIN_FREE_MB = 1024.0


def _existing(path: Path) -> Path:
    """The path itself, or the nearest parent that exists (where it would be created)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor)


def _write_problem(folder: Path) -> str | None:
    """Write and remove a small file: the only proof that writing works (root ignores modes)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".adref-doctor-") as probe:
            probe.write(b"adref doctor")
            probe.flush()
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def warehouse_check(warehouse: Warehouse) -> Check:
    root = warehouse.root
    name, fix = "warehouse", "move that file away, or set ADREF_WAREHOUSE_DIR to a folder"
    there = _existing(root)
    if not there.is_dir():
        return Check(name, "error", f"{there} is a file, so {root} cannot be a folder", fix)
    data = root / "data"
    problem = _write_problem(data if data.is_dir() else there)
    if problem:
        return Check(
            name,
            "error",
            f"cannot write in {there}: {problem}",
            "give your user write access, or set ADREF_WAREHOUSE_DIR",
        )
    try:
        if not warehouse.exists():
            return Check(
                name, "ok", f"not created yet; the first run creates it in {warehouse.where}"
            )
        with contextlib.closing(warehouse.connect(read_only=True)) as con:
            row = con.execute("select (select count(*) from videos), (select count(*) from runs)")
            videos, runs = row.fetchone() or (0, 0)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return Check(
            name,
            "error",
            f"{warehouse.where} cannot be read: {type(exc).__name__}: {first}",
            "restore the folder from a backup, or set ADREF_WAREHOUSE_DIR to start a new one",
        )
    return Check(name, "ok", f"{warehouse.where}: {videos} videos, {runs} runs; read and written")


def media_checks(warehouse: Warehouse) -> list[Check]:
    """The media bucket (``ADREF_MEDIA_PATH``) asked for an object that is not there: an answer
    proves the endpoint, the bucket and the keys; nothing is written. None when media are local
    (the warehouse check writes there)."""
    media = warehouse.media
    if not isinstance(media, BucketMedia):
        return []
    try:
        media.info("media/adref-doctor-probe")
    except MediaUnreachable as exc:
        return [
            Check(
                "media", "error", exc.what + ": " + exc.why, "check ADREF_MEDIA_PATH and ADREF_S3_*"
            )
        ]
    return [Check("media", "ok", f"{media.where}: answers")]


def disk_checks(settings: Settings, min_free_mb: float | None = None) -> list[Check]:
    """Warn under the largest download accepted (ADREF_MAX_FILESIZE_MB), and never under 1 GB."""
    floor = min_free_mb if min_free_mb is not None else max(MIN_FREE_MB, settings.max_filesize_mb)
    checks = []
    for label, path in (("disk: work", settings.work_dir), ("disk: warehouse", settings.warehouse)):
        folder = _existing(path)
        free = shutil.disk_usage(folder).free / MB
        if free < floor:
            checks.append(
                Check(
                    label,
                    "warning",
                    f"{free:,.0f} MB free at {folder}, under {floor:,.0f} MB",
                    "free some space, or move ADREF_HOME / ADREF_WAREHOUSE_DIR to a larger disk",
                )
            )
        else:
            checks.append(Check(label, "ok", f"{free / 1024:,.1f} GB free at {folder}"))
    return checks


def leftover_checks(settings: Settings, *, fix: bool = False) -> list[Check]:
    """Runs whose process died (still "Running" in Prefect) and folders ``adref clean`` removes."""
    notes = _fix(settings) if fix else []
    keep_s = settings.workspace_keep_days * 86400
    cards = read_cards(settings.work_dir)
    stuck = [c for c in cards if not c.settled and c.dead()]
    live = [c for c in cards if not c.dead()]
    leftover = removable(settings.work_dir, keep_s)
    if stuck:
        unwritten = sum(1 for c in stuck if kept_row(c.workspace) is not None)
        runs = Check(
            "stuck runs",
            "warning",
            f"{len(stuck)} run(s) whose process died still show as running in Prefect"
            + (f" or have their runs row unwritten ({unwritten})" if unwritten else ""),
            "adref doctor --fix (the next adref analyze settles them too)",
        )
    else:
        runs = Check("stuck runs", "ok", notes[0] if notes else "none")
    if leftover:
        size = sum(f.stat().st_size for d in leftover for f in d.rglob("*") if f.is_file()) / MB
        folders = Check(
            "workspaces",
            "warning",
            f"{len(leftover)} left behind in {settings.work_dir} ({size:,.1f} MB)",
            "adref clean (or adref doctor --fix)",
        )
    else:
        detail = f"{len(live)} of runs in progress" if live else "nothing left behind"
        folders = Check("workspaces", "ok", notes[1] if notes else detail)
    return [runs, folders]


def cache_check(settings: Settings, now: float, prefect_home: str | None = None) -> Check:
    """How big the caches are, and what ``adref clean`` would prune from them."""
    try:
        entries = caches.scan(
            caches.cache_folders(settings), caches.protected_paths(settings, prefect_home)
        )
    except OSError as exc:
        return Check(
            "caches", "warning", f"cannot read the caches: {exc}", "check the folder's permissions"
        )
    policy = caches.Policy(
        keep_s=settings.cache_keep_days * 86400, max_bytes=int(settings.cache_max_gb * 1e9), now=now
    )
    due = [entry for entry, _ in caches.plan(entries, policy).remove]
    total = caches.size_text(sum(e.size for e in entries))
    count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
    detail = f"{count}, {total} (task results and downloads)"
    if not due:
        return Check("caches", "ok", detail)
    freed = caches.size_text(sum(e.size for e in due))
    return Check(
        "caches", "warning", f"{detail}; {len(due)} due for pruning ({freed})", "adref clean"
    )


def _fix(settings: Settings) -> list[str]:
    marked = "none"
    if dead_cards(settings):
        prefect_env.configure(settings)
        try:
            dead = crash_dead_runs(settings)
            crashed = sum(run.marked for run in dead)
            marked = f"{crashed} marked crashed"
            if len(dead) > crashed:
                marked += f", {len(dead) - crashed} runs row(s) stored"
        except Exception as exc:  # reported by the check that follows: they are still stuck
            marked = f"could not mark them: {type(exc).__name__}"
    removed = clean_workspaces(settings.work_dir, settings.workspace_keep_days * 86400)
    return [marked, f"{len(removed)} removed"]
