"""``adref ingest``: the watch list's new videos, started on a server or analysed here."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from adref import prefect_env
from adref.cli.app import app, console, err_console, quiet_prefect, start_prefect
from adref.cli.many import one_line
from adref.cli.plain import escape
from adref.ingest.expand import Found, expand_sources
from adref.ingest.plan import Plan, not_a_video, plan_runs
from adref.ingest.report import Started, shown
from adref.ingest.watchlist import read_file
from adref.settings import Settings, get_settings


@app.command()
def ingest(
    watchlist: Path = typer.Argument(
        None, help="A watch list (YAML); default ADREF_WATCHLIST and the Prefect Variable."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print what would be started, and why the rest is skipped."
    ),
) -> None:
    """Start one analysis per new video of the watch list (URLs, playlists, channels, folders).

    With `adref up` running, as deployment runs on its worker; without a server, here, one after
    another.
    """
    settings = get_settings()
    on_server = "PREFECT_API_URL" in os.environ or _worker_running(settings)
    if on_server:
        start_prefect()
    else:  # Prefect starts only for new videos (analyse_here), yet is imported below: quiet
        quiet_prefect()
    # lazy: imports Prefect, which reads its settings once, so only after start_prefect()
    from adref.tasks.ingest import known_in_warehouse, load_watchlist, queued_analyses

    if watchlist is not None:
        watch = read_file(watchlist.expanduser())
    else:
        watch = load_watchlist(settings.watchlist_path, settings, with_variable=on_server)
    expansion = expand_sources(
        watch, settings, inside=settings.input_folders if on_server else None
    )
    for bad in expansion.bad:
        err_console.print(f"[yellow]skipped[/] {escape(bad.line())}", highlight=False)
    known_ids, known_sources = known_in_warehouse(expansion.found, settings)
    plan = plan_runs(
        expansion,
        known_ids=known_ids,
        known_sources=known_sources,
        queued=queued_analyses() if on_server else [],
        max_new=settings.ingest_max_new_runs,
        max_per_source=settings.ingest_max_per_source,
        refused=not_a_video(settings),
    )
    console.print(plan_table(plan, dry_run))
    if dry_run or not plan.new:
        return
    if on_server:
        from adref.tasks.ingest import start_analyses  # lazy: with Prefect, above

        started = start_analyses(plan.new, settings)
    else:
        started = analyse_here(plan.new, settings)
    console.print(started_table(started))
    if any(s.error for s in started):
        raise typer.Exit(2)


def _worker_running(settings: Settings) -> bool:
    """An ``adref up`` with a worker: the CLI's background server runs no deployment runs."""
    stack = prefect_env.read_stack(settings)
    return stack is not None and stack.alive("supervisor") and stack.alive("worker")


def analyse_here(new: list[Found], settings: Settings) -> list[Started]:
    """Each new video through the analysis flow in this process, as ``adref analyze`` runs it;
    one that fails is reported and the next one still runs."""
    start_prefect(background_server=True)
    from adref.flows.analyze_video import analyze_video  # lazy: Prefect reads its settings once

    done: list[Started] = []
    for number, found in enumerate(new, start=1):
        err_console.print(
            f"[bold]{number}/{len(new)}[/] {escape(shown(found.target))}", highlight=False
        )
        source = found.source
        try:
            with prefect_env.in_process_run():
                summary = analyze_video(
                    source=found.target,
                    provider=source.provider or settings.provider,
                    owner=source.owner,
                    tags=list(source.tags),
                )
        except Exception as exc:  # one bad video must not stop the others
            done.append(Started(found, "", "", error=one_line(exc)))
            continue
        done.append(Started(found, "", summary.video_id or "", error=None))
    return done


def plan_table(plan: Plan, dry_run: bool) -> Table:
    title = "would start" if dry_run else "new videos"
    table = Table(title=f"{title}: {len(plan.new)}, skipped: {len(plan.skipped)}")
    for column in ("", "video", "source", "why"):
        table.add_column(column, overflow="fold")
    for f in plan.new:
        video = escape(f.video_id or "(once downloaded)")
        table.add_row("[green]new[/]", video, escape(shown(f.target)), "")
    for s in plan.skipped:
        table.add_row(
            "[dim]skip[/]", escape(s.video_id or ""), escape(shown(s.target)), escape(s.reason)
        )
    return table


def started_table(started: list[Started]) -> Table:
    table = Table(title="started" if any(s.run_id for s in started) else "analysed")
    for column in ("source", "result"):
        table.add_column(column, overflow="fold")
    for s in started:
        done = escape(s.link or s.run_name or "done")
        result = f"[red]failed[/] {escape(s.error)}" if s.error else done
        table.add_row(escape(shown(s.found.target)), result)
    return table
