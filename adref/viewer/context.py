"""What a page is given: one object per browser session, built before the page is.

A page never reads ``pn.state`` or the environment itself: everything it needs is here, so a
page can be built in a test from a plain ``ViewerContext``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlencode

from adref.settings import Settings
from adref.warehouse.catalog import Warehouse


@dataclass(frozen=True)
class ViewerContext:
    settings: Settings
    warehouse: Warehouse
    user: str  # the logged-in user (Panel's ``pn.state.user``), else the OS user or "local"
    params: Mapping[str, str] = field(default_factory=dict)  # the request's query string
    prefix: str = ""  # the server's root path ("" or "/adref"), never with a trailing slash
    app_path: str | None = None  # under `panel serve app.py`: its one route, pages by ?page=

    @property
    def language(self) -> Literal["ko", "en"]:
        return self.settings.output_language

    def param(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name)
        return value if value not in (None, "") else default

    def link(self, page: str, **params: object) -> str:
        """The URL of a page, with its query parameters (None values left out)."""
        query = {k: str(v) for k, v in params.items() if v is not None}
        if self.app_path is not None:
            query = {"page": page, **query}
            path = self.app_path
        else:
            path = f"{self.prefix}/{page}"
        return f"{path}?{urlencode(query, quote_via=quote)}" if query else path

    def media_url(self, path: str | None) -> str | None:
        """The URL of a file the tables name by its path under the warehouse (``media/...``)."""
        if not path:
            return None
        return f"{self.prefix}/{quote(path)}"
