"""``adref analyze``: videos through the pipeline, each with a bar per stage and a summary table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from adref import prefect_env, progress
from adref.categories import formats, genres, label
from adref.cli import many
from adref.cli.app import app, console, err_console, fail, start_prefect
from adref.cli.clean import settle_dead_runs
from adref.cli.plain import escape
from adref.settings import get_settings
from adref.sources.local import check_file, existing_file
from adref.sources.netguard import private_only_address, refusal
from adref.sources.urls import check_url, looks_like_url, redact_url


def refuse_private_name(url: str) -> None:
    """A name such as ``localhost`` is refused before Prefect starts, as a literal address is."""
    parts = urlsplit(url)
    ip = private_only_address(parts.hostname or "", parts.port)
    if ip is not None:
        raise refusal(redact_url(url), ip)


class _Bars:
    def __init__(self, bars: Progress) -> None:
        self.bars = bars
        self.ids: dict[str, TaskID] = {
            stage: bars.add_task(stage, total=1.0, status="waiting") for stage in progress.STAGES
        }

    def __call__(self, event: progress.Event) -> None:
        task_id = self.ids.get(event.stage)
        if task_id is None:
            return
        if event.status == "start":
            self.bars.update(task_id, status="running", completed=0.0)
        elif event.status == "progress":
            self.bars.update(task_id, completed=event.fraction)
        elif event.status in ("done", "cached"):
            label = "[cyan]cached[/]" if event.status == "cached" else "[green]done[/]"
            self.bars.update(task_id, completed=1.0, status=label)
        elif event.status == "failed":
            self.bars.update(task_id, status="[red]failed[/]")


@dataclass(frozen=True)
class RunOptions:
    """What every source of one ``adref analyze`` call is analysed with."""

    provider: str
    model: str | None
    owner: str | None
    tags: list[str]
    refresh: bool
    estimate: bool
    notion: bool | None = None


@app.command()
def analyze(
    sources: list[str] = typer.Argument(
        None,
        help="http(s) URLs (YouTube, Vimeo, any yt-dlp site) or files; each its own run.",
        show_default=False,
    ),
    from_file: Path = typer.Option(
        None,
        "--from",
        "-f",
        help="A file of sources, one a line (# comments and blank lines ignored); - for stdin.",
        dir_okay=False,
    ),
    provider: str = typer.Option(
        None, "--provider", "-p", help="Analyser (default: ADREF_PROVIDER)."
    ),
    model: str = typer.Option(None, "--model", help="Model name for the provider."),
    owner: str = typer.Option(None, "--owner", help="Who added this video."),
    tag: list[str] = typer.Option([], "--tag", "-t", help="A tag of yours (repeatable)."),
    refresh: bool = typer.Option(
        False, "--refresh", help="Recompute every stage, ignoring caches."
    ),
    estimate: bool = typer.Option(
        False,
        "--estimate",
        help="Download, detect and group, then print the planned model calls, tokens and cost "
        "without calling any model or storing anything.",
    ),
    notion: bool = typer.Option(
        None,
        "--notion/--no-notion",
        help="Publish each stored video to Notion as a last step (default: ADREF_NOTION_PUBLISH).",
        show_default=False,
    ),
) -> None:
    """Analyse videos and store them in the warehouse, one run per video.

    --provider takes a fallback chain: "anthropic,openai,local" tries each in order.
    With several sources a bad one is reported and the rest still run; a table of every
    source ends the output, and the exit code is 1 if any failed.
    """
    settings = get_settings()
    given = list(sources or []) + (many.read_sources(from_file) if from_file else [])
    if not given:
        raise fail("no source given: name a URL or a file, or a file of sources with --from.")
    given, repeats = many.unique(given)
    for source in repeats:
        err_console.print(
            f"[yellow]listed twice:[/] {escape(many.shown(source))} (analysed once)",
            highlight=False,
        )
    options = RunOptions(
        provider=provider or settings.provider,
        model=model,
        owner=owner,
        tags=list(tag),
        refresh=refresh,
        estimate=estimate,
        notion=notion,
    )
    if notion:
        require_notion_database(settings)
    if len(given) == 1 and from_file is None:
        check_source(given[0])
        start_prefect(background_server=True)
        settle_dead_runs()
        show_summary(run_flow(given[0], options))
        return

    def run_and_show(source: str) -> Any:
        summary = run_flow(source, options)
        show_summary(summary, attach=False)
        return summary

    outcomes = many.run_each(given, check_source, run_and_show, start)
    console.print(many.outcome_table(outcomes))
    attach = next((o.summary.attach_line for o in outcomes if o.summary), "")
    if attach and not estimate:
        console.print("[bold]Open it in any DuckDB client[/] (read-only, from any folder):")
        console.print(attach, soft_wrap=True, highlight=False, markup=False)
    if any(not o.ok for o in outcomes):
        raise typer.Exit(1)


def require_notion_database(settings: Any) -> None:
    """``--notion`` with nowhere to publish is a usage error, said before any work."""
    if not (settings.notion_database_id or "").strip():
        raise fail("--notion needs a Notion database: set NOTION_DATABASE_ID (and NOTION_API_KEY)")


def start() -> None:
    """Prefect once for every source of the call, after the first source passed its checks."""
    start_prefect(background_server=True)
    settle_dead_runs()


def check_source(source: str) -> None:
    """Refuse a bad scheme, or a file that is missing or not a video, before Prefect starts:
    that is not a run, so it leaves no `runs` row."""
    settings = get_settings()
    if looks_like_url(source):
        url = check_url(source, allow_private=settings.allow_private_urls)
        if not settings.allow_private_urls:
            refuse_private_name(url)
    else:
        check_file(existing_file(source), settings)


def run_flow(source: str, options: RunOptions) -> Any:
    """One flow run in this process, its stages drawn as bars; returns its ``RunSummary``."""
    # lazy: imports Prefect, which reads its settings once, so only after start_prefect()
    from adref.flows.analyze_video import analyze_video

    bars = Progress(
        TextColumn("[bold]{task.description:<9}"),
        BarColumn(bar_width=30),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
    with bars, prefect_env.in_process_run():
        progress.set_listener(_Bars(bars))
        try:
            return analyze_video(
                source=source,
                provider=options.provider,
                model=options.model,
                owner=options.owner,
                tags=list(options.tags),
                refresh=options.refresh,
                estimate_only=options.estimate,
                notion=options.notion,
            )
        finally:
            progress.set_listener(None)


_STAGE_NOTES = ("Notion:", "on-screen text", "speech:")  # notes that say which step they come from


def show_summary(summary: Any, *, attach: bool = True) -> None:
    """A run's summary table (or its plan, for --estimate) and what its provider chain did."""
    if summary.status == "estimated":
        console.print(estimate_table(summary.estimates, summary.title or summary.video_id or ""))
        return
    console.print(summary_table(summary))
    for note in summary.notes:
        what = "" if note.startswith(_STAGE_NOTES) else "provider chain: "
        err_console.print(f"[yellow]{what}[/]{escape(note)}", highlight=False)
    if attach:
        console.print("[bold]Open it in any DuckDB client[/] (read-only, from any folder):")
        console.print(summary.attach_line, soft_wrap=True, highlight=False, markup=False)


def _coded(table: dict[str, tuple[str, str]], code: str | None) -> str:
    if code is None:
        return "—"
    return f"{label(table, code, get_settings().output_language)} ({code})"


def estimate_table(estimates: list[Any], title: str) -> Table:
    """Planned calls per provider of the chain: what --estimate prints, nothing spent."""
    table = Table(
        title=f"planned model calls for {escape(title)} (nothing called)", title_justify="left"
    )
    for column in ("provider", "model", "calls", "images", "tokens in", "tokens out", "USD"):
        table.add_column(column, justify="left" if column in ("provider", "model") else "right")
    for e in estimates:
        table.add_row(*estimate_cells(e))
    return table


def estimate_cells(e: Any) -> list[str]:
    """provider, model, calls, images, tokens in, tokens out, USD: one planned call's cells."""
    return [
        escape(e.provider),
        escape(e.model),
        str(e.calls),
        str(e.images),
        f"{e.tokens_in:,}",
        f"{e.tokens_out:,}",
        f"{e.cost_usd:.4f}",
    ]


def summary_table(summary: object) -> Table:
    from adref.tasks.runs import RunSummary  # lazy: keeps `adref --help` fast

    assert isinstance(summary, RunSummary)
    title = summary.title or summary.video_id
    table = Table(title=title and escape(title), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    palette = Text()
    for colour in summary.palette:
        palette.append("██", style=colour.hex)
        palette.append(f" {colour.hex} {colour.weight:.0%}  ")
    seen = summary.source
    if summary.source_title:
        seen += f" (titled there “{summary.source_title}”)"
    rows = [
        ("video", summary.video_id or ""),
        ("seen at", seen),
        ("duration", f"{summary.duration_s or 0:.1f} s, {summary.width}x{summary.height}"),
        ("shots", str(summary.shots)),
        ("scene groups", str(summary.groups)),
        ("genre", _coded(genres(), summary.genre)),
        ("format", _coded(formats(), summary.expression_format)),
        ("mood", ", ".join(summary.mood) or "—"),
        ("tags", ", ".join(summary.tags) or "—"),
        ("summary", summary.summary or "—"),
        ("analysis", f"{summary.provider} / {summary.model}"),
        (
            "model usage",
            f"{summary.tokens_in:,} tokens in, {summary.tokens_out:,} out, "
            f"{summary.cost_usd:.4f} USD",
        ),
        ("cache", f"{summary.cache_hits}/{summary.tasks} tasks served from cache"),
        ("time", f"{summary.total_s:.1f} s"),
        ("warehouse", summary.warehouse),
        ("query it", 'adref sql "select * from shots limit 5"'),
    ]
    for key, value in rows:  # every value is plain text: a title, an address, a model's words
        table.add_row(key, escape(value))
    table.add_row("palette", palette)
    return table
