"""The index on disk: generations of immutable files, and one small manifest naming the current.

``<warehouse>/search/current.json`` names the text database (``text-*.duckdb``) and the shot
segments (``seg-*/``) of the current generation, with each segment's dead videos. A refresh
writes new files beside the old ones and then replaces the manifest with ``os.replace``, so a
reader sees the old generation or the new one, never half of either, and never waits: DuckDB
lets many processes read a file that nobody writes, and nobody writes a published file. Files
of generations older than the previous one are deleted; a reader that loses the race re-reads
the manifest once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb

from adref.search import engine
from adref.search.segments import Segment

FOLDER = "search"
MANIFEST = "current.json"
LOCK = ".refresh.lock"
MEMO_SIZE = 256
# The index's layout: an index of another format is rebuilt whole by the next refresh.
# 2: the ``screen`` table (words read on screen, per shot).
# 3: ``line_terms`` and ``quotes`` (words read on screen and said, per line, and each line).
FORMAT = 4  # 4: mood and tag keys (a tag's spellings are one value)
T = TypeVar("T")


def folder(root: Path) -> Path:
    return root / FOLDER


@dataclass(frozen=True)
class SegmentRef:
    name: str
    dead: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Manifest:
    generation: int
    token: str  # unique per generation: readers cache on it
    text: str
    segments: tuple[SegmentRef, ...] = ()
    text_bytes_at_build: int = 0
    previous: tuple[str, ...] = ()  # the previous generation's files, kept for its readers
    identity: str = ""  # the warehouse's: a recreated warehouse gets a new index
    snapshot: int = 0  # the DuckLake snapshot this generation reflects
    format: int = FORMAT

    def files(self) -> set[str]:
        return {self.text, *(s.name for s in self.segments)}

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "generation": self.generation,
            "token": self.token,
            "text": self.text,
            "segments": [{"name": s.name, "dead": sorted(s.dead)} for s in self.segments],
            "text_bytes_at_build": self.text_bytes_at_build,
            "previous": list(self.previous),
            "identity": self.identity,
            "snapshot": self.snapshot,
            "format": self.format,
        }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        d = json.loads(text)
        return cls(
            generation=int(d["generation"]),
            token=str(d["token"]),
            text=str(d["text"]),
            segments=tuple(SegmentRef(s["name"], frozenset(s["dead"])) for s in d["segments"]),
            text_bytes_at_build=int(d.get("text_bytes_at_build", 0)),
            previous=tuple(d.get("previous", ())),
            identity=str(d.get("identity", "")),
            snapshot=int(d.get("snapshot", 0)),
            format=int(d.get("format", 1)),
        )


def read_manifest(root: Path) -> Manifest | None:
    try:
        return Manifest.from_json((folder(root) / MANIFEST).read_text())
    except FileNotFoundError:
        return None


def publish(root: Path, manifest: Manifest) -> None:
    target = folder(root) / MANIFEST
    tmp = target.with_name(f".{MANIFEST}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(manifest.to_json())
    os.replace(tmp, target)
    _clean(root, manifest)


def new_name(prefix: str, generation: int, suffix: str = "") -> str:
    return f"{prefix}-{generation:08d}-{uuid.uuid4().hex[:8]}{suffix}"


def _clean(root: Path, manifest: Manifest) -> None:
    keep = manifest.files() | set(manifest.previous) | {MANIFEST, LOCK}
    for path in folder(root).iterdir():
        if path.name in keep or not path.name.startswith(("text-", "seg-", ".")):
            continue
        if path.name.startswith(".") and not path.name.endswith(".tmp"):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def refresh_lock(root: Path) -> Iterator[None]:
    """One refresh at a time per warehouse on this machine (others queue, readers never do)."""
    path = folder(root)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Opened:
    """One generation, opened for reading: its text database and its segments."""

    manifest: Manifest
    con: duckdb.DuckDBPyConnection
    segments: list[tuple[Segment, frozenset[str]]] = field(default_factory=list)
    memo: OrderedDict[str, Any] = field(default_factory=OrderedDict)  # answers of this generation

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()

    def remembered(self, key: str, make: Callable[[], T]) -> T:
        """``make()``, remembered for this generation (whose files never change): facet counts
        are the same on every page of a query, and for colour or likeness without filters."""
        with _LOCK:
            if key in self.memo:
                self.memo.move_to_end(key)
                return cast(T, self.memo[key])
        value = make()
        with _LOCK:
            self.memo[key] = value
            while len(self.memo) > MEMO_SIZE:
                self.memo.popitem(last=False)
        return value


_OPENED: dict[Path, Opened] = {}
_SEGMENTS: dict[Path, Segment] = {}
_LOCK = threading.Lock()


def opened(root: Path) -> Opened | None:
    """The current generation, opened once per process and generation (None if no index)."""
    for attempt in range(2):
        manifest = read_manifest(root)
        if manifest is None:
            return None
        with _LOCK:
            current = _OPENED.get(root)
            if current is not None and current.manifest.token == manifest.token:
                return current
        try:
            fresh = _open(root, manifest)
        except (duckdb.IOException, FileNotFoundError):
            if attempt:
                raise
            continue  # a refresh deleted it between our manifest read and the open
        with _LOCK:
            _OPENED[root] = fresh  # the old one closes when its last cursor goes
        return fresh
    return None


def _open(root: Path, manifest: Manifest) -> Opened:
    base = folder(root)
    con = engine.connect(base / manifest.text, read_only=True)
    segments = []
    for ref in manifest.segments:
        path = base / ref.name
        with _LOCK:
            seg = _SEGMENTS.get(path)
            if seg is None:
                seg = _SEGMENTS[path] = Segment(path)
        seg.array("video")  # map the files now, while they surely exist
        segments.append((seg, ref.dead))
    with _LOCK:
        live = {base / ref.name for ref in manifest.segments}
        for path in [p for p in _SEGMENTS if p.parent == base and p not in live]:
            del _SEGMENTS[path]
    return Opened(manifest, con, segments)
