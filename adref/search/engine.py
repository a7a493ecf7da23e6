"""DuckDB with the fts extension, loaded offline from its pip package (as the warehouse loads
its own extensions): used for its Snowball stemmer."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import duckdb

from adref.errors import WarehouseError
from adref.warehouse.engine import sql_str

_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


@lru_cache(maxsize=1)
def fts_extension() -> Path:
    try:
        import duckdb_extension_fts
    except ImportError as exc:
        raise WarehouseError(
            "DuckDB extension missing",
            "package duckdb-extension-fts is not installed",
            "run `uv sync`",
        ) from exc
    found = next(
        Path(str(duckdb_extension_fts.__file__)).parent.rglob("fts.duckdb_extension"), None
    )
    if found is None:
        raise WarehouseError("DuckDB extension missing", "fts.duckdb_extension not in its package")
    return found.resolve()


_verified: Path | None = None


def connect(path: Path | str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to ``path`` with fts loaded; nothing is downloaded.

    As for the warehouse's extensions, the first load in a process checks the file's signature
    (hashing it); later connections load the same, already verified file without the check, so
    a new index generation opens in milliseconds.
    """
    global _verified
    config = dict(_CONFIG)
    if _verified == fts_extension():
        config["allow_unsigned_extensions"] = True
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    try:
        con.execute(f"LOAD {sql_str(fts_extension())}")
        _verified = fts_extension()
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(
            "cannot load DuckDB's fts extension", str(exc), "run `uv sync`"
        ) from exc
    return con
