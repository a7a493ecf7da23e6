"""A fake OpenAI Chat Completions endpoint on loopback that the real ``openai`` SDK talks to.

It checks each request as OpenAI documents it (POST /v1/chat/completions, a bearer key, system
and user messages, image parts as base64 data URLs of real JPEG/PNG/WebP bytes, a strict
``json_schema`` response format) and answers a malformed one with OpenAI's 400 body, so a
client that builds the wrong request fails its tests. Each scripted ``Reply`` is rendered in
OpenAI's real shapes: a ``chat.completion`` object, or ``{"error": {...}}`` with its status.

    with FakeOpenAI() as fake:
        fake.push(Reply.rate_limit(retry_after="2"))
        client = OpenAIClient("sk-test", fake.base_url, timeout_s=2)
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import io
import itertools
import json
import re
import time
import wave
from dataclasses import dataclass
from email.parser import BytesParser
from typing import Any

from tests.support.fake_vendor import FakeVendor, Reply, Script
from tests.support.gate import Gate
from tests.support.http import LocalHTTPServer, RecordedRequest, Route

__all__ = ["FakeOpenAI"]

PATH = "/v1/chat/completions"
AUDIO_PATH = "/v1/audio/transcriptions"
_ROLES = {"system", "developer", "user", "assistant"}
_DETAILS = {"low", "high", "auto"}
_SCHEMA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DATA_URL = re.compile(r"data:(image/(?:jpeg|png|webp|gif));base64,(.+)", re.DOTALL)


class RequestProblem(ValueError):
    """What OpenAI would say about a malformed request (its 400 ``message`` and ``param``)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class FakeOpenAI(FakeVendor):
    """A context manager: a started server whose ``base_url`` is what the SDK is given."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.calls: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.problems: list[str] = []  # malformed requests seen, in OpenAI's words
        self.answer_model: str | None = None  # the model the answer names; default: as asked
        self.gate: Gate | None = None  # holds well-formed calls until it opens
        self._ids = itertools.count(1)
        self.uploads: list[Upload] = []  # audio transcription requests, as OpenAI would read them
        self._server = LocalHTTPServer(
            {PATH: Route(handler=self._handle), AUDIO_PATH: Route(handler=self._handle_audio)}
        )

    # -- life cycle -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.base_url + "/v1"

    def request_count(self) -> int:
        """Every HTTP request the server got, on any path (a retry would show up here)."""
        return self._server.request_count()

    # -- answering ------------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Route:
        self.headers.append(dict(request.headers))
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        if isinstance(body, dict):
            self.calls.append(body)
        try:
            _check_request(request, body)
        except RequestProblem as problem:
            self.problems.append(problem.message)
            status = 401 if problem.param == "authorization" else 400
            code = "invalid_api_key" if status == 401 else None
            return _error(status, problem.message, "invalid_request_error", code, problem.param)
        if self.gate is not None:
            self.gate.hold()
        reply = self.script.next()
        route = self._render(reply, body or {})
        route.delay_s = reply.delay_s
        return route

    def _handle_audio(self, request: RecordedRequest) -> Route:
        """POST /v1/audio/transcriptions: a multipart form with ``file`` and ``model`` (OpenAI's
        400 otherwise). A ``json`` reply's payload is the answer (``verbose_json``'s shape);
        ``text`` is sent as it is, with a JSON content type (a gateway's broken answer)."""
        self.headers.append(dict(request.headers))
        try:
            upload = _read_upload(request)
        except RequestProblem as problem:
            self.problems.append(problem.message)
            return _error(400, problem.message, "invalid_request_error", None, problem.param)
        self.uploads.append(upload)
        reply = self.script.next()
        if reply.kind == "json":
            route = _json_route(200, reply.payload)
        elif reply.kind == "text":
            route = Route(body=str(reply.payload).encode(), content_type="application/json")
        else:
            route = self._render(reply, upload.fields)
        route.delay_s = reply.delay_s
        return route

    def _render(self, reply: Reply, body: dict[str, Any]) -> Route:
        kind = reply.kind
        if kind == "rate_limit":
            headers = {} if reply.retry_after is None else {"Retry-After": reply.retry_after}
            message = (
                f"Rate limit reached for {body.get('model')} in organization org-fake on tokens "
                "per min (TPM): Limit 30000, Used 30000, Requested 1500. Please try again later."
            )
            return _error(429, message, "tokens", "rate_limit_exceeded", headers=headers)
        if kind == "quota":
            message = (
                "You exceeded your current quota, please check your plan and billing details. "
                "For more information on this error, read the docs: "
                "https://platform.openai.com/docs/guides/error-codes/api-errors."
            )
            return _error(429, message, "insufficient_quota", "insufficient_quota")
        if kind == "server_error":
            message = "The server had an error while processing your request. Sorry about that!"
            return _error(reply.status or 500, message, "server_error", None)
        if kind == "overloaded":
            message = "The engine is currently overloaded, please try again later."
            return _error(reply.status or 503, message, "server_error", None)
        if kind == "auth_error":
            message = (
                f"Incorrect API key provided: {_masked(self.headers[-1])}. You can find your "
                "API key at https://platform.openai.com/account/api-keys."
            )
            return _error(401, message, "invalid_request_error", "invalid_api_key")
        if kind == "bad_request":
            message = reply.payload or "Invalid value for 'temperature': must be at most 2."
            return _error(reply.status or 400, message, "invalid_request_error", None)
        return self._completion(reply, body)

    def _completion(self, reply: Reply, body: dict[str, Any]) -> Route:
        content: str | None
        refusal: str | None = None
        finish = "stop"
        if reply.kind == "json":
            content = json.dumps(reply.payload, ensure_ascii=False)
        elif reply.kind == "text":
            content = str(reply.payload)
        elif reply.kind == "truncated":
            full = json.dumps(reply.payload, ensure_ascii=False)
            content, finish = full[: len(full) // 2], "length"
        elif reply.kind == "refusal":
            content, refusal = None, str(reply.payload)
        else:
            raise AssertionError(f"FakeOpenAI cannot render a {reply.kind!r} reply")
        tokens_in, tokens_out = reply.usage
        completion = {
            "id": f"chatcmpl-fake{next(self._ids):06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.answer_model or body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }
        return _json_route(200, completion)


# -- request checks (what OpenAI's API would reject) -------------------------------------------


@dataclass(frozen=True)
class Upload:
    """One transcription request: its form fields and the audio file as sent."""

    fields: dict[str, Any]  # text fields; a repeated one (timestamp_granularities[]) as a list
    filename: str
    audio: bytes

    def wav(self) -> tuple[int, int, int, float]:
        """(channels, sample rate, bits, seconds) of the uploaded WAV (fails if it is not one)."""
        with wave.open(io.BytesIO(self.audio), "rb") as w:
            rate = w.getframerate()
            return w.getnchannels(), rate, 8 * w.getsampwidth(), w.getnframes() / rate


def _read_upload(request: RecordedRequest) -> Upload:
    if request.method != "POST":
        raise RequestProblem(f"Invalid method for URL ({request.method} {request.path}).")
    if not request.headers.get("authorization", "").startswith("Bearer "):
        raise RequestProblem("You didn't provide an API key.", "authorization")
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise RequestProblem("Invalid Content-Type header: expected multipart/form-data.")
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + request.body
    )
    fields: dict[str, Any] = {}
    file: tuple[str, bytes] | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if name == "file":
            file = (str(part.get_filename() or ""), data)
        elif isinstance(name, str):
            value = data.decode()
            if name in fields:
                old = fields[name]
                fields[name] = [*(old if isinstance(old, list) else [old]), value]
            else:
                fields[name] = value
    if file is None or not file[1]:
        raise RequestProblem("Missing required parameter: 'file'.", "file")
    if not fields.get("model"):
        raise RequestProblem("Missing required parameter: 'model'.", "model")
    return Upload(fields=fields, filename=file[0], audio=file[1])


def _check_request(request: RecordedRequest, body: Any) -> None:
    if request.method != "POST":
        raise RequestProblem(f"Invalid method for URL ({request.method} {request.path}).")
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[len("Bearer ") :].strip():
        raise RequestProblem(
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "authorization",
        )
    if "application/json" not in request.headers.get("content-type", ""):
        raise RequestProblem("Unsupported content type: expected application/json.")
    if not isinstance(body, dict):
        raise RequestProblem("We could not parse the JSON body of your request.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise RequestProblem("you must provide a model parameter", "model")
    _check_messages(body.get("messages"))
    _check_response_format(body.get("response_format"))
    limit = body.get("max_completion_tokens")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise RequestProblem(
            "Invalid 'max_completion_tokens': must be >= 1.", "max_completion_tokens"
        )
    temperature = body.get("temperature")
    if temperature is not None and not (
        isinstance(temperature, int | float) and 0 <= temperature <= 2
    ):
        raise RequestProblem("Invalid 'temperature': must be between 0 and 2.", "temperature")


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise RequestProblem("'messages' must be a non-empty array.", "messages")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise RequestProblem(f"Invalid value for '{where}.role'.", f"{where}.role")
        content = message.get("content")
        if message["role"] in {"system", "developer", "assistant"}:
            if not isinstance(content, str):
                raise RequestProblem(f"'{where}.content' must be a string.", f"{where}.content")
        elif isinstance(content, list):
            if not content:
                raise RequestProblem(f"'{where}.content' must not be empty.", f"{where}.content")
            for j, part in enumerate(content):
                _check_part(part, f"{where}.content[{j}]")
        elif not isinstance(content, str):
            raise RequestProblem(f"Invalid type for '{where}.content'.", f"{where}.content")
    if messages[0]["role"] not in {"system", "developer"}:
        raise RequestProblem("adref's requests start with a system message.", "messages[0].role")
    if not any(m["role"] == "user" for m in messages):
        raise RequestProblem("'messages' must contain a user message.", "messages")


def _check_part(part: Any, where: str) -> None:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise RequestProblem(f"Missing required parameter: '{where}.text'.", f"{where}.text")
        return
    if kind != "image_url":
        raise RequestProblem(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'image_url', "
            "'input_audio', 'refusal', and 'file'.",
            f"{where}.type",
        )
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else None
    if not isinstance(url, str):
        raise RequestProblem(f"Missing required parameter: '{where}.image_url.url'.", where)
    if image.get("detail", "auto") not in _DETAILS:
        raise RequestProblem(f"Invalid value for '{where}.image_url.detail'.", where)
    match = _DATA_URL.fullmatch(url)
    if match is None:
        raise RequestProblem(
            "Invalid image URL: adref sends images as base64 data URLs only.", where
        )
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise RequestProblem("Invalid base64 image_url.", where) from None
    if not _is_image(data):
        raise RequestProblem(
            "You uploaded an unsupported image. Please make sure your image has of one the "
            "following formats: ['png', 'jpeg', 'gif', 'webp'].",
            where,
        )


def _is_image(data: bytes) -> bool:
    return (
        data.startswith(b"\xff\xd8\xff")
        or data.startswith(b"\x89PNG\r\n\x1a\n")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    )


def _check_response_format(fmt: Any) -> None:
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        raise RequestProblem(
            "adref asks for structured output: 'response_format.type' must be 'json_schema'.",
            "response_format",
        )
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict):
        raise RequestProblem(
            "Missing required parameter: 'response_format.json_schema'.", "response_format"
        )
    name = spec.get("name")
    if not isinstance(name, str) or _SCHEMA_NAME.fullmatch(name) is None:
        raise RequestProblem(
            "Invalid 'response_format.json_schema.name': must match ^[a-zA-Z0-9_-]{1,64}$.",
            "response_format.json_schema.name",
        )
    if not isinstance(spec.get("schema"), dict):
        raise RequestProblem(
            "Invalid type for 'response_format.json_schema.schema': expected an object.",
            "response_format.json_schema.schema",
        )
    if spec.get("strict") is not True:
        raise RequestProblem(
            "adref asks for strict structured output: 'json_schema.strict' must be true.",
            "response_format.json_schema.strict",
        )


# -- rendering ------------------------------------------------------------------------------


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Route:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return _json_route(status, body, headers)


def _json_route(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Route:
    return Route(
        body=json.dumps(body).encode(),
        status=status,
        content_type="application/json",
        headers={"x-request-id": "req_fake", **(headers or {})},
    )


def _masked(headers: dict[str, str]) -> str:
    """OpenAI quotes a wrong key as its first few and last four characters, never whole."""
    key = headers.get("authorization", "").removeprefix("Bearer ").strip()
    return f"{key[:3]}*****{key[-4:]}" if len(key) > 8 else "*****"
