"""DuckDB with the fts extension, loaded offline from its pip package as the warehouse loads its
own (``adref.warehouse.engine.connect_with``): used for its Snowball stemmer."""

from __future__ import annotations

from pathlib import Path

import duckdb

from adref.warehouse.engine import connect_with, extension_file


def fts_extension() -> Path:
    return extension_file("duckdb_extension_fts", "fts.duckdb_extension")


def connect(path: Path | str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to ``path`` with fts loaded; nothing is downloaded. After the first
    load verified the file, a new index generation opens in milliseconds."""
    return connect_with((fts_extension(),), path, read_only=read_only)
