"""The OpenAI client: Chat Completions with images and a strict JSON schema, one request per call.

Also serves OpenAI-compatible gateways (FactChat): same SDK, another base URL and key, and a
``label`` so errors name the gateway the user configured rather than OpenAI.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any, Literal

import openai
from openai.types.chat import (
    ChatCompletionContentPartParam,
    ChatCompletionMessageParam,
)
from openai.types.chat.completion_create_params import ResponseFormat

from adref.errors import ProviderError, ProviderHardError, ProviderTransient
from adref.providers.remote.provider import RemoteProvider
from adref.providers.remote.retry_after import parse_retry_after
from adref.providers.remote.vendor_call import (
    ImagePart,
    Vendor,
    VendorAnswer,
    VendorCall,
    VendorClient,
)
from adref.settings import Settings

__all__ = [
    "DEFAULT_MODEL",
    "FactChatProvider",
    "OpenAIClient",
    "OpenAIProvider",
    "build_messages",
    "normalise_finish",
]

DEFAULT_MODEL = "gpt-4o"

Gateway = Literal["openai", "factchat"]

_KEY_VARS: dict[str, str] = {
    "openai": "OPENAI_API_KEY (or ADREF_OPENAI_API_KEY)",
    "factchat": "FACTCHAT_API_KEY (or ADREF_FACTCHAT_API_KEY)",
}
_MESSAGE_CHARS = 200


class OpenAIClient:
    """One ``openai.OpenAI`` client with the SDK's retries off: adref's provider loop retries."""

    vendor: Vendor = "openai"

    def __init__(
        self, api_key: str, base_url: str | None, timeout_s: float, *, label: str = "openai"
    ) -> None:
        self.label = label
        self._sdk = openai.OpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0
        )

    @classmethod
    def from_settings(cls, settings: Settings, gateway: Gateway = "openai") -> OpenAIClient:
        base_url: str | None
        if gateway == "factchat":
            key, base_url = settings.factchat_api_key, settings.factchat_base_url
        else:
            key, base_url = settings.openai_api_key, settings.openai_base_url
        secret = key.get_secret_value().strip() if key is not None else ""
        if not secret:
            raise ProviderHardError(
                f"no {gateway} API key",
                "the key is not set",
                f"set {_KEY_VARS[gateway]} in the environment or .env",
                provider=gateway,
            )
        return cls(secret, base_url, settings.provider_timeout_s, label=gateway)

    def send(self, call: VendorCall) -> VendorAnswer:
        response_format: ResponseFormat = {
            "type": "json_schema",
            "json_schema": {"name": call.schema_name, "schema": call.schema, "strict": True},
        }
        error: ProviderError
        try:
            response = self._sdk.chat.completions.create(
                model=call.model,
                messages=build_messages(call),
                response_format=response_format,
                max_completion_tokens=call.max_output_tokens,
                temperature=call.temperature,
                timeout=call.timeout_s,
            )
        except openai.OpenAIError as exc:
            error = self._error(exc).redact(self._sdk.api_key)
        else:
            return self._answer(response)
        # Raised outside the except block so the SDK's exception (which holds the request and
        # its headers) is neither the cause nor the context of ours.
        raise error from None

    def transcribe(
        self, audio: Path, model: str, language: str | None, timeout_s: float
    ) -> dict[str, Any]:
        """One audio file to the transcription endpoint (a multipart upload): the answer as a
        plain dict (``text``, and ``segments`` and ``language`` when the model gives them).

        Whisper models answer ``verbose_json`` with timed segments; the ``gpt-4o-*-transcribe``
        models only ``json`` (text alone)."""
        verbose = not model.startswith("gpt-4o")
        extra: dict[str, Any] = {"language": language} if language else {}
        if verbose:
            extra["timestamp_granularities"] = ["segment"]
        error: ProviderError
        try:
            with audio.open("rb") as f:
                response = self._sdk.audio.transcriptions.create(
                    file=(audio.name, f, "audio/wav"),
                    model=model,
                    response_format="verbose_json" if verbose else "json",
                    timeout=timeout_s,
                    **extra,
                )
        except openai.OpenAIError as exc:
            error = self._error(exc).redact(self._sdk.api_key)
        except ValueError:  # a body that is not JSON, sent as JSON (a gateway's error page)
            error = self._not_transcription("the body is not JSON")
        else:
            if isinstance(response, str):  # the SDK hands back a body it could not read as JSON
                raise self._not_transcription("the body is not a JSON object")
            dumped = response.model_dump() if hasattr(response, "model_dump") else response
            return dict(dumped) if isinstance(dumped, dict) else {"text": dumped}
        raise error from None

    def _not_transcription(self, why: str) -> ProviderHardError:
        return ProviderHardError(
            f"{self.label} answered something that is not a transcription",
            why,
            "check the base URL points at an OpenAI-compatible /v1 endpoint",
            provider=self.label,
        )

    def _answer(self, response: Any) -> VendorAnswer:
        choices = getattr(response, "choices", None)
        if not choices:
            raise ProviderHardError(
                f"{self.label} answered something that is not a chat completion",
                "the response has no choices",
                "check the base URL points at an OpenAI-compatible /v1 endpoint",
                provider=self.label,
            )
        choice = choices[0]
        message = choice.message
        refusal = getattr(message, "refusal", None)
        usage = getattr(response, "usage", None)
        return VendorAnswer(
            text=message.content or "",
            tokens_in=(usage.prompt_tokens or 0) if usage is not None else 0,
            tokens_out=(usage.completion_tokens or 0) if usage is not None else 0,
            finish_reason=normalise_finish(choice.finish_reason, refusal),
            refusal=refusal,
            model=getattr(response, "model", None),
        )

    def _error(self, exc: openai.OpenAIError) -> ProviderError:
        """Map the SDK's exception classes to ours; statuses are read, never our own text."""
        p = self.label
        if isinstance(exc, openai.APITimeoutError):
            return ProviderTransient(
                f"{p} did not answer in time",
                "the request timed out",
                "raise ADREF_PROVIDER_TIMEOUT_S if this keeps happening",
                provider=p,
            )
        if isinstance(exc, openai.APIConnectionError):
            return ProviderTransient(
                f"could not reach {p}", "the connection failed", "check the network", provider=p
            )
        if not isinstance(exc, openai.APIStatusError):
            return ProviderHardError(
                f"{p} answered something the SDK could not read",
                self._vendor_message(exc),
                "check the base URL points at an OpenAI-compatible /v1 endpoint",
                provider=p,
            )
        why = self._vendor_message(exc)
        if isinstance(exc, openai.RateLimitError):
            if exc.code == "insufficient_quota" or exc.type == "insufficient_quota":
                return ProviderHardError(
                    f"{p} quota exhausted",
                    why,
                    f"check the {p} account's billing and credit",
                    provider=p,
                )
            return ProviderTransient(
                f"{p} rate limit reached",
                why,
                "the call is retried after the wait the vendor asked for",
                provider=p,
                retry_after_s=parse_retry_after(exc.response.headers),
            )
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            # OpenAI's auth messages quote part of the key: leave them out entirely.
            return ProviderHardError(
                f"{p} rejected the API key",
                f"HTTP {exc.status_code}",
                f"set {_KEY_VARS.get(p, _KEY_VARS['openai'])} to a valid key with access to the model",
                provider=p,
            )
        if exc.status_code >= 500:
            return ProviderTransient(
                f"{p} had a server error", f"HTTP {exc.status_code}: {why}", provider=p
            )
        return ProviderHardError(
            f"{p} refused the request",
            f"HTTP {exc.status_code}: {why}",
            "check the model name and the request; retrying will not help",
            provider=p,
        )

    def _vendor_message(self, exc: openai.OpenAIError) -> str:
        """The vendor's own short message, without the key and cut to a readable length."""
        body = getattr(exc, "body", None)
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, str) or not message.strip():
            message = type(exc).__name__
        key = self._sdk.api_key
        if key:
            message = message.replace(key, "***")
        message = re.sub(r"\s+", " ", message).strip()
        if len(message) > _MESSAGE_CHARS:
            message = message[: _MESSAGE_CHARS - 1].rstrip() + "…"
        return message


def build_messages(call: VendorCall) -> list[ChatCompletionMessageParam]:
    """System, then one user turn: the text, then each image after its label; then the re-ask."""
    parts: list[ChatCompletionContentPartParam] = [{"type": "text", "text": call.user_text}]
    for image in call.images:
        parts.append({"type": "text", "text": image.label})
        parts.append(
            {"type": "image_url", "image_url": {"url": _data_url(image), "detail": image.detail}}
        )
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": call.system},
        {"role": "user", "content": parts},
    ]
    if call.retry_feedback:
        if call.previous_answer is not None:
            messages.append({"role": "assistant", "content": call.previous_answer})
        messages.append({"role": "user", "content": call.retry_feedback})
    return messages


def normalise_finish(reason: str | None, refusal: str | None) -> str:
    """OpenAI's finish reason in adref's words; a refusal wins (OpenAI reports it as "stop")."""
    if refusal:
        return "refusal"
    return {"stop": "stop", "length": "length", "content_filter": "safety"}.get(
        reason or "", "other"
    )


def _data_url(image: ImagePart) -> str:
    return f"data:{image.media_type};base64,{base64.b64encode(image.data).decode('ascii')}"


class OpenAIProvider(RemoteProvider):
    name = "openai"
    vendor = "openai"
    default_model = DEFAULT_MODEL

    def make_client(self, key: str) -> VendorClient:
        s = self.settings
        return OpenAIClient(key, s.openai_base_url, s.provider_timeout_s, label=self.name)


class FactChatProvider(OpenAIProvider):
    """The seed's gateway: OpenAI-compatible, its own key and endpoint."""

    name = "factchat"

    def make_client(self, key: str) -> VendorClient:
        s = self.settings
        return OpenAIClient(key, s.factchat_base_url, s.provider_timeout_s, label=self.name)
