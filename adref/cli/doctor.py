"""``adref doctor``: every check as a row of one table, each problem with its fix."""

from __future__ import annotations

import typer
from rich.table import Table

from adref.cli.app import app, console, start_prefect
from adref.cli.plain import escape
from adref.settings import get_settings

_STYLE = {"ok": "[green]ok[/]", "warning": "[yellow]warning[/]", "error": "[bold red]error[/]"}


@app.command()
def doctor(
    online: bool = typer.Option(
        False, "--online", help="Send one minimal request to each configured provider."
    ),
    fix: bool = typer.Option(
        False, "--fix", help="Mark runs whose process died crashed; remove leftover workspaces."
    ),
) -> None:
    """Check the install, storage, Prefect and provider keys; exit 1 if anything is an error."""
    from adref.doctor import exit_code, run_checks  # lazy: keeps `adref --help` fast

    start_prefect()
    settings = get_settings()
    with console.status("checking…"):
        checks = run_checks(settings, online=online, fix=fix)
    table = Table(title=f"adref doctor ({escape(str(settings.home))})", title_justify="left")
    table.add_column("check", no_wrap=True, style="bold")
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=3)
    table.add_column("fix", overflow="fold", ratio=2)
    for check in checks:
        table.add_row(
            escape(check.name), _STYLE[check.status], escape(check.detail), escape(check.fix)
        )
    console.print(table)
    errors = sum(c.status == "error" for c in checks)
    warnings = sum(c.status == "warning" for c in checks)
    verdict = "[bold red]not ready[/]" if errors else "[green]ready[/]"
    console.print(f"{verdict}: {errors} error(s), {warnings} warning(s)")
    raise typer.Exit(exit_code(checks))
