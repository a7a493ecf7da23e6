"""The warehouse: a DuckLake whose catalog is SQLite (``<root>/catalog.sqlite``) and whose data is
Parquet (``<root>/data/``), with keyframes and playable videos beside it (``<root>/media/``, or
a bucket prefix: ``media_store``).

Why DuckLake, not per-video Parquet files with views and a manifest. Measured on this 2-core
machine, shared with other work (load 1-6), so read ratios more than seconds:

- One video (videos 1 row, shots 30, scene_groups 30, analyses 1, group_analyses 30): DuckLake
  0.16 s per write on a warm connection (0.36 s for the first, 0.37 s to create a catalog);
  per-video Parquet files 0.05 s.
- 5 writer processes x 5 writes each at once, a reader process in another folder looping over
  the attach line meanwhile: DuckLake kept exactly the right rows every time; 9 s for the 25
  commits with writers queued on a local lock file (each commit ~0.35 s with 6 processes on 2
  cores), 26 s without the queue (every overlapping commit fails and is retried, as writers on
  different machines would). An early prototype without SQLite's WAL mode took twice as long.
  Per-video files took 0.24 s in all, but the reader saw a half-written video in 3 of 12 looks
  (new shots beside the old videos row): five files cannot be replaced at once.
- DuckLake's reader saw 0 half videos in 174 looks: one transaction per video is one snapshot,
  and every query reads one snapshot.

Making the file layout atomic would mean a manifest with versions, snapshots and clean-up: a
home-made table format. DuckLake is that format, already written, with compaction
(``Warehouse.compact``), time travel, and a PostgreSQL catalog plus object storage for scale-out.
The cost is ~0.1-0.3 s per commit, small next to a video's analysis.

With a SQLite catalog, two write transactions that overlap in time conflict whatever they touch
(the later commit's SQLite snapshot is stale: "database is locked"), so writers on one machine
queue on ``.write.lock``; that is only an optimisation, correctness comes from retrying the whole
transaction. Data inlining is off (``data_inlining_row_limit`` 0): every row is in Parquet, where
any DuckLake reader finds it, and the catalog stays small.

Paths are relative to the root: the catalog stores ``data/`` as its data path and every attach
passes the absolute folder with ``OVERRIDE_DATA_PATH``, so a warehouse folder can be moved or
mounted elsewhere. Extensions are loaded from the pip packages by absolute path with autoinstall
and autoload off: nothing is downloaded at run time.

Scale-out is a setting (``Warehouse.of``, see ``location``): the catalog in PostgreSQL and the data
in an ``s3://`` prefix. The code is the same; what changes is that writers on other machines share
no lock file, so every overlapping commit conflicts in DuckLake and is retried whole (the design
above never relied on the lock). adref's own bookkeeping (identity, schema fingerprint) is then a
table ``adref_warehouse`` beside DuckLake's in the same PostgreSQL database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from adref.analysis import Analysis
from adref.errors import WarehouseError, WarehouseUnreachable, interruption
from adref.models import ShotText, SpeechResult, utcnow
from adref.settings import Settings, resolved
from adref.warehouse import schema, write
from adref.warehouse.engine import ALIAS, connect_with, file_lock, sql_str
from adref.warehouse.location import S3_ENV, Location, S3Access
from adref.warehouse.media_store import LocalMedia, MediaStore, media_store
from adref.warehouse.records import RunRecord, RunRow, Sighting, VideoWrite

T = TypeVar("T")
_META_TABLE = "adref_warehouse"
_MAX_INSTANCES = 8
ORPHAN_AGE_S = 86400  # a Parquet file no snapshot names is left over once it is this old
_InstanceKey = tuple[str, str, S3Access | None, bool]
_INSTANCES: dict[_InstanceKey, tuple[tuple[int, int, int], duckdb.DuckDBPyConnection]] = {}
_INSTANCES_LOCK = threading.Lock()
_SHARED_SEEN: set[str] = set()  # PostgreSQL catalogs this process found made: they stay made


log = logging.getLogger(__name__)


class Warehouse:
    """One warehouse folder. Cheap to create: every call opens (and closes) what it needs."""

    def __init__(
        self,
        root: Path,
        *,
        local_lock: bool = True,
        location: Location | None = None,
        media: MediaStore | None = None,
    ) -> None:
        self.root = resolved(Path(root))
        self.local_lock = local_lock
        self.location = location or Location.embedded(self.root)
        self.media = media or LocalMedia(self.root)

    @classmethod
    def of(cls, settings: Settings) -> Warehouse:
        """The warehouse the settings name: its folder, catalog, data path and media store."""
        root = settings.warehouse
        return cls(root, location=Location.of(settings, root), media=media_store(settings, root))

    @property
    def catalog_path(self) -> Path:
        """The SQLite catalog file (the embedded default's; unused with PostgreSQL)."""
        return self.location.sqlite_file or self.root / "catalog.sqlite"

    @property
    def where(self) -> str:
        """The catalog, as said in messages: a file, or PostgreSQL's conninfo (no password)."""
        return str(self.root) if not self.location.shared else self.location.catalog

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def media_dir(self) -> Path:
        return self.root / "media"

    @property
    def write_lock_path(self) -> Path:
        return self.root / ".write.lock"

    def exists(self) -> bool:
        if not self.location.shared:
            return self.catalog_path.is_file()
        if self.location.catalog in _SHARED_SEEN:
            return True
        if self._meta("identity") is None:
            return False
        _SHARED_SEEN.add(self.location.catalog)
        return True

    def init(self) -> None:
        """Create folders, catalog and every table, or add the columns a newer adref defines."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.media.prepare()
        if not self.location.remote_data:
            Path(self.location.data_path).mkdir(parents=True, exist_ok=True)
        if self.exists() and self._meta("schema") == schema.fingerprint():
            return
        with file_lock(self.root / ".init.lock", timeout_s=300):
            if not self.exists():
                self._create_catalog()
            if self._meta("schema") != schema.fingerprint():
                write.run_in_transaction(self, self._create_tables, "adref init")
                self._set_meta("schema", schema.fingerprint())

    def identity(self) -> str:
        """A random id made when the catalog was created: a recreated warehouse gets a new one."""
        value = self._meta("identity") if self.exists() else None
        if value is None:
            raise self._missing()
        return value

    def attach_line(self) -> str:
        """One line of SQL that opens this warehouse read-only in any DuckDB 1.5 client."""
        if not self.exists():
            raise self._missing()
        loads = [f"LOAD {sql_str(file)}; " for file in self.location.extensions()]
        secret = f"{self.location.secret_line()}; " if self.location.s3 is not None else ""
        return f"{''.join(loads)}{secret}{self._attach_sql(read_only=True)}; USE {ALIAS};"

    def attach_needs(self) -> tuple[str, ...]:
        """Environment variables a DuckDB shell needs to run the attach line (read by getenv)."""
        return S3_ENV if self.location.s3 is not None else ()

    def connect(self, read_only: bool = True, *, fresh: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection with the warehouse attached as ``adref`` and selected (bare table names).

        Connections are cursors of one DuckDB instance per process, warehouse and mode, because
        loading the two signed extensions costs ~0.5 s per instance. ``fresh`` gives a private
        instance instead, for callers that change instance-wide settings (the SQL sandbox).
        Close it when done; each connection has its own transactions.
        """
        if fresh:
            return self._open_instance(read_only)
        if self.location.shared:
            stamp = (os.getpid(), 0, 0)
        else:
            try:
                stat = self.catalog_path.stat()
            except FileNotFoundError:
                raise self._missing() from None
            stamp = (os.getpid(), stat.st_dev, stat.st_ino)
        key = (self.location.catalog, self.location.data_path, self.location.s3, read_only)
        with _INSTANCES_LOCK:
            cached = _INSTANCES.get(key)
            if cached is None or cached[0] != stamp:
                cached = (stamp, self._open_instance(read_only))
                _INSTANCES[key] = cached
                while len(_INSTANCES) > _MAX_INSTANCES:
                    _INSTANCES.pop(next(iter(_INSTANCES)))  # its open cursors keep it alive
            cursor = cached[1].cursor()
        try:
            cursor.execute(f"USE {ALIAS}")  # a PostgreSQL catalog is asked for its snapshot here
        except duckdb.Error as exc:
            cursor.close()
            raise self.failure(exc, f"cannot open the warehouse at {self.where}") from exc
        return cursor

    def _open_instance(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if not self.exists():  # ATTACH would create an empty catalog
            raise self._missing()
        con = self.location.open()
        try:
            if not read_only:
                # A write is one video's rows: DuckDB's worker threads only compete for the
                # cores the flow and the Prefect server need.
                con.execute("SET threads = 1")
            con.execute(self._attach_sql(read_only))
            con.execute(f"USE {ALIAS}")
        except duckdb.Error as exc:
            con.close()
            raise self.failure(exc, f"cannot open the warehouse at {self.where}") from exc
        return con

    def failure(self, exc: duckdb.Error, what: str) -> WarehouseError:
        """The error to raise for a statement that failed. DuckDB's text for a PostgreSQL gone
        mid-transaction says nothing of PostgreSQL (``Failed to execute query "ROLLBACK"``), and
        its wording changes between versions, so the catalog is asked whether it answers: only
        on this failure path, where one more connection costs nothing that matters."""
        if self.location.shared:
            try:
                self._shared_meta("identity")
            except WarehouseUnreachable as down:
                return down
        if self.location.remote_data and _unreachable(exc):
            endpoint = self.location.s3.endpoint if self.location.s3 else None
            return WarehouseUnreachable(
                f"cannot reach the warehouse bucket {self.location.data_path}"
                + (f" at {endpoint}" if endpoint else ""),
                f"{what}: {_error_line(exc)}",
                "Nothing was committed: run again once the bucket answers",
            )
        return WarehouseError(what, _error_line(exc))

    def has_video(self, video_id: str, analysis_id: str) -> bool:
        if not self.exists():
            return False
        with contextlib.closing(self.connect(read_only=True)) as con:
            row = con.execute(
                "SELECT EXISTS (SELECT 1 FROM videos WHERE video_id = $v) AND EXISTS "
                "(SELECT 1 FROM analyses WHERE analysis_id = $a AND video_id = $v)",
                {"v": video_id, "a": analysis_id},
            ).fetchone()
        return bool(row and row[0])

    def write_video(self, w: VideoWrite) -> dict[str, Any]:
        """Replace one video's rows and one analysis's rows in a single transaction; returns
        the ``videos`` row as stored (its title is the first source's, see ``write.described``)."""
        return write.write_video(self, w)

    def write_texts(self, video_id: str, texts: list[ShotText]) -> None:
        """Replace the lines read on screen of a stored video, leaving its other rows alone."""
        write.write_texts(self, video_id, texts)

    def write_transcript(self, video_id: str, heard: SpeechResult) -> None:
        """Replace the voice-over transcript of a stored video, leaving its other rows alone."""
        write.write_transcript(self, video_id, heard)

    def write_analysis(self, analysis: Analysis) -> None:
        """Replace one analysis's rows of a stored video, leaving its other analyses alone."""
        write.write_analysis(self, analysis)

    def append_run(self, r: RunRecord, sighting: Sighting | None = None) -> None:
        """Append a run's row and, for a run that reached its video, the source it saw it at."""
        write.append_run(self, r, sighting)

    def transaction(self, fn: Callable[[duckdb.DuckDBPyConnection], T], message: str) -> T:
        """Run ``fn`` in one write transaction, retried from the start on a commit conflict."""
        return write.run_in_transaction(self, fn, message)

    def compact(self, older_than_days: float = 7.0) -> tuple[int, int]:
        """Merge small Parquet files and delete files only snapshots older than this still use,
        and files no snapshot names that are older than a day: what a writer killed before its
        commit left behind (younger ones may belong to a commit still in flight); the same
        for media writes that never finished (``MediaStore.sweep``).

        Returns the number of Parquet files before and after.
        """
        before = self._parquet_files()
        seconds = round(float(older_than_days) * 86400)

        def upkeep(con: duckdb.DuckDBPyConnection) -> None:
            con.execute(f"CALL ducklake_merge_adjacent_files('{ALIAS}')")
            con.execute(
                f"CALL ducklake_expire_snapshots('{ALIAS}', "
                f"older_than => now() - INTERVAL '{seconds} seconds')"
            )

        write.run_in_transaction(self, upkeep, "adref compact")
        with contextlib.closing(self.connect(read_only=False)) as con:
            con.execute(f"CALL ducklake_cleanup_old_files('{ALIAS}', cleanup_all => true)")
            con.execute(
                f"CALL ducklake_delete_orphaned_files('{ALIAS}', "
                f"older_than => now() - INTERVAL '{ORPHAN_AGE_S} seconds')"
            )
        self.media.sweep(ORPHAN_AGE_S)
        return before, self._parquet_files()

    def _parquet_files(self) -> int:
        if not self.location.remote_data:
            return sum(1 for _ in Path(self.location.data_path).rglob("*.parquet"))
        pattern = sql_str(self.location.data_path + "**/*.parquet")
        with contextlib.closing(self.connect(read_only=True)) as con:
            row = con.execute(f"SELECT count(*) FROM glob({pattern})").fetchone()
        return int(row[0]) if row else 0

    def _attach_sql(self, read_only: bool) -> str:
        options = [f"DATA_PATH {sql_str(self.location.data_path)}", "OVERRIDE_DATA_PATH true"]
        if read_only:
            options.insert(0, "READ_ONLY")
        target = sql_str(self.location.attach_target())
        return f"ATTACH {target} AS {ALIAS} ({', '.join(options)})"

    def _create_catalog(self) -> None:
        if self.location.shared:
            self._create_shared_catalog()
        else:
            self._create_sqlite_catalog()

    def _create_shared_catalog(self) -> None:
        """Make DuckLake's tables, then adref's own with the identity last: a catalog counts as
        made (``exists``) only once it is whole. Another machine making it at the same moment
        can make one of the two fail; the second try finds it made."""
        data_path = sql_str(self.location.data_path)
        rows = ", ".join(
            f"('{key}', '{value}')"
            for key, value in (
                ("identity", uuid.uuid4().hex),
                ("created_at", utcnow().isoformat()),
                ("layout", "ducklake-postgres/1"),
            )
        )
        for attempt in (1, 2):
            try:
                with contextlib.closing(self.location.open()) as con:
                    target = sql_str(self.location.attach_target())
                    con.execute(f"ATTACH {target} AS new (DATA_PATH {data_path})")
                    con.execute("CALL new.set_option('data_inlining_row_limit', 0)")
                    con.execute("DETACH new")
                    self._pg_execute(
                        con,
                        f"CREATE TABLE IF NOT EXISTS {_META_TABLE} "
                        "(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                        f"INSERT INTO {_META_TABLE} VALUES {rows} ON CONFLICT (key) DO NOTHING",
                    )
                return
            except duckdb.Error as exc:
                if attempt == 2:
                    raise WarehouseError(
                        f"cannot create a warehouse at {self.where}", _error_line(exc)
                    ) from exc
                time.sleep(1.0)

    def _pg_execute(self, con: duckdb.DuckDBPyConnection, *statements: str) -> None:
        con.execute(f"ATTACH IF NOT EXISTS {sql_str(self._conninfo())} AS meta (TYPE postgres)")
        for statement in statements:
            con.execute(f"CALL postgres_execute('meta', {sql_str(statement)})")

    def _conninfo(self) -> str:
        return self.location.catalog.removeprefix("postgres:")

    def _create_sqlite_catalog(self) -> None:
        """Build the catalog under a temporary name and link it in place, so it appears whole,
        and only once even if the init lock was not had."""
        tmp = self.root / f".catalog-{uuid.uuid4().hex}.sqlite"
        try:
            with contextlib.closing(self.location.open()) as con:
                con.execute(
                    f"ATTACH {sql_str(f'ducklake:sqlite:{tmp}')} AS new (DATA_PATH 'data/')"
                )
                con.execute("CALL new.set_option('data_inlining_row_limit', 0)")
                con.execute("DETACH new")
            with contextlib.closing(sqlite3.connect(tmp, timeout=30)) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(
                    f"CREATE TABLE {_META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                db.executemany(
                    f"INSERT INTO {_META_TABLE} VALUES (?, ?)",
                    [
                        ("identity", uuid.uuid4().hex),
                        ("created_at", utcnow().isoformat()),
                        ("layout", "ducklake-sqlite/1"),
                    ],
                )
                db.commit()
            with contextlib.suppress(FileExistsError):  # another process made it first: use that
                os.link(tmp, self.catalog_path)
        except (duckdb.Error, sqlite3.Error, OSError) as exc:
            raise WarehouseError(f"cannot create a warehouse at {self.root}", str(exc)) from exc
        finally:
            for leftover in (
                tmp,
                tmp.with_name(tmp.name + "-wal"),
                tmp.with_name(tmp.name + "-shm"),
            ):
                leftover.unlink(missing_ok=True)

    def _create_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        rows = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = $db",
            {"db": ALIAS},
        ).fetchall()
        existing: dict[str, set[str]] = {}
        for table, column in rows:
            existing.setdefault(table, set()).add(column)
        for table, columns in schema.TABLES.items():
            if table not in existing:
                con.execute(schema.create_sql(table))
                continue
            for name, col_type in columns.items():
                if name not in existing[table]:
                    con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {col_type.sql}")

    def _meta(self, key: str) -> str | None:
        if self.location.shared:
            return self._shared_meta(key)
        try:
            uri = f"{self.catalog_path.as_uri()}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
                row = db.execute(
                    f"SELECT value FROM {_META_TABLE} WHERE key = ?", (key,)
                ).fetchone()
        except sqlite3.Error as exc:
            raise WarehouseError(
                f"{self.catalog_path} is not an adref warehouse catalog", str(exc)
            ) from exc
        return None if row is None else str(row[0])

    def _shared_meta(self, key: str) -> str | None:
        """Read from PostgreSQL; None when adref's table is not there (no warehouse yet)."""
        present = "SELECT to_regclass('adref_warehouse') IS NOT NULL AS present"
        value = f"SELECT value FROM {_META_TABLE} WHERE key = {sql_str(key)}"
        pg = self.location.extensions()[0]
        try:
            with contextlib.closing(connect_with((pg,))) as con:
                con.execute(
                    f"ATTACH {sql_str(self._conninfo())} AS meta (TYPE postgres, READ_ONLY)"
                )
                found = con.execute(
                    f"SELECT * FROM postgres_query('meta', {sql_str(present)})"
                ).fetchone()
                row = (
                    con.execute(
                        f"SELECT * FROM postgres_query('meta', {sql_str(value)})"
                    ).fetchone()
                    if found and found[0]
                    else None
                )
        except duckdb.Error as exc:
            raise WarehouseUnreachable(
                f"cannot reach the warehouse catalog {self.where}",
                _libpq_reason(exc),
                "Nothing was committed: run again once PostgreSQL answers",
            ) from exc
        return None if row is None or row[0] is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        if self.location.shared:
            upsert = (
                f"INSERT INTO {_META_TABLE} VALUES ({sql_str(key)}, {sql_str(value)}) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
            )
            with contextlib.closing(connect_with(self.location.extensions()[:1])) as con:
                self._pg_execute(con, upsert)
            return
        with contextlib.closing(sqlite3.connect(self.catalog_path, timeout=30)) as db:
            db.execute(f"INSERT OR REPLACE INTO {_META_TABLE} VALUES (?, ?)", (key, value))
            db.commit()

    def _missing(self) -> WarehouseError:
        if self.location.shared:
            return WarehouseError(
                f"no warehouse in {self.where}",
                f"{_META_TABLE} does not exist there",
                "analyse a video first (`adref analyze ...`) or check ADREF_WAREHOUSE_CATALOG",
            )
        return WarehouseError(
            f"no warehouse at {self.root}",
            f"{self.catalog_path.name} does not exist",
            "analyse a video first (`adref analyze ...`) or set ADREF_WAREHOUSE_DIR",
        )


def record_run_row(settings: Settings, row: RunRow) -> bool:
    """Append a run's row (the same run again changes nothing); whether it is in. Bookkeeping:
    a run's own outcome matters more, so a failure is a warning, and the caller keeps the row."""
    try:
        Warehouse.of(settings).append_run(row.record, row.sighting)  # made if missing
    except Exception as exc:
        if (stop := interruption(exc)) is not None:
            raise stop from None
        log.warning("could not record run %s in the warehouse: %s", row.record.run_id, exc)
        return False
    return True


def _error_line(exc: BaseException) -> str:
    """DuckDB's message on one line, without the SQL excerpt it may quote."""
    head = str(exc).split("\n\n", 1)[0]
    return " ".join(part.strip() for part in head.splitlines() if part.strip())


_NO_ANSWER = ("could not connect", "connection refused", "timed out", "could not resolve")


def _unreachable(exc: BaseException) -> bool:
    """An HTTP request of DuckDB's that got no answer at all (a refusal, such as a 403 for
    wrong keys, is an answer: that error stays as DuckDB words it)."""
    line = _error_line(exc).lower()
    return "http" in line and any(words in line for words in _NO_ANSWER)


def _libpq_reason(exc: BaseException) -> str:
    """libpq's own reason, without DuckDB's wrapper that repeats the conninfo the message already
    names; DuckDB's whole line if its wording is not the one known."""
    line = _error_line(exc)
    _, marker, rest = line.partition('Unable to connect to Postgres at "')
    _, quote_end, reason = rest.partition('": ')
    return reason if marker and quote_end and reason else line
