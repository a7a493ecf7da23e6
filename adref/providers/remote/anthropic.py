"""Claude through the official ``anthropic`` SDK: one Messages API request per ``VendorCall``.

Structured output is a forced tool: the analysis schema is the tool's ``input_schema`` and
``tool_choice`` names it, so the model must answer with the tool's ``input`` (an object the API
has already parsed). The SDK's retries are off; adref's provider loop is the only one retrying.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Literal, cast

import anthropic
from anthropic.types import (
    ImageBlockParam,
    Message,
    MessageParam,
    TextBlockParam,
    ToolChoiceToolParam,
    ToolParam,
)

from adref.errors import ProviderError, ProviderHardError, ProviderTransient
from adref.providers.remote.provider import RemoteProvider
from adref.providers.remote.retry_after import parse_retry_after
from adref.providers.remote.vendor_call import VendorAnswer, VendorCall, VendorClient
from adref.settings import Settings

DEFAULT_MODEL = "claude-sonnet-4-6"  # the first Sonnet 4 snapshot reached end of life 2026-06-15

TOOL_DESCRIPTION = "Record the analysis of the ad."

_MediaType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
_MEDIA_TYPES: tuple[_MediaType, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp")
_FINISH = {
    "end_turn": "stop",
    "tool_use": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "refusal",
}
_GENERIC_REFUSAL = "The model declined to answer (stop_reason: refusal)."
_MAX_MESSAGE = 200


class AnthropicClient:
    """Sends one call to the Messages API and maps the answer and errors to adref's terms."""

    vendor: Literal["anthropic"] = "anthropic"

    def __init__(self, api_key: str, base_url: str | None, timeout_s: float) -> None:
        self._api_key = api_key
        self.base_url = base_url
        self.timeout_s = timeout_s

    def __repr__(self) -> str:  # the key must not show up in logs or tracebacks
        return f"AnthropicClient(base_url={self.base_url!r}, timeout_s={self.timeout_s})"

    @classmethod
    def from_settings(cls, settings: Settings) -> AnthropicClient:
        key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
        if not key.strip():
            raise ProviderHardError(
                "no Anthropic API key",
                "the anthropic provider needs one",
                "set ANTHROPIC_API_KEY (or ADREF_ANTHROPIC_API_KEY)",
                provider="anthropic",
            )
        return cls(key, settings.anthropic_base_url, settings.provider_timeout_s)

    def send(self, call: VendorCall) -> VendorAnswer:
        """One HTTP request. The call's own timeout may shorten, never lengthen, the client's."""
        request = build_request(call)
        timeout = min(self.timeout_s, call.timeout_s)
        try:
            with anthropic.Anthropic(
                api_key=self._api_key, base_url=self.base_url, timeout=timeout, max_retries=0
            ) as client:
                response = client.messages.create(**request)
        except anthropic.AnthropicError as exc:
            raise _map_error(exc, self._api_key).redact(self._api_key) from None
        return answer_from(response)


def build_request(call: VendorCall) -> dict[str, Any]:
    """The keyword arguments of ``messages.create``: apart from ``send`` so it can be inspected."""
    content: list[TextBlockParam | ImageBlockParam] = [{"type": "text", "text": call.user_text}]
    for image in call.images:
        content.append({"type": "text", "text": image.label})
        content.append(
            {
                "type": "image",
                "source": {
                    "type": "base64",
                    "media_type": _media_type(image.media_type),
                    "data": base64.b64encode(image.data).decode("ascii"),
                },
            }
        )
    messages: list[MessageParam] = [{"role": "user", "content": content}]
    if call.retry_feedback:
        # The earlier answer goes back as plain text, not as a tool_use block: a tool_use turn
        # would oblige the next user turn to open with a tool_result for it.
        previous = call.previous_answer or "(no answer)"
        messages.append({"role": "assistant", "content": [{"type": "text", "text": previous}]})
        messages.append(
            {"role": "user", "content": [{"type": "text", "text": call.retry_feedback}]}
        )
    tool: ToolParam = {
        "name": call.schema_name,
        "description": TOOL_DESCRIPTION,
        "input_schema": call.schema,
    }
    tool_choice: ToolChoiceToolParam = {"type": "tool", "name": call.schema_name}
    request: dict[str, Any] = {
        "model": call.model,
        "max_tokens": call.max_output_tokens,
        "temperature": call.temperature,
        "messages": messages,
        "tools": [tool],
        "tool_choice": tool_choice,
    }
    if call.system:
        request["system"] = call.system
    return request


def answer_from(response: Message) -> VendorAnswer:
    """The forced tool's input as JSON text; the text blocks when the model wrote prose instead."""
    tool_inputs = [b.input for b in response.content if b.type == "tool_use"]
    texts = "".join(b.text for b in response.content if b.type == "text")
    text = json.dumps(tool_inputs[0], ensure_ascii=False) if tool_inputs else texts
    finish = _FINISH.get(response.stop_reason or "", "other")
    usage = response.usage
    extra: dict[str, Any] = {"id": response.id, "stop_reason": response.stop_reason}
    for name in ("cache_creation_input_tokens", "cache_read_input_tokens"):
        if getattr(usage, name, None):
            extra[name] = getattr(usage, name)
    return VendorAnswer(
        text=text,
        tokens_in=usage.input_tokens,
        tokens_out=usage.output_tokens,
        finish_reason=finish,
        refusal=(texts.strip() or _GENERIC_REFUSAL) if finish == "refusal" else None,
        model=response.model,
        extra=extra,
    )


def _media_type(media_type: str) -> _MediaType:
    if media_type not in _MEDIA_TYPES:
        raise ProviderHardError(
            f"cannot send {media_type} images to Anthropic",
            f"the Messages API takes {', '.join(_MEDIA_TYPES)}",
            "encode the image as JPEG or PNG",
            provider="anthropic",
        )
    return cast(_MediaType, media_type)


def _map_error(exc: anthropic.AnthropicError, api_key: str) -> ProviderError:
    """The SDK's exception as adref's: transient if waiting can help, hard otherwise."""
    what = "Anthropic call failed"
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderTransient(what, "the request timed out", provider="anthropic")
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderTransient(what, "could not connect", provider="anthropic")
    if not isinstance(exc, anthropic.APIStatusError):
        why = _short(str(exc), api_key) or type(exc).__name__
        return ProviderHardError(what, why, provider="anthropic")
    status = exc.status_code
    message = _short(_vendor_message(exc), api_key)
    why = f"{status} {exc.type or 'error'}: {message}" if message else f"HTTP {status}"
    if isinstance(exc, anthropic.RateLimitError):
        wait = parse_retry_after(exc.response.headers)
        return ProviderTransient(
            what, why, provider="anthropic", retry_after_s=wait, hint="rate limited; wait and retry"
        )
    if status >= 500 or status == 408:
        return ProviderTransient(what, why, provider="anthropic")
    if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        return ProviderHardError(
            what, why, "check ANTHROPIC_API_KEY and its workspace's access", provider="anthropic"
        )
    if exc.type == "billing_error" or "credit balance" in message.lower():
        return ProviderHardError(
            what,
            why,
            "add credits under Plans & Billing in the Anthropic Console",
            provider="anthropic",
        )
    return ProviderHardError(what, why, provider="anthropic")


def _vendor_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return str(error["message"])
    return exc.message


def _short(message: str, api_key: str) -> str:
    if api_key:
        message = message.replace(api_key, "***")
    message = " ".join(message.split())
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


class AnthropicProvider(RemoteProvider):
    name = "anthropic"
    vendor = "anthropic"
    # --model picks any other Claude model.
    default_model = DEFAULT_MODEL

    def make_client(self, key: str) -> VendorClient:
        s = self.settings
        return AnthropicClient(key, s.anthropic_base_url, s.provider_timeout_s)
