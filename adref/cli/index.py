"""``adref index``: rebuild the search index of an existing warehouse and say what it holds."""

from __future__ import annotations

import typer

from adref.cli.app import app, console, err_console, fail
from adref.cli.plain import escape
from adref.settings import get_settings


@app.command()
def index(
    video_ids: list[str] | None = typer.Argument(
        None, help="Only bring these videos up to date (a deleted one is removed). Default: all."
    ),
) -> None:
    """Rebuild the search index (words, facets, colour, "more like this") from the warehouse."""
    # lazy: DuckDB, PyArrow and NumPy; keeps `adref --help` fast
    from adref.search.index import refresh
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.reanalysis import stored_ids

    settings = get_settings()
    if not Warehouse.of(settings).exists():
        raise fail(
            f"no warehouse at {settings.warehouse}: analyse a video first (`adref analyze ...`) "
            "or set ADREF_WAREHOUSE_DIR"
        )
    with console.status("indexing ..."):
        report = refresh(settings, video_ids or None)
    what = "rebuilt" if report.whole else f"updated {report.updated} video(s)"
    removed = f", removed {report.removed}" if report.removed else ""
    absent = (
        sorted(set(video_ids) - stored_ids(Warehouse.of(settings), video_ids)) if video_ids else []
    )
    if absent:
        err_console.print(
            f"[yellow]not in the warehouse:[/] {escape(', '.join(absent))} (deleted, or a "
            'typo? `adref sql "select video_id, title from videos"` lists them)',
            highlight=False,
        )
    console.print(
        f"search index {what}{removed} in {report.seconds:.2f} s: {report.documents} videos, "
        f"{report.shots} shots (generation {report.generation}, "
        f"{escape(str(settings.warehouse / 'search'))})",
        highlight=False,
    )
