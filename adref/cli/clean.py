"""``adref clean``: remove the workspaces of runs that died, and of failed runs once old; prune
the caches (``adref.caches``) by age and size.

Every command that runs flows first marks the runs of processes that died as crashed
(``settle_dead_runs``), so a killed run never stays "Running"; clean then removes their folders.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from rich.table import Table

from adref import caches
from adref.cli.app import app, console, err_console, start_prefect
from adref.cli.plain import escape
from adref.crashed import crash_dead_runs, dead_cards
from adref.settings import get_settings
from adref.workspace import removable, remove_workspaces


def settle_dead_runs() -> int:
    """Mark the flow runs of dead processes crashed (and store the rows such processes left
    unwritten) and say so; returns how many runs were settled.

    Called after Prefect is configured. A failure here is reported, not raised: the command
    the user asked for matters more than bookkeeping about an earlier one.
    """
    try:
        dead = crash_dead_runs(get_settings())
    except Exception as exc:
        err_console.print(
            f"[yellow]could not mark runs that died as crashed:[/] {escape(str(exc))}"
        )
        return 0
    for run in dead:
        named = escape(f"{run.name} ({run.flow_run_id})")
        if run.marked:
            said = (
                f"[yellow]run {named} died with its process: marked crashed[/]; "
                f"`adref clean` removes its folder {escape(str(run.workspace))}"
            )
        else:
            said = (
                f"run {named} ended {escape(str(run.written))}; its runs row, left unwritten "
                "(its process ended first, or the warehouse refused it), is stored now"
            )
        err_console.print(said, highlight=False)
    return len(dead)


@app.command()
def clean(
    older_than_days: float = typer.Option(
        None,
        "--older-than-days",
        min=0,
        help="Workspaces of failed runs; default ADREF_WORKSPACE_KEEP_DAYS.",
    ),
    cache_keep_days: float = typer.Option(
        None,
        "--cache-keep-days",
        min=0,
        help="Cache entries unused this long; default ADREF_CACHE_KEEP_DAYS.",
    ),
    cache_max_gb: float = typer.Option(
        None, "--cache-max-gb", min=0, help="Size cap of the caches; default ADREF_CACHE_MAX_GB."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only list what would be removed; change nothing."
    ),
) -> None:
    """Remove the workspaces of runs that died and of old failed runs, and prune the caches
    (Prefect's task results, downloads) by age and size. The warehouse is never touched."""

    settings = get_settings()
    days = settings.workspace_keep_days if older_than_days is None else older_than_days
    keep_days = settings.cache_keep_days if cache_keep_days is None else cache_keep_days
    max_gb = settings.cache_max_gb if cache_max_gb is None else cache_max_gb
    now = time.time()
    policy = caches.Policy(keep_s=keep_days * 86400, max_bytes=int(max_gb * 1e9), now=now)
    folders = caches.cache_folders(settings)
    protected = caches.protected_paths(settings, os.environ.get("PREFECT_HOME"))
    if dry_run:
        workspaces = removable(settings.work_dir, days * 86400, unmarked_dead=True)
        sized = _sized(workspaces)
        chosen = caches.plan(caches.scan(folders, protected), policy)
        gone = [entry for entry, _ in chosen.remove]
        _list(sized, chosen)
    else:
        if dead_cards(settings):
            start_prefect()
            settle_dead_runs()
        workspaces = removable(settings.work_dir, days * 86400)
        sized = _sized(workspaces)
        remove_workspaces(workspaces)
        chosen = caches.plan(caches.scan(folders, protected), policy)
        gone = caches.remove([entry for entry, _ in chosen.remove], now)
    kept = chosen.keep + [entry for entry, _ in chosen.remove if entry not in gone]
    work = settings.work_dir
    stays = (
        [p for p in work.iterdir() if p.is_dir() and not p.is_symlink()] if work.is_dir() else []
    )
    leaving = set(workspaces)
    kept_work = _sized([p for p in stays if p not in leaving])
    shown = {"workspaces": settings.work_dir, **folders}
    console.print(_table(sized, gone, [*kept, *kept_work], shown, dry_run))
    freed = sum(entry.size for entry in [*sized, *gone])
    entries = f"entr{'y' if len(gone) == 1 else 'ies'}"
    console.print(
        f"{'would remove' if dry_run else 'removed'} {len(sized)} workspace(s) and {len(gone)} "
        f"cache {entries}, {'would free' if dry_run else 'freed'} {caches.size_text(freed)}; "
        f"the caches keep {caches.size_text(sum(e.size for e in kept))} (cap {max_gb:g} GB)",
        highlight=False,
    )
    short = len(chosen.remove) - len(gone)
    if short:
        err_console.print(
            f"[yellow]{short} cache entr{'y was' if short == 1 else 'ies were'} in use "
            "or could not be removed: kept[/]"
        )


def _sized(paths: list[Path]) -> list[caches.Entry]:
    entries = []
    for path in paths:
        measured = caches.measure(path)
        if measured is not None:
            entries.append(caches.Entry("workspaces", path, *measured))
    return entries


def _list(workspaces: list[caches.Entry], chosen: caches.Plan) -> None:
    reasons = {"age": "unused too long", "size": "over the size cap"}
    for entry in workspaces:
        console.print(
            f"would remove {escape(str(entry.path))} ({caches.size_text(entry.size)})",
            highlight=False,
        )
    for entry, reason in chosen.remove:
        console.print(
            f"would remove {escape(str(entry.path))} "
            f"({caches.size_text(entry.size)}, {reasons[reason]})",
            highlight=False,
        )


def _table(
    workspaces: list[caches.Entry],
    gone: list[caches.Entry],
    kept: list[caches.Entry],
    folders: dict[str, Path],
    dry_run: bool,
) -> Table:
    """One row per folder: what went (or would go) and what stays."""
    table = Table(show_edge=False)
    removed = ("would remove", "would free") if dry_run else ("removed", "freed")
    for column in ("", "folder", *removed, "kept", "size kept"):
        table.add_column(column, justify="left" if column in ("", "folder") else "right")
    for name, folder in folders.items():
        out = workspaces if name == "workspaces" else [e for e in gone if e.cache == name]
        stay = [e for e in kept if e.cache == name]
        table.add_row(
            escape(name),
            escape(str(folder)),
            str(len(out)),
            caches.size_text(sum(e.size for e in out)),
            str(len(stay)),
            caches.size_text(sum(e.size for e in stay)),
        )
    return table
