"""Anthropic's Messages API on loopback: checks each request as documented, answers as scripted.

The real ``anthropic`` SDK is pointed at ``base_url`` (it adds ``/v1/messages`` itself). A
request that breaks the documented shape gets Anthropic's own 400 body, and the problem is kept
in ``problems`` so a test can say exactly what was wrong; it does not use up a scripted reply.

    with FakeAnthropic() as fake:
        fake.push(Reply.rate_limit(retry_after="2"))
        client = AnthropicClient("sk-ant-test", fake.base_url, timeout_s=2)
        ...
        assert fake.calls[0]["tool_choice"] == {"type": "tool", "name": "ad_analysis"}
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
from typing import Any

from tests.support.fake_vendor import FakeVendor, Reply, Script
from tests.support.http import LocalHTTPServer, RecordedRequest, Route

__all__ = ["FakeAnthropic", "image_signature_ok"]

PATH = "/v1/messages"
_SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ERRORS: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, "rate_limit_error", "Number of request tokens has exceeded your limit."),
    "server_error": (500, "api_error", "Internal server error"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "auth_error": (401, "authentication_error", "invalid x-api-key"),
    "quota": (
        400,
        "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API. "
        "Please go to Plans & Billing to upgrade or purchase credits.",
    ),
    "bad_request": (400, "invalid_request_error", "messages: field required"),
}


class RequestProblem(Exception):
    """What makes a request invalid, in the words Anthropic's 400 would use."""


class FakeAnthropic(FakeVendor):
    """A context manager: a scripted Messages API on a free loopback port."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.calls: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.problems: list[str] = []
        self._server = LocalHTTPServer({PATH: Route(handler=self._handle)})
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    # -- answering ------------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Route:
        self.headers.append(request.headers)
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        self.calls.append(body if isinstance(body, dict) else {})
        try:
            if request.method != "POST":
                raise RequestProblem(f"method {request.method} not allowed; use POST")
            check_headers(request.headers)
            check_body(body)
        except RequestProblem as problem:
            self.problems.append(str(problem))
            return _error(400, "invalid_request_error", str(problem))
        return self._render(self.script.next(), body)

    def _render(self, reply: Reply, body: dict[str, Any]) -> Route:
        n = next(self._ids)
        if reply.kind in _ERRORS:
            status, kind, message = _ERRORS[reply.kind]
            headers = {}
            if reply.kind == "rate_limit" and reply.retry_after is not None:
                headers["retry-after"] = reply.retry_after
            if isinstance(reply.payload, str):
                message = reply.payload
            route = _error(reply.status or status, kind, message, headers, n)
            route.delay_s = reply.delay_s
            return route
        if reply.kind == "json":
            name = _tool_name(body)
            block = {"type": "tool_use", "id": f"toolu_fake{n:04d}", "name": name}
            content, stop = [{**block, "input": reply.payload}], "tool_use"
        elif reply.kind == "text":
            content, stop = [_text(reply.payload)], "end_turn"
        elif reply.kind == "truncated":
            whole = json.dumps(reply.payload, ensure_ascii=False)
            content, stop = [_text(whole[: len(whole) // 2])], "max_tokens"
        elif reply.kind == "refusal":
            content, stop = [_text(reply.payload)], "refusal"
        else:
            raise ValueError(f"FakeAnthropic cannot render a {reply.kind!r} reply")
        message = {
            "id": f"msg_fake{n:04d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": reply.usage[0], "output_tokens": reply.usage[1]},
        }
        return Route(
            body=json.dumps(message).encode(),
            content_type="application/json",
            headers={"request-id": f"req_fake{n:04d}"},
            delay_s=reply.delay_s,
        )


def _tool_name(body: dict[str, Any]) -> str:
    choice = body.get("tool_choice") or {}
    tools = body.get("tools") or [{"name": "ad_analysis"}]
    return str(choice.get("name") or tools[0]["name"])


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None, n: int = 0
) -> Route:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return Route(
        body=json.dumps(body).encode(),
        status=status,
        content_type="application/json",
        headers={"request-id": f"req_fake{n:04d}", **(headers or {})},
    )


# -- the documented request shape -------------------------------------------------------------


def check_headers(headers: dict[str, str]) -> None:
    if not headers.get("x-api-key", "").strip():
        raise RequestProblem("x-api-key header is required")
    if not headers.get("anthropic-version", "").strip():
        raise RequestProblem("anthropic-version header is required")
    if "application/json" not in headers.get("content-type", ""):
        raise RequestProblem("content-type must be application/json")


def check_body(body: Any) -> None:
    if not isinstance(body, dict):
        raise RequestProblem("request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise RequestProblem("model: field required (a string)")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 0:
        raise RequestProblem("max_tokens: must be an integer greater than 0")
    if "temperature" in body and not (
        isinstance(body["temperature"], int | float) and 0 <= body["temperature"] <= 1
    ):
        raise RequestProblem("temperature: must be a number between 0 and 1")
    if "system" in body:
        _check_system(body["system"])
    _check_messages(body.get("messages"))
    names = _check_tools(body.get("tools", []))
    if "tool_choice" in body:
        _check_tool_choice(body["tool_choice"], names)


def _check_system(system: Any) -> None:
    if isinstance(system, str):
        return
    if not isinstance(system, list) or not all(
        isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        for b in system
    ):
        raise RequestProblem("system: must be a string or a list of text blocks")


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise RequestProblem("messages: at least one message is required")
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        expected = "user" if i % 2 == 0 else "assistant"
        if role != expected:
            raise RequestProblem(
                f"messages.{i}.role: roles must alternate user/assistant starting with user; "
                f"got {role!r}"
            )
        content = message["content"]
        if isinstance(content, str):
            continue
        if not isinstance(content, list) or not content:
            raise RequestProblem(f"messages.{i}.content: a string or a non-empty list of blocks")
        for j, block in enumerate(content):
            _check_block(block, role, f"messages.{i}.content.{j}")


def _check_block(block: Any, role: str, where: str) -> None:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":
        if not isinstance(block.get("text"), str) or not block["text"]:
            raise RequestProblem(f"{where}.text: text content blocks must be non-empty")
    elif kind == "image" and role == "user":
        _check_image(block.get("source"), where)
    elif kind == "tool_use" and role == "assistant":
        if not isinstance(block.get("input"), dict):
            raise RequestProblem(f"{where}.input: must be an object")
    elif kind == "tool_result" and role == "user":
        if not isinstance(block.get("tool_use_id"), str):
            raise RequestProblem(f"{where}.tool_use_id: field required")
    else:
        raise RequestProblem(f"{where}.type: {kind!r} is not allowed in a {role} message")


def _check_image(source: Any, where: str) -> None:
    if not isinstance(source, dict) or source.get("type") != "base64":
        raise RequestProblem(f"{where}.source.type: expected 'base64'")
    media_type = source.get("media_type")
    if media_type not in (*_SIGNATURES, "image/webp"):
        raise RequestProblem(
            f"{where}.source.media_type: expected image/jpeg, image/png, image/gif or image/webp"
        )
    try:
        data = base64.b64decode(source.get("data", ""), validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise RequestProblem(f"{where}.source.data: invalid base64 data") from None
    if not image_signature_ok(data, media_type):
        raise RequestProblem(
            f"{where}.source: image does not match the provided media type {media_type}"
        )


def image_signature_ok(data: bytes, media_type: str) -> bool:
    """Whether the bytes start the way a ``media_type`` file does (Anthropic checks this too)."""
    if media_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return any(data.startswith(sig) for sig in _SIGNATURES.get(media_type, ()))


def _check_tools(tools: Any) -> set[str]:
    if not isinstance(tools, list):
        raise RequestProblem("tools: must be a list")
    names: set[str] = set()
    for i, tool in enumerate(tools):
        name = tool.get("name") if isinstance(tool, dict) else None
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise RequestProblem(f"tools.{i}.name: must match ^[a-zA-Z0-9_-]{{1,64}}$")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            raise RequestProblem(f"tools.{i}.input_schema.type: must be 'object'")
        names.add(name)
    return names


def _check_tool_choice(choice: Any, names: set[str]) -> None:
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind not in ("auto", "any", "tool", "none"):
        raise RequestProblem("tool_choice.type: expected auto, any, tool or none")
    if kind in ("any", "tool") and not names:
        raise RequestProblem("tool_choice: tools must be given when tool_choice is any or tool")
    if kind == "tool" and choice.get("name") not in names:
        raise RequestProblem(f"tool_choice.name: no tool named {choice.get('name')!r}")
