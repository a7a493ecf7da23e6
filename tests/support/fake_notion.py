"""Notion's API (Notion-Version 2025-09-03) on loopback: keeps state, checks shapes, fails on cue.

The real ``notion-client`` is pointed at ``base_url``. It speaks the endpoints adref uses:
database and data source retrieve, data source update (properties) and query (by one rich text
property equal to a value; archived pages left out), pages create, retrieve and update, block
children append and list, block delete, and file uploads (create, send). A
request with another ``Notion-Version``, a bad token, or a body Notion would refuse (a comma in
a select option, a rich text over 2,000 characters, more than 100 blocks, an image naming an
upload never sent) gets Notion's own 400/401 error body, and the problem is kept in
``problems`` so a test can say exactly what was wrong. ``fail_next(..., after=True)`` runs the
request and then answers the failure, as Notion does when it fails after doing the work;
``fail_next(DROP, after=True)`` runs it and closes the connection unanswered (a lost answer);
``fail_next(GARBLED)`` answers 200 with a body that is not JSON.

    with FakeNotion(token="secret_x") as notion:
        notion.fail_next(429, count=3, retry_after="0")
        ...
        assert len(notion.live_pages()) == 1
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

VERSION = "2025-09-03"
DROP = 0  # as a failure's status: close the connection without an answer
GARBLED = 1  # as a failure's status: 200 with a body that is not JSON (a proxy's page, cut short)
_PROPERTY_TYPES = {
    "title", "rich_text", "number", "select", "multi_select", "date", "url", "checkbox",
    "people", "files", "email", "phone_number", "status",
}  # fmt: skip


class Problem(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "validation_error") -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass
class Failure:
    status: int
    code: str
    retry_after: str | None = None
    after: bool = False  # the request is executed, then answered with the failure


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class State:
    database_id: str
    data_source_id: str
    properties: dict[str, dict[str, Any]]
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)  # parent id → block ids
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeNotion:
    def __init__(self, token: str = "secret_fake-notion-token", title: str = "Name") -> None:
        self.token = token
        self.state = State(
            database_id=str(uuid.uuid4()),
            data_source_id=str(uuid.uuid4()),
            properties={title: {"id": "title", "name": title, "type": "title", "title": {}}},
        )
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self._failures: deque[tuple[str | None, Failure]] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ---------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        count: int = 1,
        retry_after: str | None = None,
        path_prefix: str | None = None,
        after: bool = False,
    ) -> None:
        """The next ``count`` requests (to paths starting with ``path_prefix``) fail so; with
        ``after`` each is executed first, so the failure hides work that was done."""
        code = {429: "rate_limited", 500: "internal_server_error", 502: "bad_gateway", 503: "service_unavailable", 400: "validation_error"}.get(status, "internal_server_error")  # fmt: skip
        with self._lock:
            for _ in range(count):
                self._failures.append((path_prefix, Failure(status, code, retry_after, after)))

    def archive(self, page_id: str) -> None:
        self.state.pages[page_id]["in_trash"] = True
        self.state.pages[page_id]["archived"] = True

    def live_pages(self) -> list[dict[str, Any]]:
        return [p for p in self.state.pages.values() if not p.get("in_trash")]

    def page_blocks(self, page_id: str) -> list[dict[str, Any]]:
        return [self.state.blocks[b] for b in self.state.children.get(page_id, [])]

    def tree(self, block_id: str) -> list[dict[str, Any]]:
        """Every block under ``block_id``, depth first."""
        out = []
        for b in self.state.children.get(block_id, []):
            out.append(self.state.blocks[b])
            out += self.tree(b)
        return out

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for c in self.calls if c.method == method and re.fullmatch(pattern, c.path))

    # -- life cycle --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeNotion:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- answering ---------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], Any]:
        ctype = headers.get("content-type", "")
        body: Any = None
        if raw and ctype.startswith("application/json"):
            body = json.loads(raw)
        with self._lock:
            self.calls.append(Call(method, path, headers, body))
            failure = self._scripted(path)
            if failure is not None and not failure.after:
                return _failed(failure)
            try:
                if headers.get("notion-version") != VERSION:
                    raise Problem(
                        f"Notion-Version {headers.get('notion-version')!r} is not {VERSION}",
                        400,
                        "missing_version",
                    )
                if headers.get("authorization") != f"Bearer {self.token}":
                    raise Problem("API token is invalid.", 401, "unauthorized")
                answer = self._route(method, path, parse_qs(query), body, raw, ctype)
                return (200, {}, answer) if failure is None else _failed(failure)
            except Problem as p:
                self.problems.append(str(p))
                return p.status, {}, _error(p.status, p.code, str(p))

    def _scripted(self, path: str) -> Failure | None:
        for i, (prefix, failure) in enumerate(self._failures):
            if prefix is None or path.startswith(prefix):
                del self._failures[i]
                return failure
        return None

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, raw: bytes, ctype: str
    ) -> Any:
        s = self.state
        parts = path.removeprefix("/v1/").strip("/").split("/")
        match method, parts:
            case "GET", ["databases", db] if db == s.database_id:
                return {"object": "database", "id": db, "data_sources": [{"id": s.data_source_id, "name": "adref"}]}  # fmt: skip
            case "GET", ["databases", _]:
                raise Problem("Could not find database.", 404, "object_not_found")
            case "GET", ["data_sources", ds] if ds == s.data_source_id:
                return {"object": "data_source", "id": ds, "properties": s.properties}
            case "PATCH", ["data_sources", ds] if ds == s.data_source_id:
                for name, spec in (body.get("properties") or {}).items():
                    kinds = [k for k in spec if k in _PROPERTY_TYPES]
                    if len(kinds) != 1:
                        raise Problem(f"property {name!r} needs exactly one type")
                    s.properties[name] = {"id": name, "name": name, "type": kinds[0], kinds[0]: spec[kinds[0]]}  # fmt: skip
                return {"object": "data_source", "id": ds, "properties": s.properties}
            case "POST", ["data_sources", ds, "query"] if ds == s.data_source_id:
                return self._query(body or {})
            case "POST", ["pages"]:
                return self._create_page(body)
            case "GET", ["pages", pid]:
                return self._page(pid)
            case "PATCH", ["pages", pid]:
                page = self._page(pid)
                if page.get("in_trash"):
                    raise Problem("Can't edit block that is archived.", 400)
                if "archived" in body or "in_trash" in body:
                    page["archived"] = page["in_trash"] = bool(body.get("in_trash") or body.get("archived"))  # fmt: skip
                page["properties"].update(self._properties(body.get("properties") or {}))
                return page
            case "PATCH", ["blocks", parent, "children"]:
                self._parent(parent)
                ids = self._add_blocks(parent, body.get("children"), depth=0)
                return {"object": "list", "results": [s.blocks[i] for i in ids]}
            case "GET", ["blocks", parent, "children"]:
                self._parent(parent)
                size = int(query.get("page_size", ["100"])[0])
                start = int(query.get("start_cursor", ["0"])[0])
                ids = s.children.get(parent, [])
                more = start + size < len(ids)
                return {
                    "object": "list",
                    "results": [s.blocks[i] for i in ids[start : start + size]],
                    "has_more": more,
                    "next_cursor": str(start + size) if more else None,
                }
            case "DELETE", ["blocks", bid]:
                if bid not in s.blocks:
                    raise Problem("Could not find block.", 404, "object_not_found")
                for kids in s.children.values():
                    if bid in kids:
                        kids.remove(bid)
                return {**s.blocks.pop(bid), "in_trash": True}
            case "POST", ["file_uploads"]:
                if body.get("mode", "single_part") != "single_part" or not body.get("filename"):
                    raise Problem("file upload needs mode single_part and a filename")
                uid = str(uuid.uuid4())
                s.uploads[uid] = {"object": "file_upload", "id": uid, "status": "pending", "filename": body["filename"], "content_type": body.get("content_type")}  # fmt: skip
                return s.uploads[uid]
            case "POST", ["file_uploads", uid, "send"]:
                upload = s.uploads.get(uid)
                if upload is None:
                    raise Problem("Could not find file upload.", 404, "object_not_found")
                if not ctype.startswith("multipart/form-data") or b'name="file"' not in raw:
                    raise Problem("send needs a multipart body with a file part")
                if b"\xff\xd8\xff" not in raw:
                    raise Problem("the file part is not a JPEG")
                upload["status"] = "uploaded"
                return upload
        raise Problem(f"no route {method} {path}", 400, "invalid_request_url")

    def _query(self, body: dict[str, Any]) -> dict[str, Any]:
        """Only what adref asks: one rich_text property equal to a value, oldest first."""
        unknown = set(body) - {"filter", "sorts", "page_size", "start_cursor"}
        if unknown:
            raise Problem(f"query: unexpected {sorted(unknown)}")
        filt = body.get("filter") or {}
        name = filt.get("property")
        spec = self.state.properties.get(name or "")
        if spec is None:
            raise Problem(f"Could not find property with name or id: {name}")
        if set(filt) != {"property", "rich_text"} or spec["type"] != "rich_text":
            raise Problem(f"query: filter {filt} is not a rich_text filter on a rich_text property")
        if set(filt["rich_text"]) != {"equals"} or not isinstance(filt["rich_text"]["equals"], str):
            raise Problem(f"query: rich_text filter {filt['rich_text']} is not an equals")
        if body.get("sorts", []) not in ([], [{"timestamp": "created_time", "direction": "ascending"}]):  # fmt: skip
            raise Problem(f"query: sorts {body.get('sorts')} not supported here")
        size = body.get("page_size", 100)
        if not isinstance(size, int) or not 1 <= size <= 100:
            raise Problem(f"body.page_size should be ≤ `100`, instead was `{size}`.")
        want = filt["rich_text"]["equals"]
        hits = [
            p
            for p in self.state.pages.values()
            if not p.get("in_trash")
            and "".join(t["text"]["content"] for t in p["properties"].get(name, {}).get("rich_text", [])) == want
        ]  # fmt: skip
        start = int(body.get("start_cursor") or 0)
        more = start + size < len(hits)
        return {"object": "list", "type": "page_or_data_source", "results": hits[start : start + size], "has_more": more, "next_cursor": str(start + size) if more else None}  # fmt: skip

    def _page(self, pid: str) -> dict[str, Any]:
        page = self.state.pages.get(pid)
        if page is None:
            raise Problem("Could not find page.", 404, "object_not_found")
        return page

    def _parent(self, pid: str) -> None:
        if pid in self.state.pages:
            if self.state.pages[pid].get("in_trash"):
                raise Problem("Can't edit block that is archived.", 400)
            return
        if pid not in self.state.blocks:
            raise Problem("Could not find block.", 404, "object_not_found")

    def _create_page(self, body: dict[str, Any]) -> dict[str, Any]:
        parent = body.get("parent") or {}
        if parent != {"type": "data_source_id", "data_source_id": self.state.data_source_id}:
            raise Problem(f"parent must be the data source, got {parent}")
        props = self._properties(body.get("properties") or {})
        if not any(self.state.properties[n]["type"] == "title" for n in props):
            raise Problem("a page needs its title property")
        pid = str(uuid.uuid4())
        page = {"object": "page", "id": pid, "url": f"https://www.notion.so/{pid.replace('-', '')}", "archived": False, "in_trash": False, "properties": props}  # fmt: skip
        self.state.pages[pid] = page
        self.state.children[pid] = []
        self._add_blocks(pid, body.get("children") or [], depth=0)
        return page

    def _properties(self, props: dict[str, Any]) -> dict[str, Any]:
        for name, value in props.items():
            spec = self.state.properties.get(name)
            if spec is None:
                raise Problem(f"{name} is not a property that exists.")
            kind = spec["type"]
            if set(value) != {kind}:
                raise Problem(f"{name} is expected to be {kind}.")
            v = value[kind]
            if kind in ("title", "rich_text"):
                _rich(v, name)
            elif kind == "select" and v is not None:
                _option(v.get("name", ""), name)
            elif kind == "multi_select":
                if len(v) > 100:
                    raise Problem(f"{name}: more than 100 options")
                for o in v:
                    _option(o.get("name", ""), name)
            elif kind == "url" and v is not None and len(v) > 2000:
                raise Problem(f"{name}: url longer than 2000")
        return dict(props)

    def _add_blocks(self, parent: str, blocks: Any, depth: int) -> list[str]:
        if not isinstance(blocks, list):
            raise Problem("body.children should be an array")
        if len(blocks) > 100:
            raise Problem(f"body.children.length should be ≤ `100`, instead was `{len(blocks)}`.")
        if depth > 2:
            raise Problem("blocks nest at most two levels deep in one request")
        ids = []
        for block in blocks:
            kind = block.get("type")
            if kind not in block:
                raise Problem(f"block of type {kind} has no {kind} object")
            content = dict(block[kind])
            nested = content.pop("children", None)
            if "rich_text" in content:
                _rich(content["rich_text"], kind)
            if kind == "image":
                self._image(content)
            if kind == "column_list" and (not nested or len(nested) < 2):
                raise Problem("column_list needs at least two columns")
            bid = str(next(self._ids)) + "-" + uuid.uuid4().hex[:8]
            self.state.blocks[bid] = {"object": "block", "id": bid, "type": kind, kind: content, "has_children": bool(nested)}  # fmt: skip
            self.state.children.setdefault(parent, []).append(bid)
            ids.append(bid)
            if nested:
                self._add_blocks(bid, nested, depth + 1)
        return ids

    def _image(self, content: dict[str, Any]) -> None:
        if content.get("type") == "file_upload":
            uid = content.get("file_upload", {}).get("id")
            upload = self.state.uploads.get(uid)
            if upload is None or upload["status"] != "uploaded":
                raise Problem(f"file upload {uid} is not uploaded")
            upload["status"] = "attached"  # an upload is attached once
        elif content.get("type") == "external":
            if not str(content.get("external", {}).get("url", "")).startswith("http"):
                raise Problem("image external url invalid")
        else:
            raise Problem(f"image type {content.get('type')} not supported here")
        _rich(content.get("caption", []), "caption")


def _rich(items: Any, where: str) -> None:
    if not isinstance(items, list):
        raise Problem(f"{where}: rich text should be an array")
    if len(items) > 100:
        raise Problem(f"{where}: rich text array longer than 100")
    for item in items:
        content = item.get("text", {}).get("content", "")
        if len(content) > 2000:
            raise Problem(f"{where}: text.content.length should be ≤ `2000`, instead was `{len(content)}`.")  # fmt: skip


def _option(name: str, where: str) -> None:
    if "," in name:
        raise Problem(f"{where}: select option names cannot contain commas: {name!r}")
    if len(name) > 100 or not name.strip():
        raise Problem(f"{where}: bad select option {name!r}")


def _failed(failure: Failure) -> tuple[int, dict[str, str], Any]:
    extra = {"Retry-After": failure.retry_after} if failure.retry_after else {}
    return failure.status, extra, _error(failure.status, failure.code, "scripted")


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"object": "error", "status": status, "code": code, "message": message}


def _handler(owner: FakeNotion) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _go(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, body = owner.answer(self.command, parts.path, parts.query, headers, raw)
            if status == DROP:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = json.dumps(body).encode()
            if status == GARBLED:
                status, data = 200, b'<html><body>{"object": "pa'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _go

    return Handler
