"""The memo of file hashes: a file is read again only when its stamp changed, and a broken memo
costs a re-read, never a wrong id or an error."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from adref.ingest.expand import expand_sources
from adref.ingest.watchlist import parse_watchlist
from adref.settings import Settings
from adref.sources.hash_memo import HashMemo, hash_memo
from adref.sources.hashing import sha256_file


def _write(path: Path, data: bytes, mtime_ns: int | None = None) -> None:
    path.write_bytes(data)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    memo = HashMemo(tmp_path / "memo.sqlite")
    video = tmp_path / "ad.mp4"
    _write(video, b"first" * 1000, mtime_ns=1_700_000_000_000_000_000)
    first = memo.sha256(video)
    assert first == sha256_file(video)
    # Same size and modification time, other bytes: only a memo that did not read the file
    # still answers the first hash (the documented limit of trusting a file's stamp).
    _write(video, b"FIRST" * 1000, mtime_ns=1_700_000_000_000_000_000)
    assert memo.sha256(video) == first
    os.utime(video, ns=(1_700_000_000_000_000_001, 1_700_000_000_000_000_001))
    assert memo.sha256(video) == sha256_file(video) != first


def test_a_changed_size_or_a_replaced_file_is_hashed_again(tmp_path: Path) -> None:
    memo = HashMemo(tmp_path / "memo.sqlite")
    video = tmp_path / "ad.mp4"
    _write(video, b"a" * 100, mtime_ns=10**18)
    memo.sha256(video)
    _write(video, b"a" * 101, mtime_ns=10**18)
    assert memo.sha256(video) == sha256_file(video)
    other = tmp_path / "other.mp4"
    _write(other, b"b" * 101, mtime_ns=10**18)
    other.replace(video)  # same size and time, another inode
    assert memo.sha256(video) == sha256_file(video)


def test_a_broken_memo_is_skipped(tmp_path: Path) -> None:
    db = tmp_path / "memo.sqlite"
    db.write_bytes(b"not a database" * 100)
    video = tmp_path / "ad.mp4"
    video.write_bytes(b"x" * 10)
    assert HashMemo(db).sha256(video) == sha256_file(video)
    unwritable = HashMemo(tmp_path / "file" / "memo.sqlite")
    (tmp_path / "file").write_text("a file where the memo's folder should be")
    assert unwritable.sha256(video) == sha256_file(video)


def test_ingest_remembers_the_hashes_of_a_folder(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", ingest_settle_s=0.01)  # type: ignore[call-arg]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("a.mp4", "b.mov"):
        (inbox / name).write_bytes(name.encode() * 500)
    watch = parse_watchlist(f"sources:\n  - {{folder: {inbox}}}\n", "list.yaml")
    ids = sorted(f.video_id or "" for f in expand_sources(watch, settings).found)
    assert ids == sorted(f"sha256:{sha256_file(inbox / n)}" for n in ("a.mp4", "b.mov"))
    db = hash_memo(settings).db
    with sqlite3.connect(db) as conn:
        remembered = dict(conn.execute("SELECT path, sha256 FROM file_hashes").fetchall())
    assert remembered == {
        str((inbox / n).resolve()): sha256_file(inbox / n) for n in ("a.mp4", "b.mov")
    }
    again = sorted(f.video_id or "" for f in expand_sources(watch, settings).found)
    assert again == ids
