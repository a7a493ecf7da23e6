"""What ``adref clean`` may prune from the caches, and pruning it.

The caches hold only what a run can make again: Prefect's result storage (one file per task
cache key), the download cache (one folder per video) and kept copies fetched from the media
bucket for a re-analysis (one folder per object version). Removing an entry only means that
stage is recomputed, or the video downloaded again, next time. Entries go by age (last used
longer ago than a number of days) and then, oldest first, until the caches together fit under
a size cap. An entry used in the last few minutes may belong to a running flow and is never
removed; nor is anything that is, holds or lies inside a protected folder (the warehouse, the
input folders, Prefect's database), wherever settings point them. Links are never followed:
a link inside a cache is itself an entry, and removing it removes the link only.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from adref.settings import Settings

RECENT_S = 600.0
"""Entries used this recently are left alone: a running flow may be reading or writing them."""

Reason = Literal["age", "size"]


@dataclass(frozen=True)
class Entry:
    cache: str
    path: Path
    size: int
    last_used: float  # epoch seconds


@dataclass(frozen=True)
class Policy:
    keep_s: float
    max_bytes: int
    now: float
    recent_s: float = RECENT_S


@dataclass
class Plan:
    remove: list[tuple[Entry, Reason]] = field(default_factory=list)
    keep: list[Entry] = field(default_factory=list)


def cache_folders(settings: Settings) -> dict[str, Path]:
    """The caches by name. Prefect's storage is adref's default (``prefect_env``), not a
    ``PREFECT_LOCAL_STORAGE_PATH`` a user set: a folder of theirs is theirs to manage."""
    return {
        "results": settings.prefect_home / "storage",
        "downloads": settings.cache_dir / "downloads",
        "media": settings.cache_dir / "media",  # kept copies fetched from ADREF_MEDIA_PATH
    }


def protected_paths(settings: Settings, prefect_home: str | None = None) -> list[Path]:
    """Folders and files no cache entry may be, hold or sit inside, even when settings place
    them under a cache folder."""
    homes = {settings.prefect_home, *([Path(prefect_home)] if prefect_home else [])}
    paths = [settings.warehouse, settings.work_dir, *settings.input_folders]
    paths += [
        home / name for home in homes for name in ("prefect.db", "prefect.db-wal", "prefect.db-shm")
    ]
    return [Path(os.path.realpath(path)) for path in paths]


def scan(folders: Mapping[str, Path], protected: Iterable[Path] = ()) -> list[Entry]:
    """Every entry directly inside each cache folder, with its size and last use, links
    included as links; entries overlapping a protected path are left out."""
    guarded = list(protected)
    entries = []
    for cache, folder in folders.items():
        if folder.is_symlink() or not folder.is_dir():
            continue  # a cache folder that is itself a link is never walked into
        real = Path(os.path.realpath(folder))
        if any(path == real or path in real.parents for path in guarded):
            continue  # the cache sits inside a protected folder: a setting gone wrong
        for child in sorted(folder.iterdir()):
            if any(_overlap(real / child.name, path) for path in guarded):
                continue
            measured = measure(child)
            if measured is not None:
                entries.append(Entry(cache, child, *measured))
    return entries


def measure(path: Path) -> tuple[int, float] | None:
    """Bytes removal would free and last use of a file, link or folder, never following a
    link; None if gone.

    A file's last use is the later of its last write and its last read, where the file system
    records reads (``relatime`` does, about daily; ``noatime`` does not, and then it is the last
    write). A folder's or a link's own access time is not used: listing a folder or following a
    link, as this scan may, updates it.
    """
    try:
        st = path.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return _freed(st), _used(st)
    size, last = 0, st.st_mtime
    for root, dirs, files in os.walk(path, followlinks=False):
        for name in dirs + files:
            try:
                inner = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if stat.S_ISDIR(inner.st_mode):
                last = max(last, inner.st_mtime)
            else:
                size += _freed(inner)
                last = max(last, _used(inner))
    return size, last


def _freed(st: os.stat_result) -> int:
    """Bytes removing the file frees: none while another name links to it (the warehouse keeps
    a download it can play as a hard link of the cached file)."""
    return st.st_size if st.st_nlink <= 1 else 0


def _used(st: os.stat_result) -> float:
    if stat.S_ISLNK(st.st_mode):  # following a link, as any walk may, updates its access time
        return st.st_mtime
    return max(st.st_mtime, st.st_atime)


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def plan(entries: Iterable[Entry], policy: Policy) -> Plan:
    """Old entries go; then the least recently used, until the rest fit under the cap. Recent
    ones stay even if that leaves the caches over the cap, and so do those whose removal would
    free nothing."""
    result = Plan()
    kept: list[Entry] = []
    for entry in sorted(entries, key=lambda e: (e.last_used, str(e.path))):
        age = policy.now - entry.last_used
        if age >= policy.recent_s and age > policy.keep_s:
            result.remove.append((entry, "age"))
        else:
            kept.append(entry)
    total = sum(entry.size for entry in kept)
    for entry in kept:
        frees = entry.size > 0 and policy.now - entry.last_used >= policy.recent_s
        if total > policy.max_bytes and frees:
            result.remove.append((entry, "size"))
            total -= entry.size
        else:
            result.keep.append(entry)
    return result


def remove(entries: Iterable[Entry], now: float, recent_s: float = RECENT_S) -> list[Entry]:
    """Remove the entries a plan chose; returns those removed. Each is measured again first, so
    one a run started using since the scan is kept."""
    removed = []
    for entry in entries:
        measured = measure(entry.path)
        if measured is None or now - measured[1] < recent_s:
            continue
        try:
            if entry.path.is_symlink() or not entry.path.is_dir():
                entry.path.unlink()
            else:
                shutil.rmtree(entry.path)  # never follows the links it holds
        except OSError:
            continue
        removed.append(entry)
    return removed


def size_text(n: float) -> str:
    """Bytes as people read them: 512 B, 3.4 MB, 1.2 GB (powers of 1000, as disks are sold)."""
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB"):
        n /= 1000
        if n < 1000:
            return f"{n:.1f} {unit}"
    return f"{n / 1000:.1f} GB"
