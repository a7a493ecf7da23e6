"""``adref reanalyze``: stored videos analysed again, one or many, with the cost shown first.

The plan (calls, images, tokens, cost per video) is made from the warehouse and the provider's
own estimate before any flow runs, so ``--estimate`` spends nothing and runs nothing. Prompt
overrides (Prefect Variables) count in the plan when a Prefect API is configured
(``PREFECT_API_URL``); the embedded server is only up while a flow runs.

An analysis already stored under the same id (same video, provider, model and prompt) is skipped
unless ``--refresh`` (or ``--text`` / ``--speech``, which read the text on screen or hear the
voice-over again from the kept copy first): asking again would only pay for the same answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from adref import prefect_env, progress
from adref.cli.analyze import estimate_cells, require_notion_database
from adref.cli.app import app, console, err_console, fail, start_prefect
from adref.cli.clean import settle_dead_runs
from adref.cli.plain import escape
from adref.errors import AdrefError
from adref.models import analysis_id
from adref.providers.base import CallEstimate
from adref.providers.chain import chain_names
from adref.providers.registry import get_provider
from adref.settings import get_settings

if TYPE_CHECKING:
    # lazy: for the annotation only; DuckDB is imported when the command reads the warehouse
    from adref.warehouse.catalog import Warehouse


@dataclass
class Planned:
    video_id: str
    title: str
    estimate: CallEstimate
    stored: bool  # this analysis id is in the warehouse already: skipped unless --refresh


@app.command()
def reanalyze(
    video_ids: list[str] = typer.Argument(
        None, help='Stored video ids (adref sql "select video_id, title from videos").'
    ),
    provider: str = typer.Option(
        None,
        "--provider",
        "-p",
        help="Analyser, or a comma-separated fallback chain (default: ADREF_PROVIDER).",
    ),
    model: str = typer.Option(None, "--model", help="Model name for the (first) provider."),
    genre: str = typer.Option(None, "--genre", help="Select videos any analysis gave this genre."),
    provider_was: str = typer.Option(
        None, "--provider-was", help="Select videos this provider has analysed."
    ),
    since: str = typer.Option(
        None, "--since", help="Select videos first ingested on or after YYYY-MM-DD (UTC)."
    ),
    tag: str = typer.Option(None, "--tag", "-t", help="Select videos with this user or site tag."),
    ids_sql: str = typer.Option(
        None, "--ids-sql", help="Select the video_id column a read-only SQL query returns."
    ),
    estimate: bool = typer.Option(
        False, "--estimate", help="Print the planned calls, tokens and cost, then stop."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before spending."),
    refresh: bool = typer.Option(
        False, "--refresh", help="Analyse again even when this analysis is already stored."
    ),
    notion: bool = typer.Option(
        None,
        "--notion/--no-notion",
        help="Publish each video to Notion as a last step (default: ADREF_NOTION_PUBLISH).",
        show_default=False,
    ),
    text: bool = typer.Option(
        False,
        "--text",
        help="First read the text on screen again from each video's kept copy and store it "
        "(videos stored before text was read); the analysis is then given it.",
    ),
    speech: bool = typer.Option(
        False,
        "--speech",
        help="First transcribe the voice-over of each video's kept copy with ADREF_SPEECH_ENGINE "
        "and store it (videos stored before speech was heard); the analysis is then given it.",
    ),
) -> None:
    """Analyse stored videos again with another provider, model or prompt; keep every analysis."""
    # lazy: DuckDB and PyArrow; keeps `adref --help` fast
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.reanalysis import require_stored, select_videos

    settings = get_settings()
    if notion:
        require_notion_database(settings)
    chain = provider or settings.provider
    filtered = any(v is not None for v in (genre, provider_was, since, tag, ids_sql))
    if not video_ids and not filtered:
        raise fail(
            "nothing selected: give VIDEO_ID(s) or a filter "
            "(--genre, --provider-was, --since, --tag, --ids-sql)"
        )
    warehouse = Warehouse.of(settings)
    chosen = list(video_ids or [])
    require_stored(warehouse, chosen)
    if filtered:
        chosen += select_videos(
            warehouse, genre=genre, provider=provider_was, since=since, tag=tag, ids_sql=ids_sql
        )
    chosen = list(dict.fromkeys(chosen))
    if not chosen:
        err_console.print("no stored video matches the selection: nothing to do")
        return
    # A provider's prompt version may read Prefect Variables: configure Prefect first.
    start_prefect(background_server=True)
    # With --text or --speech the words given may change, so a stored analysis is asked again.
    plan = make_plan(warehouse, chosen, chain, model, refresh or text or speech)
    console.print(plan_table(plan, chain))
    todo = [p for p in plan if not p.stored]
    total = sum(p.estimate.cost_usd for p in todo)
    if estimate:
        return
    if not todo:
        err_console.print("every selected analysis is stored already (--refresh redoes them)")
        return
    if total > 0 and not yes:
        typer.confirm(f"Spend up to ${total:.4f} on {len(todo)} analyses?", abort=True)
    settle_dead_runs()
    failed = run_plan(todo, chain, model, refresh, notion, text, speech)
    if failed:
        raise typer.Exit(1)


def make_plan(
    warehouse: Warehouse, video_ids: list[str], chain: str, model: str | None, refresh: bool
) -> list[Planned]:
    """Each video's planned work, estimated by the chain's first provider (no call is made)."""
    # lazy: the probe's PyAV, grouping's scipy, the warehouse's DuckDB; keeps `adref --help` fast
    from adref.grouping import is_short_form
    from adref.sources.probe import probe_video
    from adref.warehouse.reanalysis import load_request

    name = chain_names(chain)[0]  # an unknown name in the chain fails here, before any run
    first, language = get_provider(name), get_settings().output_language
    plan: list[Planned] = []
    for vid in video_ids:
        request = load_request(
            warehouse,
            vid,
            probe=probe_video,
            short_form=is_short_form,
            output_language=language,
            model=model,
        )
        est = first.estimate(request)
        planned = analysis_id(vid, name, est.model, first.prompt_version(request))
        stored = not refresh and warehouse.has_video(vid, planned)
        plan.append(Planned(vid, request.meta.title or "", est, stored))
    return plan


def plan_table(plan: list[Planned], chain: str) -> Table:
    table = Table(
        title=f"Re-analysis plan ({escape(chain)})", title_justify="left", header_style="bold"
    )
    for name in ("video", "title", "provider", "model", "calls", "images"):
        table.add_column(name, overflow="fold")
    for name in ("tokens in", "tokens out", "cost"):
        table.add_column(name, justify="right")
    table.add_column("note")
    for p in plan:
        e = p.estimate
        table.add_row(
            escape(p.video_id),
            escape(p.title[:40]),
            *estimate_cells(e),
            "stored already: skipped" if p.stored else "",
        )
    todo = [p.estimate for p in plan if not p.stored]
    table.add_section()
    table.add_row(
        f"total: {len(todo)} to analyse",
        "",
        "",
        "",
        str(sum(e.calls for e in todo)),
        str(sum(e.images for e in todo)),
        f"{sum(e.tokens_in for e in todo):,}",
        f"{sum(e.tokens_out for e in todo):,}",
        f"${sum(e.cost_usd for e in todo):.4f}",
        "",
        style="bold",
    )
    return table


class _Line:
    """Shows one video's stages on its own progress line."""

    def __init__(self, bars: Progress, task_id: TaskID) -> None:
        self.bars, self.task_id = bars, task_id

    def __call__(self, event: progress.Event) -> None:
        if event.status == "start":
            self.bars.update(self.task_id, status=f"{event.stage}…")
        elif event.status == "failed":
            self.bars.update(self.task_id, status=f"[red]{event.stage} failed[/]")


def run_plan(
    todo: list[Planned],
    chain: str,
    model: str | None,
    refresh: bool,
    notion: bool | None = None,
    text: bool = False,
    speech: bool = False,
) -> int:
    """One flow run per video, one after another; returns how many failed."""
    # lazy: imports Prefect, which reads its settings once, so only after start_prefect()
    from adref.flows.reanalyze import reanalyze_video

    bars = Progress(
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
    results = Table(title="Re-analysed", title_justify="left", header_style="bold")
    for name in ("video", "analysis", "provider / model", "genre", "cache", "time", "result"):
        results.add_column(name, overflow="fold")
    failed = 0
    notes: list[tuple[str, str]] = []  # (video, note): what the chain or the Notion step said
    with bars, prefect_env.in_process_run():
        for p in todo:
            task_id = bars.add_task(escape(p.video_id), status="waiting", start=False)
        for task_id, p in zip(bars.task_ids, todo, strict=True):
            bars.start_task(task_id)
            progress.set_listener(_Line(bars, task_id))
            started = time.perf_counter()
            try:
                s = reanalyze_video(
                    video_id=p.video_id,
                    provider=chain,
                    model=model,
                    refresh=refresh,
                    notion=notion,
                    text=text,
                    speech=speech,
                )
            except Exception as exc:
                failed += 1
                message = escape(_one_line(exc))
                bars.update(task_id, status=f"[red]failed[/] {message}")
                results.add_row(
                    escape(p.video_id),
                    "",
                    escape(chain),
                    "",
                    "",
                    _secs(started),
                    f"[red]failed[/] {message}",
                )
                continue
            finally:
                progress.set_listener(None)
                bars.stop_task(task_id)
            notes += [(p.video_id, note) for note in s.notes]
            cache = f"{s.cache_hits}/{s.tasks} cached"
            used = escape(f"{s.provider} / {s.model}")
            bars.update(task_id, status=f"[green]done[/] {used}, {cache}")
            results.add_row(
                escape(p.video_id),
                escape(s.analysis_id or ""),
                used,
                escape(s.genre or "—"),
                cache,
                f"{s.total_s:.1f} s",
                "[green]completed[/]",
            )
    console.print(results)
    for said in noted(notes):
        err_console.print(f"[yellow]note:[/] {escape(said)}", highlight=False)
    console.print(
        'compare them: adref sql "select video_id, provider, model, prompt_version, genre '
        'from analyses order by video_id"',
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    return failed


def noted(notes: list[tuple[str, str]]) -> list[str]:
    """Each note once, with the videos that made it: what every run says alike (no speech
    engine configured) is one line, not one a video."""
    by_note: dict[str, list[str]] = {}
    for video_id, note in notes:
        by_note.setdefault(note, []).append(video_id)
    lines = []
    for note, ids in by_note.items():
        if len(ids) == 1:
            lines.append(note if ids[0] in note else f"{ids[0]}: {note}")
        else:
            more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
            lines.append(f"{len(ids)} videos ({', '.join(ids[:3])}{more}): {note}")
    return lines


def _secs(started: float) -> str:
    return f"{time.perf_counter() - started:.1f} s"


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, AdrefError):
        return exc.one_line()
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first}"
