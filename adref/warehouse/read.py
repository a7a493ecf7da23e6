"""Queries from people (``adref sql``, an analyst): read-only, whatever the SQL says.

Three locks, each enough for the common case and together for the odd one: statements other than
reads are refused before they run; the lake is attached ``READ_ONLY``; and the connection may
touch no file outside the warehouse's catalog and data, with its configuration locked, so a query
can neither attach the catalog again for writing nor write files elsewhere.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from adref.errors import InputError, WarehouseError
from adref.warehouse.catalog import Warehouse
from adref.warehouse.engine import sql_str

ST = duckdb.StatementType
READ_STATEMENTS = frozenset({ST.SELECT, ST.EXPLAIN, ST.PRAGMA, ST.CALL, ST.TRANSACTION})
BATCH_ROWS = 1000
# DuckLake's upkeep functions write Parquet files before they find the catalog read-only,
# ``query()`` runs SQL from a string, and the PostgreSQL scanner's functions run SQL in a shared
# catalog; refuse them by name.
_WRITING_CALLS = re.compile(
    r"(?<![\w$])(?:ducklake_)?(?:merge_adjacent_files|rewrite_data_files|cleanup_old_files"
    r"|delete_orphaned_files|expire_snapshots|flush_inlined_data|add_data_files|set_option"
    r"|set_commit_message|checkpoint)(?![\w$])"
    r"|(?<![\w$])postgres_(?:execute|query|attach)(?![\w$])"
    r"|(?<![\w$])query(?:_table)?\s*\"?\s*\(",
    re.IGNORECASE,
)
_INSTALL = re.compile(r"\s*(?:force\s+)?install\b", re.IGNORECASE)


def error_line(exc: BaseException) -> str:
    """DuckDB's message up to its SQL excerpt, on one line."""
    head = str(exc).split("\n\n", 1)[0]
    return " ".join(part.strip() for part in head.splitlines() if part.strip())


def read_statements(sql: str) -> list[str]:
    """Split ``sql`` into statements, refusing any that is not a read."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InputError("bad SQL", error_line(exc)) from exc
    if not statements:
        raise InputError("no SQL statement given")
    for st in statements:
        refused = f"{_kind(st)} statements" if st.type not in READ_STATEMENTS else None
        if refused is None and (found := _WRITING_CALLS.search(st.query)):
            refused = found.group(0).rstrip('"( ').lower()
        if refused:
            raise InputError(
                f"{refused} not allowed",
                "the warehouse is opened read-only",
                "Query it with SELECT, DESCRIBE, SHOW or SUMMARIZE",
            )
    return [st.query for st in statements]


def _kind(st: duckdb.Statement) -> str:
    """DuckDB's type of a statement, except that INSTALL is named as such (DuckDB counts it a
    LOAD, and a user who typed INSTALL should read INSTALL)."""
    if st.type.name == "LOAD" and _INSTALL.match(st.query):
        return "INSTALL"
    return st.type.name


def open_reader(wh: Warehouse) -> duckdb.DuckDBPyConnection:
    """A read-only connection sandboxed to the warehouse's own files."""
    con = wh.connect(read_only=True, fresh=True)
    catalog = wh.location.sqlite_file
    files = [f"{catalog}{s}" for s in ("", "-wal", "-shm")] if catalog is not None else []
    allowed_files = ", ".join(sql_str(f) for f in files)
    try:
        con.execute(f"SET allowed_directories = [{sql_str(wh.location.data_path)}]")
        con.execute(f"SET allowed_paths = [{allowed_files}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError("cannot open the warehouse read-only", error_line(exc)) from exc
    return con


def video_rows(con: duckdb.DuckDBPyConnection, sql: str, video_id: str) -> list[dict[str, Any]]:
    """The rows a query about one video (``$v``) returns, as dicts of column to value."""
    cur = con.execute(sql, {"v": video_id})
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@dataclass
class Result:
    columns: list[str]
    types: list[str]
    batches: Iterator[list[tuple[Any, ...]]]


def execute(con: duckdb.DuckDBPyConnection, statement: str) -> Result | None:
    """Run one statement; None when it returns no table (``BEGIN``, ``COMMIT``)."""
    try:
        con.execute(statement)
    except duckdb.Error as exc:
        raise InputError("query failed", error_line(exc)) from exc
    if con.description is None:
        return None
    columns = [d[0] for d in con.description]
    types = [str(d[1]) for d in con.description]

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        while True:
            try:
                rows = con.fetchmany(BATCH_ROWS)
            except duckdb.Error as exc:
                raise InputError("query failed", error_line(exc)) from exc
            if not rows:
                return
            yield rows

    return Result(columns, types, batches())


def jsonable(value: Any) -> Any:
    """A value as JSON can hold it: times as ISO text, bytes as base64, NaN as null."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def as_text(value: Any) -> str:
    """A value in one CSV cell: scalars plainly, nested values as JSON, NULL as empty."""
    value = jsonable(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
