"""What every warehouse connection is built from: DuckDB with its extensions, offline.

The DuckLake extension and the catalog's and storage's (SQLite or PostgreSQL scanner, httpfs) ship
inside pip packages; they are loaded from there by absolute path with autoinstall and autoload
off, so nothing is ever downloaded at run time. Which ones a warehouse needs: ``location``.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import duckdb

from adref.errors import WarehouseError

ALIAS = "adref"  # the name the lake is attached under, so tables answer to adref.<table> too
_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_verified: set[Path] = set()


@lru_cache(maxsize=8)
def extension_file(module: str, name: str) -> Path:
    """An extension file shipped inside its pip package (e.g. ``duckdb_extension_fts``)."""
    try:
        package = __import__(module)
    except ImportError as exc:
        raise WarehouseError(
            "DuckDB extension missing", f"package {module} is not installed", "run `uv sync`"
        ) from exc
    path = next(Path(str(package.__file__)).parent.rglob(name), None)
    if path is None:
        raise WarehouseError("DuckDB extension missing", f"{name} not inside {module}")
    return path.resolve()


def connect_with(
    extensions: tuple[Path, ...], path: Path | str = ":memory:", *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with these extension files loaded, offline.

    DuckDB checks an extension's signature by hashing the whole file (~70 MB for the lake's two,
    ~0.4 s). The first load of a file in a process does that check; later connections load the
    same, already verified files without repeating it.
    """
    config: dict[str, str | bool | int | float | list[str]] = dict(_CONFIG)
    if _verified.issuperset(extensions):
        config["allow_unsigned_extensions"] = True
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    try:
        for file in extensions:
            con.execute(f"LOAD {sql_str(file)}")
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(
            "cannot load the DuckDB extensions", str(exc), "run `uv sync`"
        ) from exc
    _verified.update(extensions)
    return con


def sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@contextlib.contextmanager
def file_lock(path: Path, timeout_s: float) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` if it can be had within ``timeout_s``; yield whether held.

    Only an optimisation for processes on one machine (they queue instead of colliding in
    SQLite); correctness never depends on it, so a lock that cannot be had is waited out, not
    obeyed forever.
    """
    path.parent.mkdir(parents=True, exist_ok=True)  # a machine new to a shared catalog
    with open(path, "a") as handle:
        deadline = time.monotonic() + timeout_s
        held = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)
