"""``adref clean``: remove the workspaces of runs that died, and of failed runs once old.

Every command that runs flows first marks the runs of processes that died as crashed
(``settle_dead_runs``), so a killed run never stays "Running"; clean then removes their folders.
"""

from __future__ import annotations

import typer

from adref.cli.app import app, console, err_console, start_prefect
from adref.crashed import crash_dead_runs, dead_cards
from adref.settings import get_settings
from adref.workspace import clean_workspaces


def settle_dead_runs() -> int:
    """Mark the flow runs of dead processes crashed and say so; returns how many.

    Called after Prefect is configured. A failure here is reported, not raised: the command
    the user asked for matters more than bookkeeping about an earlier one.
    """
    try:
        dead = crash_dead_runs(get_settings())
    except Exception as exc:
        err_console.print(f"[yellow]could not mark runs that died as crashed:[/] {exc}")
        return 0
    for run in dead:
        err_console.print(
            f"[yellow]run {run.name} ({run.flow_run_id}) died with its process: marked "
            f"crashed[/]; `adref clean` removes its folder {run.workspace}",
            highlight=False,
        )
    return len(dead)


@app.command()
def clean(
    older_than_days: float = typer.Option(
        None, "--older-than-days", help="Default: ADREF_WORKSPACE_KEEP_DAYS."
    ),
) -> None:
    """Remove the workspaces of runs that died, and of failed runs older than a number of days."""

    settings = get_settings()
    days = settings.workspace_keep_days if older_than_days is None else older_than_days
    if dead_cards(settings):
        start_prefect()
        settle_dead_runs()
    removed = clean_workspaces(settings.work_dir, days * 86400)
    console.print(
        f"removed {len(removed)} workspace(s) from {settings.work_dir}: runs that died, "
        f"and failed runs older than {days:g} day(s)"
    )
