"""Keyframes and kept videos, served from ``<warehouse>/media/`` and nowhere else.

Tornado's ``StaticFileHandler`` does what a player needs (HTTP Range requests, so Chromium can
seek, and conditional GETs), but its own check compares paths without following links. Here the
requested file's real path (links followed) must lie inside the media folder's real path, and no
part of the requested path may be hidden (``.name.tmp`` is a file being written). ``../``,
absolute and percent-encoded paths are caught the same way: Tornado decodes the path first.
The handler also asks the server's auth provider, so media is no more public than the pages.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bokeh.server.views.auth_request_handler import AuthRequestHandler
from tornado import web

ROUTE = r"/media/(.*)"


class MediaHandler(AuthRequestHandler, web.StaticFileHandler):
    async def get(self, path: str, include_body: bool = True) -> None:
        if not self.current_user:
            raise web.HTTPError(403)
        await super().get(path, include_body)

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
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


def routes(media_dir: Path) -> list[tuple[str, type[MediaHandler], dict[str, Any]]]:
    """Tornado routes serving ``media_dir`` at ``/media/`` (Panel's ``extra_patterns``)."""
    return [(ROUTE, MediaHandler, {"path": str(media_dir)})]
