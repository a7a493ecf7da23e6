"""Gemini through Google's ``google-genai`` SDK: one ``generate_content`` request per call.

The structured output goes in ``response_json_schema``, not ``response_schema``: in google-genai
1.x a dict given as ``response_schema`` is rewritten in place (``$defs`` inlined) and squeezed
into the SDK's OpenAPI-subset ``Schema`` model, while ``response_json_schema`` travels verbatim
as ``responseJsonSchema``, which takes the JSON Schema pydantic emits (``$ref``, ``anyOf``,
``"type": ["string", "null"]``).

The key goes to the SDK, which sends it in the ``x-goog-api-key`` header (never the URL), and
it is scrubbed from any vendor text we quote, so no error or log line can carry it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from google import genai
from google.genai import errors, types

from adref.errors import ProviderHardError, ProviderTransient
from adref.providers.remote.provider import RemoteProvider
from adref.providers.remote.retry_after import parse_retry_after
from adref.providers.remote.vendor_call import Vendor, VendorAnswer, VendorCall, VendorClient
from adref.settings import Settings

DEFAULT_MODEL = "gemini-2.5-flash"

_KEY_HINT = "Set GEMINI_API_KEY (or GOOGLE_API_KEY / ADREF_GEMINI_API_KEY) to a valid Gemini key"
_SAFETY = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"}
_SAFETY |= {"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"}
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length"} | dict.fromkeys(_SAFETY, "safety")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_RETRY_IN = re.compile(r"retry in (\d+(?:\.\d+)?)s", re.IGNORECASE)


class GeminiClient:
    """``VendorClient`` for the Gemini API; the SDK's own retries are off (attempts=1)."""

    vendor: Vendor = "gemini"

    def __init__(self, api_key: str, base_url: str | None, timeout_s: float) -> None:
        if not api_key.strip():
            raise _missing_key()
        self._key = api_key.strip()
        self.timeout_s = timeout_s
        self._client = genai.Client(
            vertexai=False,  # never let GOOGLE_GENAI_USE_VERTEXAI reroute the call
            api_key=self._key,
            http_options=types.HttpOptions(
                base_url=base_url,
                timeout=_millis(timeout_s),
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    def __repr__(self) -> str:
        return f"GeminiClient(timeout_s={self.timeout_s})"

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiClient:
        key = settings.gemini_api_key
        if key is None or not key.get_secret_value().strip():
            raise _missing_key()
        return cls(key.get_secret_value(), settings.gemini_base_url, settings.provider_timeout_s)

    def send(self, call: VendorCall) -> VendorAnswer:
        """One HTTP request, within the tighter of this client's and the call's timeout."""
        config = types.GenerateContentConfig(
            system_instruction=call.system,
            response_mime_type="application/json",
            response_json_schema=call.schema,
            max_output_tokens=call.max_output_tokens,
            temperature=call.temperature,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            thinking_config=_thinking(call.model),
            http_options=types.HttpOptions(timeout=_millis(min(self.timeout_s, call.timeout_s))),
        )
        response = self._generate(
            call.model, build_contents(call), config, min(self.timeout_s, call.timeout_s)
        )
        return to_answer(response, call.model)

    def transcribe(
        self, audio: Path, model: str, instruction: str, schema: dict[str, Any]
    ) -> VendorAnswer:
        """One audio file (an inline audio part) with the instruction, answered as JSON that
        follows ``schema``."""
        config = types.GenerateContentConfig(
            response_mime_type="application/json",
            response_json_schema=schema,
            temperature=0.0,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            thinking_config=_thinking(model),
        )
        parts = [
            types.Part.from_text(text=instruction),
            types.Part.from_bytes(data=audio.read_bytes(), mime_type="audio/wav"),
        ]
        contents: list[types.ContentUnionDict] = [types.Content(role="user", parts=parts)]
        return to_answer(self._generate(model, contents, config, self.timeout_s), model)

    def _generate(
        self,
        model: str,
        contents: list[types.ContentUnionDict],
        config: types.GenerateContentConfig,
        timeout_s: float,
    ) -> types.GenerateContentResponse:
        try:
            return self._client.models.generate_content(
                model=model, contents=contents, config=config
            )
        except errors.APIError as exc:
            raise self._api_error(exc).redact(self._key) from None
        except httpx.TimeoutException:
            raise ProviderTransient(
                "Gemini did not answer in time",
                f"no response within {timeout_s:g} s",
                provider="gemini",
            ) from None
        except (httpx.TransportError, errors.UnknownApiResponseError, json.JSONDecodeError) as exc:
            # A dropped connection, or a 200 whose body is not JSON (a proxy's error page).
            raise ProviderTransient(
                "Gemini connection failed", type(exc).__name__, provider="gemini"
            ) from None

    def _api_error(self, exc: errors.APIError) -> ProviderTransient | ProviderHardError:
        return classify_error(
            exc.code, exc.status, self._scrub(exc.message), exc.details, _headers(exc)
        )

    def _scrub(self, text: str | None) -> str:
        return (text or "").replace(self._key, "***")


def build_contents(call: VendorCall) -> list[types.ContentUnionDict]:
    """The user turn (text, then a label before each image); on a re-ask, the answer and feedback."""
    parts = [types.Part.from_text(text=call.user_text)]
    for image in call.images:
        parts.append(types.Part.from_text(text=image.label))
        parts.append(types.Part.from_bytes(data=image.data, mime_type=image.media_type))
    contents: list[types.ContentUnionDict] = [types.Content(role="user", parts=parts)]
    if call.retry_feedback is not None:
        previous = types.Part.from_text(text=call.previous_answer or "")
        contents.append(types.Content(role="model", parts=[previous]))
        feedback = types.Part.from_text(text=call.retry_feedback)
        contents.append(types.Content(role="user", parts=[feedback]))
    return contents


def to_answer(response: types.GenerateContentResponse, model: str) -> VendorAnswer:
    """The first candidate's text and the usage; a blocked prompt becomes a refusal.

    Thinking tokens (Gemini 2.5) are billed as output, so they count in ``tokens_out``.
    """
    usage = response.usage_metadata
    tokens_in = (usage.prompt_token_count or 0) if usage else 0
    thoughts = (usage.thoughts_token_count or 0) if usage else 0
    tokens_out = ((usage.candidates_token_count or 0) if usage else 0) + thoughts
    answer = VendorAnswer(
        text="",
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        model=response.model_version or model,
        extra={"thoughts_tokens": thoughts} if thoughts else {},
    )
    if not response.candidates:
        feedback = response.prompt_feedback
        reason = _name(feedback.block_reason) if feedback else ""
        answer.finish_reason = "refusal" if reason else "other"
        if reason:
            message = feedback.block_reason_message if feedback else None
            answer.refusal = f"prompt blocked: {reason}" + (f" ({message})" if message else "")
        return answer
    candidate = response.candidates[0]
    content_parts = candidate.content.parts if candidate.content else None
    answer.text = "".join(p.text for p in content_parts or [] if p.text and not p.thought)
    answer.finish_reason = _FINISH.get(_name(candidate.finish_reason), "other")
    return answer


def classify_error(
    code: int,
    status: str | None,
    message: str,
    body: Any,
    headers: Mapping[str, str],
) -> ProviderTransient | ProviderHardError:
    """Map one Gemini error to what adref does next.

    A 429 is a rate limit (wait and retry) unless waiting cannot help within the run: a
    ``QuotaFailure`` on a per-day quota (``quotaId`` containing ``PerDay``) or ``limit: 0`` in
    the message (this tier has no quota for the model, e.g. billing not enabled). The words
    "quota" and "billing" alone decide nothing: Google puts them in per-minute 429s too.
    """
    short = _short(message)
    why = f"{code} {status or ''}: {short}".replace(" :", ":")
    details = _details(body)
    if code == 429:
        if _daily_or_no_quota(message, details):
            return ProviderHardError(
                "Gemini quota used up",
                why,
                "Wait for the daily quota to reset, raise it (or enable billing) in Google AI "
                "Studio, or fall back to another provider",
                provider="gemini",
            )
        delay = parse_retry_after(headers)
        delay = _retry_delay(details) if delay is None else delay
        delay = _retry_in(message) if delay is None else delay
        return ProviderTransient("Gemini rate limit", why, provider="gemini", retry_after_s=delay)
    if code >= 500 or code == 408:
        return ProviderTransient("Gemini server error", why, provider="gemini")
    if code in (401, 403) or _is_key_problem(message, details):
        return ProviderHardError("Gemini rejected the API key", why, _KEY_HINT, provider="gemini")
    if code == 404:
        hint = "Check the model name (ADREF_MODEL) and the Gemini endpoint"
        return ProviderHardError("Gemini does not know this model", why, hint, provider="gemini")
    return ProviderHardError("Gemini rejected the request", why, provider="gemini")


def _daily_or_no_quota(message: str, details: list[dict[str, Any]]) -> bool:
    if re.search(r"\blimit: 0\b", message):
        return True
    for detail in details:
        if str(detail.get("@type", "")).endswith("google.rpc.QuotaFailure"):
            for violation in detail.get("violations") or []:
                if "perday" in str(violation.get("quotaId", "")).lower():
                    return True
    return False


def _is_key_problem(message: str, details: list[dict[str, Any]]) -> bool:
    """Gemini answers a bad key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID."""
    reasons = {str(d.get("reason", "")) for d in details}
    return any(r.startswith("API_KEY_") for r in reasons) or "api key not valid" in message.lower()


def _details(body: Any) -> list[dict[str, Any]]:
    """The ``details`` list of a Google error body (``{"error": {...}}`` or the inner object)."""
    if not isinstance(body, dict):
        return []
    inner = body.get("error", body)
    found = inner.get("details") if isinstance(inner, dict) else None
    return [d for d in found if isinstance(d, dict)] if isinstance(found, list) else []


def _retry_delay(details: list[dict[str, Any]]) -> float | None:
    """``google.rpc.RetryInfo.retryDelay``, a protobuf Duration in JSON: ``"30s"``, ``"1.5s"``."""
    for detail in details:
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            m = _DURATION.match(str(detail.get("retryDelay", "")))
            if m:
                return float(m.group(1))
    return None


def _retry_in(message: str) -> float | None:
    m = _RETRY_IN.search(message)
    return float(m.group(1)) if m else None


def _headers(exc: errors.APIError) -> Mapping[str, str]:
    headers = getattr(exc.response, "headers", None)
    return headers if isinstance(headers, Mapping) else {}


def _short(message: str) -> str:
    """The vendor's telling line, at most 200 characters: enough to act on, short enough to log.

    Google's 429 text opens with boilerplate; the line naming the exceeded quota says more.
    """
    lines = [line.strip(" *") for line in message.strip().splitlines()]
    quota = [line for line in lines if line.startswith("Quota exceeded")]
    line = (quota or lines or [""])[0]
    return line if len(line) <= 200 else line[:197] + "..."


def _name(value: object) -> str:
    """An SDK enum's wire name (an unknown value arrives as a plain string)."""
    return str(getattr(value, "value", value) or "")


def _millis(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _missing_key() -> ProviderHardError:
    return ProviderHardError(
        "No Gemini API key", "the gemini provider needs one", _KEY_HINT, "gemini"
    )


def _thinking(model: str) -> types.ThinkingConfig | None:
    """Flash models think by default and bill it as output, which can use up the answer's token
    budget before the JSON is written; describing images into a schema needs no thinking."""
    return types.ThinkingConfig(thinking_budget=0) if "flash" in model else None


class GeminiProvider(RemoteProvider):
    name = "gemini"
    vendor = "gemini"
    default_model = DEFAULT_MODEL

    def make_client(self, key: str) -> VendorClient:
        s = self.settings
        return GeminiClient(key, s.gemini_base_url, s.provider_timeout_s)
