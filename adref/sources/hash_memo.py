"""Content hashes remembered per file, so an hourly ingest of a large folder reads each file once.

A file's identity is the sha256 of its bytes (``hashing``), and reading a folder of ads to hash
them every hour costs minutes of disk. A file whose path, size, modification time (in
nanoseconds), inode and device are all unchanged is taken to hold the same bytes: the test
rsync and make trust. A file changed in place and given its old modification time back would
fool it; nothing adref is meant to watch does that, and ``adref clean --all`` or deleting the
memo file starts over.

The memo is a SQLite file in the cache folder: readers and writers in several processes (five
flow runs on one worker) each commit one row at a time, and a memo that cannot be read or
written is skipped, never an error: hashing again is always correct.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from adref.settings import Settings
from adref.sources.hashing import sha256_file

__all__ = ["HashMemo", "hash_memo"]

_SCHEMA = """CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ino INTEGER, dev INTEGER,
    sha256 TEXT NOT NULL)"""


def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev


class HashMemo:
    def __init__(self, db: Path) -> None:
        self.db = db

    def sha256(self, path: Path) -> str:
        """The file's hex sha256, from the memo while the file is unchanged."""
        key = str(path.resolve())
        before = _stamp(path.stat())
        known = self._lookup(key)
        if known is not None and known[0] == before:
            return known[1]
        digest = sha256_file(path)
        if _stamp(path.stat()) == before:  # a file still being written is not remembered
            self._remember(key, before, digest)
        return digest

    def _connect(self) -> sqlite3.Connection:
        self.db.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.db, timeout=10)
        conn.execute(_SCHEMA)
        return conn

    def _lookup(self, key: str) -> tuple[tuple[int, int, int, int], str] | None:
        with contextlib.suppress(sqlite3.Error, OSError, UnicodeError):
            conn = self._connect()
            try:
                row = conn.execute(
                    "SELECT size, mtime_ns, ino, dev, sha256 FROM file_hashes WHERE path = ?",
                    (key,),
                ).fetchone()
            finally:
                conn.close()
            if row is not None:
                return (row[0], row[1], row[2], row[3]), row[4]
        return None

    def _remember(self, key: str, stamp: tuple[int, int, int, int], digest: str) -> None:
        with contextlib.suppress(sqlite3.Error, OSError, UnicodeError):
            conn = self._connect()
            try:
                with conn:
                    conn.execute(
                        "INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?, ?, ?)",
                        (key, *stamp, digest),
                    )
            finally:
                conn.close()


def hash_memo(settings: Settings) -> HashMemo:
    return HashMemo(settings.cache_dir / "file-hashes.sqlite")
