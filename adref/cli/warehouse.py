"""``adref warehouse migrate``: move the local warehouse into the configured scale-out one."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from adref.cli.app import app, console, fail
from adref.cli.plain import escape
from adref.settings import get_settings

warehouse_app = typer.Typer(
    help="Look after the warehouse itself (where it lives).", no_args_is_help=True
)
app.add_typer(warehouse_app, name="warehouse")


@warehouse_app.command("migrate")
def migrate(
    source: Path | None = typer.Option(
        None,
        "--from",
        file_okay=False,
        help="The local warehouse folder to copy. Default: ADREF_WAREHOUSE_DIR's.",
    ),
) -> None:
    """Copy a local warehouse (SQLite catalog + Parquet folder) into the configured catalog and
    data path (ADREF_WAREHOUSE_CATALOG, ADREF_WAREHOUSE_DATA_PATH): every table and row, in one
    transaction. Refuses a target that holds rows; a second run says it is done."""
    # lazy: DuckDB and PyArrow; keeps `adref --help` fast
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.migrate import migrate as run

    settings = get_settings()
    local = Warehouse(source or settings.warehouse)
    target = Warehouse.of(settings)
    with console.status("migrating ...") as status:
        m = run(local, target, on_step=lambda s: status.update(escape(s)))

    console.print(
        f"from [bold]{escape(str(m.source))}[/] (SQLite catalog, local Parquet)\n"
        f"to   [bold]{escape(str(m.target))}[/], data in [bold]{escape(str(m.data_path))}[/]",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(title="rows per table")
    table.add_column("table")
    table.add_column("source", justify="right")
    table.add_column("target before", justify="right")
    table.add_column("target after", justify="right")
    table.add_column("", justify="center")
    for t in m.tables:
        mark = "[green]✓[/]" if t.ok else "[red]✗[/]"
        table.add_row(
            escape(t.table), f"{t.source:,}", f"{t.target_before:,}", f"{t.target_after:,}", mark
        )
    console.print(table)
    if not m.ok:
        bad = ", ".join(t.table for t in m.tables if not t.ok)
        raise fail(f"row counts differ after the migration: {bad}")
    if m.already_done:
        console.print(
            f"already migrated: an earlier run copied this warehouse ({m.rows:,} rows); "
            "nothing written.",
            highlight=False,
        )
    else:
        console.print(
            f"[green]migrated[/] {m.rows:,} rows in one transaction ({m.seconds:.1f} s); "
            "counts match.",
            highlight=False,
        )
    if m.media is not None:
        media = (
            f"Media: {m.media.files:,} file{'' if m.media.files == 1 else 's'} in "
            f"{escape(str(m.media.target))} "
            f"({m.media.copied:,} uploaded by this run)."
        )
    else:
        media = (
            f"Media (keyframes, video copies) stay local in {escape(str(local.media_dir))}: set "
            "ADREF_MEDIA_PATH (s3://...) and run this again to upload them, or copy that folder "
            "to each machine's ADREF_WAREHOUSE_DIR."
        )
    console.print(
        f"{media} The search index is rebuilt from the new warehouse (`adref index`).",
        highlight=False,
        soft_wrap=True,
    )
