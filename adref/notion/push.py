"""Publish a video or a moodboard to the Notion database: create its page, or update the one it has.

The page id is kept in the warehouse (``notion_pages``) as soon as the page exists, so a push
that fails half-way still updates that page next time instead of making a second one. A page
deleted or archived (moved to the trash) in Notion is made again. An update rewrites the
properties and replaces the body (its blocks deleted, the new ones appended), so the page
shows what adref holds now, a person's corrections included.

Each page also says which item it shows (the ``adref ID`` property: the video id, or
``moodboard:<id>``), because the warehouse can miss a page that exists: Notion may run a create
and still answer 5xx, or the answer may be lost. So a create is never simply sent again: after
such a failure the data source is queried for the item's page, and a page found is the create's
answer: Notion makes a page with the properties and the blocks sent with it in one request, so
it has the first blocks, and the rest are appended as after any create. And before a first create the same query
runs, so a page left by a push that gave up (or died before noting the page) is adopted and
updated like a known one, its body rewritten since nobody knows how much of it was written.

Keyframes are uploaded with Notion's file upload API (create, send, then an image block that
names the upload), unless the viewer has a public address (``ADREF_VIEWER_URL`` not on
loopback or a private network): then the image blocks link to the viewer's media, and nothing
is uploaded.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

from adref.errors import InputError
from adref.notion import shape
from adref.notion.client import NotionAPI, NotionNotFound
from adref.notion.config import NotionConfig, require_config
from adref.notion.pages import PageContent, Part, Picture, board_page, picture_bytes, video_page
from adref.notion.setup import ID_PROPERTY, Schema, ensure_schema
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from adref.warehouse.corrections import effective
from adref.warehouse.detail import video_view
from adref.warehouse.media_store import is_media_path
from adref.warehouse.moodboards import read_board
from adref.warehouse.notion_pages import Kind, page_of, remember_page


@dataclass(frozen=True)
class Pushed:
    kind: Kind
    item_id: str
    page_id: str
    url: str | None
    created: bool  # a new page (first push, or the old one was deleted or archived)


def item_key(kind: Kind, item_id: str) -> str:
    """What the page's ``adref ID`` holds: a video's id as is, a moodboard's prefixed."""
    return item_id if kind == "video" else f"{kind}:{item_id}"


def public_viewer(viewer_url: str) -> bool:
    """Whether people reading Notion can reach the viewer: not loopback, not a private network."""
    host = (urlsplit(viewer_url).hostname or "").lower()
    if not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: the address people were given
    return ip.is_global


class Publisher:
    """One Notion session: its client, the database's schema (read once), the warehouse."""

    def __init__(
        self, settings: Settings, config: NotionConfig | None = None, api: NotionAPI | None = None
    ) -> None:
        self.settings = settings
        self.config = config or require_config(settings)
        self.api = api or self.config.api()
        self.wh = Warehouse.of(settings)
        self.link_images = public_viewer(settings.viewer_url)
        self._schema: Schema | None = None

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.api.close()

    @property
    def schema(self) -> Schema:
        if self._schema is None:
            self._schema = ensure_schema(self.api, self.config.database_id)
        return self._schema

    def video(self, video_id: str) -> Pushed:
        view = video_view(self.wh, video_id) if self.wh.exists() else None
        if view is None:
            raise InputError(f"no video {video_id} in the warehouse")
        content = video_page(
            view,
            effective(self.wh, video_id),
            self.settings.viewer_url,
            self.settings.output_language,
        )
        return self._publish("video", video_id, content)

    def board(self, board_id: str) -> Pushed:
        if not self.wh.exists():
            raise InputError(f"no moodboard {board_id}", "there is no warehouse yet")
        return self._publish(
            "moodboard",
            board_id,
            board_page(read_board(self.wh, board_id), self.settings.viewer_url),
        )

    # -- one page ------------------------------------------------------------------------

    def _publish(self, kind: Kind, item_id: str, content: PageContent) -> Pushed:
        schema, sdk, database = self.schema, self.api.sdk, self.config.database_id
        key = item_key(kind, item_id)
        mine = content.properties | {ID_PROPERTY: shape.text_value(key)}
        properties = {schema.title_property: shape.title_value(content.title)} | {
            name: value for name, value in mine.items() if schema.writable(name)
        }
        page_id = self._live_page(kind, item_id)
        if page_id is None and (left := self._find_page(key)) is not None:
            page_id = str(left["id"])  # one the warehouse missed: adopted, then updated in full
        blocks = self._blocks(content)
        if page_id is None:
            first, rest = blocks[: shape.MAX_BLOCKS], blocks[shape.MAX_BLOCKS :]
            page = self.api.call(
                "page create",
                sdk.pages.create,
                parent={"type": "data_source_id", "data_source_id": schema.data_source_id},
                properties=properties,
                children=first,
                found=lambda: self._find_page(key),
            )
            page_id, url = str(page["id"]), page.get("url")
            remember_page(self.wh, kind, item_id, database, page_id, url)
            self._append(page_id, rest)
            return Pushed(kind, item_id, page_id, url, created=True)
        page = self.api.call("page update", sdk.pages.update, page_id, properties=properties)
        self._clear(page_id)
        self._append(page_id, blocks)
        remember_page(self.wh, kind, item_id, database, page_id, page.get("url"))
        return Pushed(kind, item_id, page_id, page.get("url"), created=False)

    def _live_page(self, kind: Kind, item_id: str) -> str | None:
        """The item's page if it still exists and is not archived or in the trash."""
        known = page_of(self.wh, kind, item_id, self.config.database_id)
        if known is None:
            return None
        try:
            page = self.api.call("page retrieve", self.api.sdk.pages.retrieve, known.page_id)
        except NotionNotFound:
            return None
        if page.get("archived") or page.get("in_trash"):
            return None
        return known.page_id

    def _find_page(self, key: str) -> dict[str, Any] | None:
        """The live page whose ``adref ID`` is ``key`` (the oldest, should there be several),
        or None; always None when the database's ``adref ID`` is not ours to read."""
        schema = self.schema
        if not schema.writable(ID_PROPERTY):
            return None
        listed = self.api.call(
            "page lookup",
            self.api.sdk.data_sources.query,
            schema.data_source_id,
            filter={"property": ID_PROPERTY, "rich_text": {"equals": key}},
            sorts=[{"timestamp": "created_time", "direction": "ascending"}],
            page_size=10,
        )
        pages = [
            p
            for p in listed.get("results") or []
            if p.get("object") == "page" and not (p.get("archived") or p.get("in_trash"))
        ]
        if not pages:
            return None
        return pages[0]

    def _clear(self, page_id: str) -> None:
        sdk, cursor, children = self.api.sdk, None, []
        while True:
            kwargs: dict[str, Any] = {"page_size": 100} | (
                {"start_cursor": cursor} if cursor else {}
            )
            listed = self.api.call(
                "block children list", sdk.blocks.children.list, page_id, **kwargs
            )
            children += [str(b["id"]) for b in listed.get("results") or []]
            cursor = listed.get("next_cursor")
            if not listed.get("has_more") or not cursor:
                break
        for block_id in children:
            try:
                self.api.call("block delete", sdk.blocks.delete, block_id)
            except NotionNotFound:
                continue  # deleted meanwhile: the goal is reached

    def _append(self, page_id: str, blocks: list[dict[str, Any]]) -> None:
        for chunk in shape.chunked(blocks):
            self.api.call(
                "block children append",
                self.api.sdk.blocks.children.append,
                page_id,
                children=list(chunk),
            )

    # -- pictures ------------------------------------------------------------------------

    def _blocks(self, content: PageContent) -> list[dict[str, Any]]:
        blocks = [self._resolve(part) for part in content.body]
        for row in content.grid:
            cells = [[self._resolve(picture), *caption] for picture, caption in row]
            while len(cells) < 2:  # Notion's columns come two or more to a row
                cells.append(
                    [{"object": "block", "type": "paragraph", "paragraph": {"rich_text": []}}]
                )
            blocks.append(shape.columns(cells))
        return blocks

    def _resolve(self, part: Part) -> dict[str, Any]:
        if not isinstance(part, Picture):
            return part
        missing = shape.paragraphs("(keyframe missing)")[0]
        if not is_media_path(part.path) or not self.wh.media.exists(part.path):
            return missing
        if self.link_images:  # Notion fetches it from the viewer: only its existence matters
            url = f"{self.settings.viewer_url.rstrip('/')}/{quote(part.path)}"
            return shape.image_linked(url, part.caption)
        data = picture_bytes(self.wh.media, part)
        if data is None:
            return missing
        name = part.path.rsplit("/", 1)[-1]
        return shape.image_uploaded(self._upload(name, data), part.caption)

    def _upload(self, name: str, data: bytes) -> str:
        uploads = self.api.sdk.file_uploads
        made = self.api.call(
            "file upload create",
            uploads.create,
            mode="single_part",
            filename=name,
            content_type="image/jpeg",
        )
        upload_id = str(made["id"])
        self.api.call("file upload send", uploads.send, upload_id, file=(name, data, "image/jpeg"))
        return upload_id
