"""Move a local warehouse (SQLite catalog, local Parquet) into another location, e.g. the
scale-out one (PostgreSQL catalog, ``s3://`` data): every table, every row, in one transaction.

The target gets adref's current tables (``Warehouse.init``) and then, in a single DuckLake
transaction, every row of the source's tables (``INSERT ... SELECT`` from the source attached
read-only beside it). A failure rolls that transaction back: the target keeps its tables and no
row. The commit message names the source's identity, so a second run finds its own commit and says
it is done; a target holding any row otherwise is refused. Only the current rows move: the
source's snapshots (time travel) stay behind. Media (keyframes, playable copies) move too when
the target keeps them in a bucket (``ADREF_MEDIA_PATH``): uploaded before the rows' transaction,
so no committed row names a file the bucket lacks; otherwise the media folder stays behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from adref.errors import WarehouseError
from adref.warehouse import schema
from adref.warehouse.catalog import Warehouse
from adref.warehouse.engine import ALIAS, sql_str
from adref.warehouse.media_store import LocalMedia

SOURCE_ALIAS = "adref_source"
MESSAGE = "adref warehouse migrate from "


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target_before: int
    target_after: int

    @property
    def ok(self) -> bool:
        return self.source == self.target_after


@dataclass(frozen=True)
class MediaCopy:
    target: str  # the media store's place, e.g. s3://bucket/media/
    files: int  # the source's media files
    copied: int  # of which this run uploaded (the others were there already)


@dataclass(frozen=True)
class Migration:
    source: str
    target: str
    data_path: str
    already_done: bool  # an earlier run copied this source; nothing was written this time
    tables: tuple[TableCount, ...]
    seconds: float
    media: MediaCopy | None = None  # None when the media stay where they are

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.source for t in self.tables)


def _line(exc: BaseException) -> str:
    """DuckDB's message on one line, without the SQL it may quote."""
    head = str(exc).split("\n\n", 1)[0]
    return " ".join(part.strip() for part in head.splitlines() if part.strip())


def same_place(source: Warehouse, target: Warehouse) -> bool:
    """Whether the target's catalog or data path is the source's."""
    a, b = source.location, target.location
    return a.catalog == b.catalog or _norm(a.data_path) == _norm(b.data_path)


def _norm(path: str) -> str:
    if "://" in path:
        return path.rstrip("/")
    return str(Path(path).resolve())


def counts(con: duckdb.DuckDBPyConnection, alias: str) -> dict[str, int]:
    """Rows in each of adref's tables in the lake attached as ``alias`` (0 for a missing one)."""
    present = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = $db", {"db": alias}
        ).fetchall()
    }
    out = {}
    for table in schema.TABLES:
        if table in present:
            row = con.execute(f"SELECT count(*) FROM {alias}.{table}").fetchone()
            out[table] = int(row[0]) if row else 0
        else:
            out[table] = 0
    return out


def _columns(con: duckdb.DuckDBPyConnection, alias: str, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = $db AND table_name = $t "
        "ORDER BY column_index",
        {"db": alias, "t": table},
    ).fetchall()
    return [str(r[0]) for r in rows]


def _attach_source(con: duckdb.DuckDBPyConnection, source: Warehouse) -> None:
    for file in source.location.extensions():
        con.execute(f"LOAD {sql_str(file)}")
    target = sql_str(source.location.attach_target())
    data = sql_str(source.location.data_path)
    con.execute(
        f"ATTACH {target} AS {SOURCE_ALIAS} (READ_ONLY, DATA_PATH {data}, OVERRIDE_DATA_PATH true)"
    )


def _done_before(con: duckdb.DuckDBPyConnection, message: str) -> bool:
    row = con.execute(
        f"SELECT count(*) FROM ducklake_snapshots('{ALIAS}') WHERE commit_message = $m",
        {"m": message},
    ).fetchone()
    return bool(row and row[0])


def migrate(
    source: Warehouse, target: Warehouse, on_step: Callable[[str], None] = lambda _: None
) -> Migration:
    """Copy every row of ``source`` into ``target`` in one transaction (see the module)."""
    import time

    started = time.perf_counter()
    if same_place(source, target):
        raise WarehouseError(
            "the target is the source warehouse",
            f"both use {source.location.catalog}"
            if source.location.catalog == target.location.catalog
            else f"both keep data in {source.location.data_path}",
            "set ADREF_WAREHOUSE_CATALOG (postgres:...) and ADREF_WAREHOUSE_DATA_PATH "
            "(s3://...) to the new location",
        )
    if not source.exists():
        raise WarehouseError(
            f"no warehouse at {source.root} to migrate",
            f"{source.catalog_path.name} does not exist",
            "give the folder with --from",
        )
    message = MESSAGE + source.identity()
    on_step("counting the source's rows ...")
    with contextlib.closing(source.connect(read_only=True, fresh=True)) as con:
        before_source = counts(con, ALIAS)

    on_step(f"preparing the target {target.where} ...")
    target.init()
    media = copy_media(source, target, on_step)  # before the rows, so no row names a missing file
    con = target.connect(read_only=False, fresh=True)
    try:
        before_target = counts(con, ALIAS)
        already = _done_before(con, message)
        if not already:
            if any(before_target.values()):
                filled = ", ".join(f"{t} {n:,}" for t, n in before_target.items() if n)
                raise WarehouseError(
                    f"the target warehouse {target.where} is not empty",
                    f"it holds rows ({filled})",
                    "migrate into an empty database and data path",
                )
            on_step("copying every table in one transaction ...")
            _copy(con, source, message)
    finally:
        con.close()
    with contextlib.closing(target.connect(read_only=True, fresh=True)) as con:
        after = counts(con, ALIAS)
    if already and after != before_source:
        changed = ", ".join(t for t in schema.TABLES if after[t] != before_source[t])
        raise WarehouseError(
            f"{source.root} was migrated to {target.where} before and has changed since",
            f"rows differ in {changed}; a migration copies a warehouse once",
            "analyse the newer videos again with the new settings, or migrate into an empty target",
        )
    return Migration(
        source=str(source.root),
        target=target.where,
        data_path=target.location.data_path,
        already_done=already,
        tables=tuple(
            TableCount(t, before_source[t], before_target[t], after[t]) for t in schema.TABLES
        ),
        seconds=time.perf_counter() - started,
        media=media,
    )


def copy_media(
    source: Warehouse, target: Warehouse, on_step: Callable[[str], None] = lambda _: None
) -> MediaCopy | None:
    """Every media file of ``source`` into ``target``'s store (``ADREF_MEDIA_PATH``), by the same
    name, each write whole; a file already there with the same size is left. None when both
    warehouses keep media in the same place (nothing to move)."""
    if source.media.where == target.media.where or isinstance(target.media, LocalMedia):
        return None
    names = list(source.media.names())
    copied = 0
    for done, name in enumerate(names, 1):
        on_step(f"copying media to {target.media.where} ({done:,}/{len(names):,}) ...")
        have = target.media.info(name)
        local = source.media.local_file(name)
        if have is not None and have.size == local.stat().st_size:
            continue
        target.media.put_file(name, local)
        copied += 1
    return MediaCopy(target.media.where, len(names), copied)


def _copy(con: duckdb.DuckDBPyConnection, source: Warehouse, message: str) -> None:
    try:
        _attach_source(con, source)
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CALL {ALIAS}.set_commit_message('adref', {sql_str(message)})")
        # Checked again inside the transaction: a writer since the check makes the commit fail.
        if any(counts(con, ALIAS).values()):
            raise WarehouseError("the target warehouse is not empty", "a writer added rows")
        for table in schema.TABLES:
            have = set(_columns(con, SOURCE_ALIAS, table))
            cols = [c for c in _columns(con, ALIAS, table) if c in have]
            if not cols:
                continue
            names = ", ".join(cols)
            con.execute(
                f"INSERT INTO {ALIAS}.{table} ({names}) SELECT {names} FROM {SOURCE_ALIAS}.{table}"
            )
        con.execute("COMMIT")
    except duckdb.Error as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise WarehouseError(
            "the migration failed; the target has no row of it", _line(exc)
        ) from exc
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
