"""A loopback server speaking the Gemini API's ``generateContent`` as Google documents it.

It checks each request (path, ``x-goog-api-key`` header, ``contents``, ``systemInstruction``,
``generationConfig`` with a JSON response schema, images whose bytes match their MIME type) and
answers a malformed one with Google's 400 INVALID_ARGUMENT body. Each ``Reply`` is rendered in
Gemini's own shapes:

- ``refusal``: a blocked prompt, ``promptFeedback.blockReason = SAFETY`` and no candidates (what
  Gemini does with a prompt it will not answer; it sends no refusal words, so ``payload`` is
  unused).
- ``rate_limit``: 429 RESOURCE_EXHAUSTED on a per-minute quota, with ``RetryInfo`` "2s" and a
  Retry-After header when ``retry_after`` is set; the message says "quota" and "billing" as
  Google's per-minute 429s do.
- ``quota``: 429 on the per-day quota (``QuotaFailure`` quotaId ``...PerDay...``); with
  ``payload="no_tier"``, the "limit: 0" answer of a model the key's tier has no quota for.
- ``auth_error``: ``status`` 401 UNAUTHENTICATED (default), 403 PERMISSION_DENIED, or 400
  INVALID_ARGUMENT "API key not valid" (what Gemini really sends for a bad key).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any

from tests.support.fake_vendor import FakeVendor, Reply, Script
from tests.support.http import LocalHTTPServer, RecordedRequest, Route

_PATH = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):generateContent$")
_SIGNATURES = {
    "image/jpeg": lambda b: b.startswith(b"\xff\xd8\xff"),
    "image/png": lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP",
    "audio/wav": lambda b: b[:4] == b"RIFF" and b[8:12] == b"WAVE",
}
_QUOTA_MSG = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n"
    "* Quota exceeded for metric: generativelanguage.googleapis.com/"
    "generate_content_free_tier_requests, limit: {limit}, model: {model}\nPlease retry in {delay}."
)
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_MESSAGES = {
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential.",
    403: "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "The request timed out. Please try again.",
}


class _AnyPathServer(LocalHTTPServer):
    """LocalHTTPServer routes exact paths; the model is in Gemini's path, so route them all."""

    def __init__(self, route: Route) -> None:
        super().__init__()
        self._catch_all = route

    def _record(self, request: RecordedRequest) -> tuple[Route | None, int]:
        route, seen = super()._record(request)
        return route or self._catch_all, seen


class FakeGemini(FakeVendor):
    """Gemini's API on 127.0.0.1, scripted with ``Reply`` objects (see ``fake_vendor``)."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.calls: list[dict[str, Any]] = []  # request bodies, parsed
        self.headers: list[dict[str, str]] = []  # lower-cased request headers
        self.paths: list[str] = []
        self.queries: list[str] = []
        self.problems: list[str] = []  # why a request was refused as malformed
        self._lock = threading.Lock()
        self._server = _AnyPathServer(Route(handler=self._handle))

    @property
    def base_url(self) -> str:
        return self._server.base_url

    # -- answering ------------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Route:
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        with self._lock:
            self.calls.append(body if isinstance(body, dict) else {})
            self.headers.append(dict(request.headers))
            self.paths.append(request.path)
            self.queries.append(request.query)
        m = _PATH.match(request.path)
        if request.method != "POST" or m is None:
            return _error(404, f"{request.method} {request.path} is not a generateContent call")
        if not request.headers.get("x-goog-api-key", "").strip():
            return _error(403, _MESSAGES[403])
        problem = _check_request(body, request)
        if problem:
            with self._lock:
                self.problems.append(problem)
            return _error(400, problem)
        return _render(self.script.next(), model=m.group(2))


def _check_request(body: Any, request: RecordedRequest) -> str | None:
    """What is wrong with a generateContent request, by the API reference; None when fine."""
    if "key=" in request.query:
        return "the API key must travel in the x-goog-api-key header, not the URL"
    if not request.headers.get("content-type", "").startswith("application/json"):
        return "Content-Type must be application/json"
    if not isinstance(body, dict):
        return "Invalid JSON payload received."
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for i, content in enumerate(contents):
        problem = _check_content(content, f"contents[{i}]", roles=("user", "model"))
        if problem:
            return problem
    if contents[0].get("role") != "user" or contents[-1].get("role") != "user":
        return "* GenerateContentRequest.contents: must start and end with a user turn"
    system = body.get("systemInstruction")
    if system is not None:
        problem = _check_content(system, "systemInstruction", roles=("user", "system", None))
        if problem:
            return problem
    config = body.get("generationConfig")
    if not isinstance(config, dict):
        return "* GenerateContentRequest.generationConfig: missing"
    if config.get("responseMimeType") != "application/json":
        return "* generationConfig.responseMimeType: expected application/json"
    schemas = [k for k in ("responseSchema", "responseJsonSchema") if k in config]
    if len(schemas) != 1 or not isinstance(config[schemas[0]], dict):
        return "* generationConfig: exactly one of responseSchema / responseJsonSchema is needed"
    tokens = config.get("maxOutputTokens")
    if tokens is not None and (not isinstance(tokens, int) or tokens <= 0):
        return "* generationConfig.maxOutputTokens: must be a positive integer"
    return None


def _check_content(content: Any, where: str, roles: tuple[str | None, ...]) -> str | None:
    if not isinstance(content, dict) or content.get("role") not in roles:
        return f"* {where}.role: must be one of {[r for r in roles if r]}"
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        return f"* {where}.parts: must not be empty"
    for j, part in enumerate(parts):
        fields = [k for k in ("text", "inlineData") if k in part] if isinstance(part, dict) else []
        if len(fields) != 1:
            return f"* {where}.parts[{j}]: exactly one of text / inlineData is needed"
        if fields == ["text"] and not isinstance(part["text"], str):
            return f"* {where}.parts[{j}].text: must be a string"
        if fields == ["inlineData"]:
            problem = _check_blob(part["inlineData"])
            if problem:
                return f"* {where}.parts[{j}].inlineData: {problem}"
    return None


def _check_blob(blob: Any) -> str | None:
    if not isinstance(blob, dict) or not {"mimeType", "data"} <= blob.keys():
        return "mimeType and data are required"
    check = _SIGNATURES.get(blob["mimeType"])
    if check is None:
        return f"unsupported mimeType {blob['mimeType']!r}"
    try:
        data = _b64decode(blob["data"])
    except (ValueError, TypeError):
        return "data is not base64"
    if not check(data):
        return f"data is not a {blob['mimeType']} file"
    return None


def _b64decode(text: str) -> bytes:
    """Proto3 JSON bytes: standard or URL-safe base64 (the SDK sends URL-safe), padding optional."""
    standard = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


# -- rendering ------------------------------------------------------------------------------


def _render(reply: Reply, model: str) -> Route:
    usage = {
        "promptTokenCount": reply.usage[0],
        "candidatesTokenCount": reply.usage[1],
        "totalTokenCount": sum(reply.usage),
    }
    if reply.kind in ("json", "text", "truncated"):
        text = reply.payload if reply.kind == "text" else json.dumps(reply.payload)
        finish = "STOP"
        if reply.kind == "truncated":
            text, finish = text[: len(text) // 2], "MAX_TOKENS"
        body: dict[str, Any] = {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": finish,
                    "index": 0,
                }
            ],
            "usageMetadata": usage,
            "modelVersion": model,
            "responseId": "fake-gemini-response",
        }
        return _json(200, body, delay_s=reply.delay_s)
    if reply.kind == "refusal":
        blocked = {"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": model}
        usage = {"promptTokenCount": reply.usage[0], "totalTokenCount": reply.usage[0]}
        return _json(200, blocked | {"usageMetadata": usage}, delay_s=reply.delay_s)
    if reply.kind == "rate_limit":
        headers = {"Retry-After": reply.retry_after} if reply.retry_after else {}
        message = _QUOTA_MSG.format(limit=10, model=model, delay="2s")
        details = [_quota_failure("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", model)]
        details.append(_retry_info("2s"))
        return _error(429, message, details, headers=headers, delay_s=reply.delay_s)
    if reply.kind == "quota":
        limit, quota_id = 250, "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
        if reply.payload == "no_tier":
            limit, quota_id = 0, "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
        message = _QUOTA_MSG.format(limit=limit, model=model, delay="13s")
        details = [_quota_failure(quota_id, model), _retry_info("13s")]
        return _error(429, message, details, delay_s=reply.delay_s)
    if reply.kind in ("server_error", "overloaded"):
        status = reply.status or (503 if reply.kind == "overloaded" else 500)
        message = _MESSAGES.get(status, f"Backend error {status}.")
        return _error(status, message, delay_s=reply.delay_s)
    if reply.kind == "auth_error":
        status = reply.status or 401
        if status == 400:
            info = {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
            }
            message = "API key not valid. Please pass a valid API key."
            return _error(400, message, [info], delay_s=reply.delay_s)
        return _error(status, _MESSAGES.get(status, "Unauthorised."), delay_s=reply.delay_s)
    if reply.kind == "bad_request":
        message = reply.payload or "Request contains an invalid argument."
        return _error(reply.status or 400, str(message), delay_s=reply.delay_s)
    raise ValueError(f"FakeGemini cannot render a {reply.kind!r} reply")


def _quota_failure(quota_id: str, model: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": quota_id,
                "quotaDimensions": {"location": "global", "model": model},
            }
        ],
    }


def _retry_info(delay: str) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}


def _error(
    code: int,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    delay_s: float = 0.0,
) -> Route:
    error: dict[str, Any] = {"code": code, "message": message, "status": _STATUS.get(code, "")}
    if details:
        error["details"] = details
    return _json(code, {"error": error}, headers=headers, delay_s=delay_s)


def _json(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None, delay_s: float = 0.0
) -> Route:
    return Route(
        body=json.dumps(body).encode(),
        status=status,
        content_type="application/json; charset=UTF-8",
        headers=dict(headers or {}),
        delay_s=delay_s,
    )
