"""``adref clean``: remove workspaces that failed runs left behind for inspection."""

from __future__ import annotations

import typer

from adref.cli.app import app, console
from adref.settings import get_settings
from adref.workspace import clean_workspaces


@app.command()
def clean(
    older_than_days: float = typer.Option(
        None, "--older-than-days", help="Default: ADREF_WORKSPACE_KEEP_DAYS."
    ),
) -> None:
    """Remove failed runs' workspaces older than a number of days."""
    settings = get_settings()
    days = settings.workspace_keep_days if older_than_days is None else older_than_days
    removed = clean_workspaces(settings.work_dir, days * 86400)
    console.print(
        f"removed {len(removed)} workspace(s) older than {days:g} day(s) from {settings.work_dir}"
    )
