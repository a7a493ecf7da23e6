"""Keyframes and kept videos, served from ``<warehouse>/media/`` or the media bucket, nothing else.

Tornado's ``StaticFileHandler`` does what a player needs (HTTP Range requests, so Chromium can
seek, and conditional GETs), but its own check compares paths without following links. Here the
requested file's real path (links followed) must lie inside the media folder's real path, and no
part of the requested path may be hidden (``.name.tmp`` is a file being written). ``../``,
absolute and percent-encoded paths are caught the same way: Tornado decodes the path first.
The handler also asks the server's auth provider, so media is no more public than the pages.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from typing import Any

from bokeh.server.views.auth_request_handler import AuthRequestHandler
from tornado import web

from adref.warehouse.media_store import (
    CHUNK,
    MEDIA,
    BucketMedia,
    LocalMedia,
    MediaStore,
    MediaUnreachable,
    is_media_path,
)

ROUTE = r"/media/(.*)"


class MediaHandler(AuthRequestHandler, web.StaticFileHandler):
    async def get(self, path: str, include_body: bool = True) -> None:
        if not self.current_user:
            raise web.HTTPError(403)
        await super().get(path, include_body)

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        if "\0" in absolute_path:  # no file has one; the path functions would raise
            raise web.HTTPError(404)
        real_root = os.path.realpath(root)
        real = os.path.realpath(absolute_path)
        relative = os.path.relpath(real, real_root)
        requested = os.path.relpath(absolute_path, os.path.abspath(root))
        if (
            os.path.isabs(relative)
            or relative == os.curdir
            or relative.split(os.sep)[0] == os.pardir
            or any(part.startswith(".") for part in requested.split(os.sep))
        ):
            raise web.HTTPError(403)
        if not os.path.isfile(real):
            raise web.HTTPError(404)
        return real

    def compute_etag(self) -> str | None:
        """Size and modification time: a re-analysed video's keyframe of the same name changes
        its tag (Tornado's default hashes the content once and keeps it for the process)."""
        stat = os.stat(self.absolute_path) if self.absolute_path else None
        return None if stat is None else f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


class BucketMediaHandler(AuthRequestHandler, web.RequestHandler):
    """Media from the bucket (``ADREF_MEDIA_PATH``), with what a player and a browser's cache
    need: Range requests (206, so a video seeks), ETag and Last-Modified (304), HEAD. The
    bucket is read off the IOLoop's thread, a chunk at a time, so a long video neither blocks
    other requests nor sits whole in memory. A bucket that does not answer is a 503 with one
    short line (which names the prefix, never a key)."""

    store: BucketMedia

    def initialize(self, store: BucketMedia) -> None:
        self.store = store

    async def head(self, path: str) -> None:
        await self._serve(path, include_body=False)

    async def get(self, path: str) -> None:
        await self._serve(path, include_body=True)

    async def _serve(self, path: str, include_body: bool) -> None:
        if not self.current_user:
            raise web.HTTPError(403)
        rel = f"{MEDIA}/{path}"
        if not is_media_path(rel):
            raise web.HTTPError(403)
        try:
            found = await asyncio.to_thread(self.store.info, rel)
        except MediaUnreachable as exc:
            self._unavailable(exc)
            return
        if found is None:
            raise web.HTTPError(404)
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Etag", found.etag)
        self.set_header("Last-Modified", found.modified)
        self.set_header("Content-Type", mimetypes.guess_type(rel)[0] or "application/octet-stream")
        self.set_header("Cache-Control", "no-cache")
        if self.request.headers.get("If-None-Match", "") == found.etag:
            self.set_status(304)
            return
        try:
            span = _range(self.request.headers.get("Range"), found.size)
        except ValueError:
            self.set_status(416)
            self.set_header("Content-Range", f"bytes */{found.size}")
            return
        start, end = span or (0, found.size)
        if span is not None:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {start}-{end - 1}/{found.size}")
        self.set_header("Content-Length", end - start)
        if not include_body:
            return
        at = start
        while at < end:
            try:
                chunk = await asyncio.to_thread(
                    self.store.read_range, rel, at, min(CHUNK, end - at)
                )
            except (MediaUnreachable, FileNotFoundError):
                return  # headers are sent: the short body tells the client it was cut
            if not chunk:
                return
            self.write(chunk)
            await self.flush()
            at += len(chunk)

    def _unavailable(self, exc: MediaUnreachable) -> None:
        self.set_status(503)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Retry-After", "30")
        self.finish(f"media unavailable: {exc.what}\n")


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range as (start, end exclusive); None for the whole file (no header, or one
    this handler does not serve in parts); ValueError for a range it cannot satisfy."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header.removeprefix("bytes=").strip().partition("-")
    if not (first or last).isdigit() or (first and last and not last.isdigit()):
        return None
    if first == "":
        length = int(last)
        if length <= 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise ValueError("range past the end")
    return start, end


Route = tuple[str, type[web.RequestHandler], dict[str, Any]]


def routes(store: MediaStore) -> list[Route]:
    """Tornado routes serving the media store at ``/media/`` (Panel's ``extra_patterns``)."""
    if isinstance(store, BucketMedia):
        return [(ROUTE, BucketMediaHandler, {"store": store})]
    if isinstance(store, LocalMedia):
        return [(ROUTE, MediaHandler, {"path": str(store.root / MEDIA)})]
    raise TypeError(f"no route for {type(store).__name__}")
