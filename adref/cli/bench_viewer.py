"""``adref bench viewer``: Enter in the search box to the first page on screen, in Chromium."""

from __future__ import annotations

import typer
from rich.table import Table

from adref.cli.app import bench_app, console, fail
from adref.cli.plain import escape
from adref.errors import AdrefError
from adref.settings import get_settings


@bench_app.command("viewer")
def bench_viewer(
    rounds: int = typer.Option(10, "--rounds", "-n", min=2, help="Searches of each word."),
) -> None:
    """Time from Enter to the first page of results in a real browser, beside the server time
    of the same search, on the warehouse in use (the demo's after `make demo`)."""
    from adref.bench.viewer import TARGET_MS, run_viewer_bench  # lazy: keeps `adref --help` fast

    settings = get_settings()
    try:
        with console.status("benchmarking the viewer in Chromium ..."):
            b = run_viewer_bench(settings, rounds)
    except AdrefError as exc:
        raise fail(exc.one_line()) from None
    table = Table(
        title=f"viewer search: {escape(repr(b.word))} ({b.results} found) and a word that finds "
        f"nothing, {b.rounds} rounds",
        caption=f"target: first page on screen <= {TARGET_MS:.0f} ms after Enter",
    )
    for name in ("", "p50 ms", "p95 ms", ""):
        table.add_column(name, justify="right" if "ms" in name else "left")
    ok = "[green]within[/]" if b.browser_p95_ms <= TARGET_MS else "[red]over[/]"
    table.add_row("Enter -> page shown", f"{b.browser_p50_ms:.0f}", f"{b.browser_p95_ms:.0f}", ok)
    table.add_row("search() alone", f"{b.server_p50_ms:.1f}", f"{b.server_p95_ms:.1f}", "")
    console.print(table)
    console.print(
        f"the browser round trip is {b.browser_p50_ms / max(b.server_p50_ms, 1e-9):.1f}x the "
        "server's search time (medians)"
    )
