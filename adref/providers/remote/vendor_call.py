"""What crosses the line between adref and a vendor's SDK, in the vendor's terms but not its types.

Everything above this line (prompt, images, cost estimates, repair, fallback) is shared by every
vendor; everything below it is one small client per SDK that turns a ``VendorCall`` into one HTTP
request and the response into a ``VendorAnswer``, mapping the SDK's errors to ``adref.errors``:

- 429 → ``ProviderTransient`` with ``retry_after_s`` from Retry-After (seconds or HTTP date)
- 5xx, timeouts, dropped connections → ``ProviderTransient``
- 401/403 (auth), quota/billing, 400/404/422 (bad request, unknown model) → ``ProviderHardError``

Clients are built with the SDK's own retries off (``max_retries=0`` or its equivalent): adref's
provider loop is the one place that retries, so retries never multiply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Vendor = Literal["openai", "anthropic", "gemini"]


@dataclass(frozen=True)
class ImagePart:
    """One image, already resized and encoded for the vendor it goes to."""

    data: bytes  # encoded image bytes
    width: int
    height: int
    label: str  # shown to the model just before the image, e.g. "group 2 · 4.0-7.5 s"
    media_type: str = "image/jpeg"
    detail: Literal["low", "high", "auto"] = "auto"  # OpenAI's image detail; others ignore it


@dataclass(frozen=True)
class VendorCall:
    """One request: the same content for every vendor, rendered by each client its own way.

    ``schema`` is the JSON schema the answer must follow (asked for with the SDK's native
    structured output: OpenAI ``response_format`` json_schema strict, Anthropic a forced tool,
    Gemini ``response_schema``/``response_json_schema``). ``retry_feedback`` is set on the one
    re-ask after an invalid answer: the client then sends ``previous_answer`` as the assistant's
    turn and ``retry_feedback`` as a new user turn.
    """

    model: str
    system: str
    user_text: str
    images: list[ImagePart]
    schema: dict[str, Any]
    schema_name: str = "ad_analysis"
    max_output_tokens: int = 4096
    timeout_s: float = 120.0
    temperature: float = 0.2
    previous_answer: str | None = None
    retry_feedback: str | None = None


@dataclass
class VendorAnswer:
    """The raw answer: text that should be the JSON object, plus what the vendor says it cost.

    ``text`` is the JSON as the model produced it (for Anthropic the forced tool's input
    serialised with ``json.dumps``), never parsed or repaired here. ``finish_reason`` is
    normalised to ``stop``, ``length`` (cut off at max tokens), ``refusal``, ``safety`` or
    ``other``; ``refusal`` holds the model's refusal text when it declined.
    """

    text: str
    tokens_in: int
    tokens_out: int
    finish_reason: str = "stop"
    refusal: str | None = None
    model: str | None = None  # the model the vendor says answered
    extra: dict[str, Any] = field(default_factory=dict)


class VendorClient(Protocol):
    """One SDK, one method. Raise only ``adref.errors`` provider errors; never log the key."""

    @property
    def vendor(self) -> Vendor: ...

    def send(self, call: VendorCall) -> VendorAnswer: ...
