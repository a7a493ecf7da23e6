"""``adref sql``: query the warehouse read-only, as a table, CSV or JSON lines, or interactively."""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from adref.cli.app import app, console, err_console, fail
from adref.cli.plain import escape
from adref.errors import AdrefError
from adref.settings import get_settings

if TYPE_CHECKING:
    # lazy: for the annotations only; DuckDB is imported when a query runs
    import duckdb

    from adref.warehouse.read import Result

MAX_TABLE_ROWS = 1000
MAX_CELL = 80
HELP = (
    "End a statement with ';'. Dot commands: .tables (list tables), .help, .quit. "
    "Columns are described in docs/warehouse.md."
)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command()
def sql(
    query: Annotated[
        str | None, typer.Argument(help="SQL to run; omit it for an interactive prompt.")
    ] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="table, csv (with a header) or json (lines)."),
    ] = OutputFormat.table,
    attach_line: Annotated[
        bool,
        typer.Option("--attach-line", help="Print one line of SQL that opens it in DuckDB."),
    ] = False,
) -> None:
    """Query the warehouse read-only (tables: videos, shots, scene_groups, analyses, ...)."""
    # lazy: DuckDB and PyArrow, for this command only; keeps `adref --help` fast
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.read import open_reader

    warehouse = Warehouse.of(get_settings())
    try:
        if attach_line:
            sys.stdout.write(warehouse.attach_line() + "\n")
            if needs := warehouse.attach_needs():
                err_console.print(
                    f"The line reads {escape(' and '.join(needs))} from the environment "
                    "(the DuckDB shell's getenv): set them where you run it.",
                    highlight=False,
                )
            return
        con = open_reader(warehouse)
    except AdrefError as exc:
        raise fail(exc.one_line()) from None
    with contextlib.closing(con):
        if query is not None:
            try:
                run(con, query, fmt)
            except AdrefError as exc:
                raise fail(exc.one_line()) from None
        else:
            failures = prompt(con, fmt)
            if failures and not sys.stdin.isatty():
                raise typer.Exit(1)


def run(con: duckdb.DuckDBPyConnection, sql_text: str, fmt: OutputFormat) -> None:
    from adref.warehouse.read import execute, read_statements  # lazy: as above

    for statement in read_statements(sql_text):
        result = execute(con, statement)
        if result is not None:
            emit(result, fmt)


def emit(result: Result, fmt: OutputFormat) -> None:
    from adref.warehouse.read import as_text, jsonable  # lazy: as above

    if fmt is OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        for batch in result.batches:
            writer.writerows([as_text(v) for v in row] for row in batch)
    elif fmt is OutputFormat.json:
        for batch in result.batches:
            for row in batch:
                record = {c: jsonable(v) for c, v in zip(result.columns, row, strict=True)}
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        console.print(rich_table(result, console.width), soft_wrap=False)


def rich_table(result: Result, width: int = 200) -> Table:
    """Rows as a table; rows as records (a column and its value a line, as psql's expanded
    display) when the columns cannot each get a readable width (``select * from shots``)."""
    rows: list[list[str]] = []
    hidden = 0
    for batch in result.batches:
        for row in batch:
            if len(rows) >= MAX_TABLE_ROWS:
                hidden += 1
                continue
            rows.append([_cell(v) for v in row])
    caption = f"{len(rows)} row{'s' if len(rows) != 1 else ''}" + (
        f" shown, {hidden} more (use --format csv or json for all)" if hidden else ""
    )
    readable = sum(min(max(len(c), 4), _READABLE) + 3 for c in result.columns)
    if not rows and readable > width:
        names = Table(show_edge=False, show_header=False, caption=caption, box=None)
        names.add_column(overflow="fold")
        names.add_row("[dim]columns:[/] " + escape(", ".join(result.columns)))
        return names
    if readable <= width:
        table = Table(show_edge=False, header_style="bold", caption=caption, min_width=len(caption))
        for name in result.columns:
            table.add_column(escape(name), overflow="fold")
        for cells in rows:
            table.add_row(*cells)
        return table
    records = Table(show_edge=False, show_header=False, caption=caption, box=None)
    records.add_column(style="bold", no_wrap=True)
    records.add_column(overflow="fold")
    for number, cells in enumerate(rows, 1):
        records.add_row(f"[dim]── row {number}[/]", "", end_section=False)
        for name, cell in zip(result.columns, cells, strict=True):
            records.add_row(escape(name), cell)
    return records


_READABLE = 12  # characters a column needs before a table of them is worth reading


def _cell(value: object) -> str:
    from adref.warehouse.read import as_text  # lazy: as above (loaded by then: a dict lookup)

    if value is None:
        return "[dim]NULL[/]"
    text = f"{value:.6g}" if isinstance(value, float) else as_text(value)
    text = text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
    return escape(text)


def prompt(con: duckdb.DuckDBPyConnection, fmt: OutputFormat) -> int:
    """Read statements until EOF or ``.quit``; return how many failed."""
    tty = sys.stdin.isatty()
    if tty:
        err_console.print(f"adref sql: read-only. {HELP}", highlight=False)
    buffer: list[str] = []
    failures = 0

    def submit(text: str) -> None:
        nonlocal failures
        try:
            run(con, text, fmt)
        except AdrefError as exc:
            failures += 1
            err_console.print(
                f"[bold red]error:[/] {escape(exc.one_line())}", highlight=False, soft_wrap=True
            )

    while True:
        line = _read_line("adref> " if not buffer else "   ..> ", tty)
        if line is None:
            break
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            command = stripped.split()[0].lower()
            if command in (".quit", ".exit", ".q"):
                break
            if command == ".tables":
                submit("SHOW TABLES")
            elif command == ".help":
                err_console.print(HELP, highlight=False)
            else:
                failures += 1
                err_console.print(f"[bold red]error:[/] unknown command {escape(command)}. {HELP}")
            continue
        buffer.append(line)
        if stripped.endswith(";"):
            submit("\n".join(buffer))
            buffer = []
    if "".join(buffer).strip():
        submit("\n".join(buffer))
    return failures


def _read_line(text: str, tty: bool) -> str | None:
    if tty:
        try:
            return input(text)
        except EOFError:
            return None
    line = sys.stdin.readline()
    return None if line == "" else line.rstrip("\n")
