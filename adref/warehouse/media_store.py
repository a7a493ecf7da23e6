"""Where keyframes and playable copies live: the warehouse folder, or an ``s3://`` prefix.

Tables name media by a path relative to the warehouse root (``media/keyframes/<id>/0000.jpg``),
and that name is the same in either store: a local warehouse keeps the file at
``<root>/<name>``, a bucket at ``<prefix><name>``. So existing warehouses keep working, and
moving media is copying names. With workers on several machines (``ADREF_MEDIA_PATH``), a keyframe
one worker writes is what every viewer, export and re-analysis elsewhere reads.

Every write is whole or absent. Locally a file is written beside its target and renamed. In a
bucket one upload is one whole object (S3 shows an object only once its upload completes, be it
one PUT or pyarrow's multipart upload); a large file (a video copy) is streamed to a hidden
``.uploads/<uuid>`` key first, its size checked, and then copied server-side to its name, so an
upload that fails halfway, or a source that fails mid-stream (pyarrow completes an upload when
its stream is closed), never shows under the name. Writing the same bytes again lands on the
same name.

Names are checked before anything is touched: only paths under ``media/``, relative, without
``..``, backslashes or hidden parts (a ``.name`` is a file being written) are ever read or
removed, whatever a row says.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import NamedTuple, TypeGuard

from pyarrow import fs as pafs

from adref import bucket
from adref.errors import InputError, WarehouseError
from adref.settings import Settings, resolved

MEDIA = "media"
CHUNK = 1 << 20
LARGE = 8 << 20  # bytes: a file this big goes through a hidden upload key, then a copy


class MediaUnreachable(WarehouseError):
    """The media bucket did not answer; retryable, as the same call works once it does."""

    retryable = True


class MediaInfo(NamedTuple):
    size: int
    modified: datetime  # UTC

    @property
    def etag(self) -> str:
        """Size and modification time: a file written again under its name changes its tag."""
        return f'"{int(self.modified.timestamp() * 1e6):x}-{self.size:x}"'


def is_media_path(rel: object) -> TypeGuard[str]:
    """Whether ``rel`` names something under ``media/`` and nothing outside it or hidden."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\0" in rel or rel.startswith("/"):
        return False
    parts = rel.split("/")
    return (
        len(parts) >= 2
        and parts[0] == MEDIA
        and all(p and p not in (".", "..") and not p.startswith(".") for p in parts)
    )


def checked(rel: str) -> str:
    if not is_media_path(rel):
        raise InputError(f"refused media path {rel!r}", "only names under media/ are stored")
    return rel


class MediaStore(ABC):
    """One place holding media by name: the primitives every reader and writer uses."""

    where: str  # said in messages and part of the persist cache key; never a secret

    def prepare(self) -> None:  # noqa: B027 (most stores need nothing made)
        """Make whatever must exist before the first write."""

    @abstractmethod
    def put_bytes(self, rel: str, data: bytes) -> None: ...

    @abstractmethod
    def put_file(self, rel: str, src: Path, *, link: bool = False) -> None:
        """Store a copy of ``src``; with ``link``, a file only adref writes (a download, a
        file it made) may be hard-linked instead, where the store can."""

    @abstractmethod
    def info(self, rel: str) -> MediaInfo | None:
        """Size and time of the named file, or None if there is none."""
        ...

    @abstractmethod
    def read_range(self, rel: str, start: int, length: int) -> bytes: ...

    @abstractmethod
    def read_bytes(self, rel: str) -> bytes: ...

    @abstractmethod
    def local_file(self, rel: str) -> Path:
        """A file on this machine holding the named one (a download, for a bucket)."""
        ...

    @abstractmethod
    def remove(self, rels: Iterable[str]) -> list[str]:
        """Remove files, and folders with all they hold; returns the names that existed."""
        ...

    @abstractmethod
    def names(self) -> Iterator[str]:
        """Every stored file's name (for copying a store into another)."""
        ...

    @abstractmethod
    def sweep(self, older_than_s: float) -> int:
        """Remove what writes that never finished left (a process killed mid-write) once it
        is this old (a younger one may be a write in progress); returns how many."""
        ...

    def scratch(self) -> tempfile.TemporaryDirectory[str]:
        """A private temporary folder for a file about to be stored (a transcode)."""
        return tempfile.TemporaryDirectory(prefix=".adref-media-")

    def exists(self, rel: str) -> bool:
        return self.info(rel) is not None


class LocalMedia(MediaStore):
    """Media under ``<root>/media/`` on this machine (the embedded default)."""

    def __init__(self, root: Path) -> None:
        self.root = resolved(Path(root))
        self.where = str(self.root / MEDIA)

    def path(self, rel: str) -> Path:
        return self.root / checked(rel)

    def prepare(self) -> None:
        for folder in ("keyframes", "videos"):
            (self.root / MEDIA / folder).mkdir(parents=True, exist_ok=True)

    def put_bytes(self, rel: str, data: bytes) -> None:
        target = self.path(rel)
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _beside(target)
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def put_file(self, rel: str, src: Path, *, link: bool = False) -> None:
        # Never a link to a user's file: one rewritten in place (an export over the same name)
        # would change the stored copy with it.
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _beside(target)
        try:
            try:
                if not link:
                    raise OSError("a copy was asked for")
                os.link(src, tmp)
            except OSError:  # asked, another file system, or links not allowed: copy
                shutil.copyfile(src, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def info(self, rel: str) -> MediaInfo | None:
        path = self.path(rel)
        real, media = path.resolve(), (self.root / MEDIA).resolve()
        if not real.is_relative_to(media) or not real.is_file():
            return None
        stat = real.stat()
        return MediaInfo(stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    def read_range(self, rel: str, start: int, length: int) -> bytes:
        with open(self._existing(rel), "rb") as f:
            f.seek(start)
            return f.read(length)

    def read_bytes(self, rel: str) -> bytes:
        return self._existing(rel).read_bytes()

    def local_file(self, rel: str) -> Path:
        return self._existing(rel)

    def _existing(self, rel: str) -> Path:
        if self.info(rel) is None:
            raise FileNotFoundError(rel)
        return self.path(rel).resolve()

    def remove(self, rels: Iterable[str]) -> list[str]:
        media = (self.root / MEDIA).resolve()
        inside = {
            path: rel for rel in rels if (path := self.path(rel)).resolve().is_relative_to(media)
        }
        return [inside[path] for path in remove_paths(list(inside))]

    def names(self) -> Iterator[str]:
        media = self.root / MEDIA
        for path in sorted(media.rglob("*")):
            rel = path.relative_to(self.root).as_posix()
            if path.is_file() and is_media_path(rel):
                yield rel

    def sweep(self, older_than_s: float) -> int:
        """Hidden files written beside their targets, and transcoding folders."""
        media, cutoff, removed = self.root / MEDIA, time.time() - older_than_s, 0
        if not media.is_dir():
            return 0
        for path in sorted(media.rglob(".*"), reverse=True):  # a folder's files before it
            with contextlib.suppress(FileNotFoundError):
                if path.lstat().st_mtime >= cutoff:
                    continue
                if path.is_dir() and not path.is_symlink() and path.name.startswith(".scratch-"):
                    shutil.rmtree(path, ignore_errors=True)
                    removed += 1
                elif path.is_file() and path.name.endswith(".tmp"):
                    path.unlink()
                    removed += 1
        return removed

    def scratch(self) -> tempfile.TemporaryDirectory[str]:
        """Inside the media folder (hidden), so the finished file is linked, not copied."""
        folder = self.root / MEDIA
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(prefix=".scratch-", dir=folder)


class BucketMedia(MediaStore):
    """Media as objects under ``s3://bucket/prefix/``, shared by every machine."""

    def __init__(
        self, path: str, filesystem: pafs.S3FileSystem, cache: Path, large: int = LARGE
    ) -> None:
        self.bucket, self.prefix = bucket.split(path)
        self.where = f"s3://{self.bucket}/{self.prefix}"
        self.fs, self.cache, self.large = filesystem, cache, large

    def key(self, rel: str) -> str:
        """The object's pyarrow path (``bucket/prefix/media/...``); refuses escaping names."""
        return f"{self.bucket}/{self.prefix}{checked(rel)}"

    def put_bytes(self, rel: str, data: bytes) -> None:
        key = self.key(rel)
        with self._reaching("write", rel), self.fs.open_output_stream(key) as out:
            out.write(data)

    def put_file(self, rel: str, src: Path, *, link: bool = False) -> None:
        size = Path(src).stat().st_size
        if size <= self.large:
            self.put_bytes(rel, Path(src).read_bytes())
            return
        with open(src, "rb") as f:
            self.put_chunks(rel, iter(lambda: f.read(CHUNK), b""), size)

    def put_chunks(self, rel: str, chunks: Iterable[bytes], size: int | None = None) -> None:
        """Stream to a hidden upload key, check it is whole, copy it to its name, drop it."""
        key = self.key(rel)
        upload = f"{self.bucket}/{self.prefix}.uploads/{uuid.uuid4().hex}"
        try:
            written = 0
            with self._reaching("write", rel):
                out = self.fs.open_output_stream(upload)
            try:
                for chunk in chunks:  # the source's own errors stay its own
                    with self._reaching("write", rel):
                        out.write(chunk)
                    written += len(chunk)
            finally:
                with self._reaching("write", rel):
                    out.close()
            with self._reaching("write", rel):
                landed = self.fs.get_file_info(upload)
                if landed.size != written or (size is not None and written != size):
                    raise MediaUnreachable(
                        f"cannot store {rel} in {self.where}",
                        f"the upload holds {landed.size} of {size or written} bytes",
                    )
                self.fs.copy_file(upload, key)
        finally:
            # already gone, or the bucket is down: then an orphan under a hidden key nobody reads
            with contextlib.suppress(OSError):
                self.fs.delete_file(upload)

    def info(self, rel: str) -> MediaInfo | None:
        with self._reaching("read", rel):
            found = self.fs.get_file_info(self.key(rel))
        if found.type != pafs.FileType.File:
            return None
        modified = found.mtime or datetime.fromtimestamp(0, UTC)
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)
        return MediaInfo(int(found.size or 0), modified)

    def read_range(self, rel: str, start: int, length: int) -> bytes:
        with self._reaching("read", rel), self.fs.open_input_file(self.key(rel)) as f:
            return bytes(f.read_at(length, start))

    def read_bytes(self, rel: str) -> bytes:
        with self._reaching("read", rel), self.fs.open_input_stream(self.key(rel)) as f:
            return bytes(f.read())

    def local_file(self, rel: str) -> Path:
        """Downloaded into the cache folder once (again when the object's size or time
        changes), written beside and renamed, so a half download is never used."""
        found = self.info(rel)
        if found is None:
            raise FileNotFoundError(rel)
        target = self.cache / found.etag.strip('"') / PurePosixPath(rel).name
        if target.is_file() and target.stat().st_size == found.size:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _beside(target)
        try:
            with (
                self._reaching("read", rel),
                self.fs.open_input_stream(self.key(rel)) as f,
                open(tmp, "wb") as out,
            ):
                while chunk := f.read(CHUNK):
                    out.write(chunk)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def remove(self, rels: Iterable[str]) -> list[str]:
        """Objects, or every object under a folder's name. pyarrow then leaves an empty marker
        for the parent folder (``media/keyframes/``), which names no video."""
        removed = []
        for rel in rels:
            key = self.key(rel)
            with self._reaching("remove", rel):
                found = self.fs.get_file_info(key)
                if found.type == pafs.FileType.File:
                    self.fs.delete_file(key)
                    removed.append(rel)
                elif found.type == pafs.FileType.Directory:
                    self.fs.delete_dir(key)
                    removed.append(rel)
        return removed

    def names(self) -> Iterator[str]:
        base = f"{self.bucket}/{self.prefix}"
        with self._reaching("list", MEDIA):
            found = self.fs.get_file_info(
                pafs.FileSelector(base + MEDIA, recursive=True, allow_not_found=True)
            )
        for item in sorted(found, key=lambda i: i.path):
            rel = item.path.removeprefix(base)
            if item.type == pafs.FileType.File and is_media_path(rel):
                yield rel

    def sweep(self, older_than_s: float) -> int:
        """Objects under the hidden ``.uploads/`` key whose copy to a name never happened."""
        uploads = f"{self.bucket}/{self.prefix}.uploads"
        cutoff = datetime.now(UTC).timestamp() - older_than_s
        with self._reaching("list", MEDIA):
            found = self.fs.get_file_info(pafs.FileSelector(uploads, allow_not_found=True))
        stale = [
            item.path
            for item in found
            if item.type == pafs.FileType.File
            and item.mtime is not None
            and item.mtime.replace(tzinfo=item.mtime.tzinfo or UTC).timestamp() < cutoff
        ]
        with self._reaching("remove", MEDIA):
            for key in stale:
                self.fs.delete_file(key)
        return len(stale)

    def scratch(self) -> tempfile.TemporaryDirectory[str]:
        """In the cache folder: a transcode can be larger than the system's temporary space."""
        self.cache.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(prefix=".scratch-", dir=self.cache)

    @contextlib.contextmanager
    def _reaching(self, doing: str, rel: str) -> Iterator[None]:
        """The S3 client's errors (but a missing object's) as one line naming the prefix."""
        try:
            yield
        except (FileNotFoundError, InputError, WarehouseError):
            raise
        except OSError as exc:
            raise MediaUnreachable(
                f"cannot {doing} media in the bucket {self.where}",
                _reason(str(exc)),
                "Nothing was committed: run again once the bucket answers"
                if doing == "write"
                else "Try again once the bucket answers",
            ) from None


def _reason(message: str) -> str:
    """The S3 client's error, short: its last clause, on one line."""
    line = " ".join(message.split())
    if "AWS Error" in line:
        line = line[line.rindex("AWS Error") :]
    return line[:240]


def remove_paths(paths: list[Path]) -> list[Path]:
    """Remove files and folders (a link itself, never what it points to); returns those that
    existed."""
    removed = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        elif path.exists() or path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _beside(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")


def media_store(settings: Settings, root: Path | None = None) -> MediaStore:
    """The store the settings name: ``ADREF_MEDIA_PATH``'s prefix, else the warehouse folder."""
    if settings.media_path is None:
        return LocalMedia(root or settings.warehouse)
    return BucketMedia(settings.media_path, bucket.filesystem(settings), settings.cache_dir / MEDIA)
