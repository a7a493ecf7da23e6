"""What a model call costs, in tokens and dollars, before it is made.

Image tokens follow each vendor's published rule, so an estimate matches the bill to within the
text part (which is estimated without a tokenizer, on the high side):

- OpenAI (GPT-4o family): at detail "high" (and "auto", which the model may bill as either, so
  the higher is planned) fit in 2048x2048, shrink until the short side is at most 768 (never
  enlarged), then ``base + per_tile * (512-px tiles)``: 85 + 170 per tile for gpt-4o. "low" is
  the base alone.
- Anthropic: an image whose long edge is over 1568 px or over ~1,600 tokens (1.2 MP) is shrunk
  to fit first; then ``ceil(w * h / 750)`` tokens.
- Gemini 2.x: an image with both sides at most 384 px is 258 tokens; a larger one is cut into
  768x768 tiles of 258 each. The docs give no resize before tiling, so we tile the image as sent,
  ``ceil(w / 768) * ceil(h / 768)``: an upper bound if Gemini shrinks huge images first.

Prices are USD per million tokens as the vendors list them; ``ADREF_PRICES_FILE`` overrides or
adds models without a release.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from adref.errors import InputError
from adref.providers.remote.vendor_call import Vendor, VendorCall
from adref.settings import Settings, get_settings


@dataclass(frozen=True)
class Price:
    input: float  # USD per million input tokens
    output: float  # USD per million output tokens


DEFAULT_MODELS: dict[Vendor, str] = {
    "openai": "gpt-4o",
    "anthropic": "claude-sonnet-4-6",
    "gemini": "gemini-2.5-flash",
}

PRICES: dict[str, Price] = {
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "claude-sonnet-4-6": Price(3.00, 15.00),
    "claude-sonnet-4-5": Price(3.00, 15.00),
    "claude-sonnet-4-20250514": Price(3.00, 15.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-opus-4-20250514": Price(15.00, 75.00),
    "claude-3-5-haiku-20241022": Price(0.80, 4.00),
    "gemini-2.5-flash": Price(0.30, 2.50),
    "gemini-2.5-pro": Price(1.25, 10.00),
    "gemini-2.0-flash": Price(0.10, 0.40),
}
# An unknown model is priced like its vendor's default model: a gateway alias or a dated
# snapshot of a listed model costs the same, and a prices file fixes anything else.
FALLBACK_PRICES: dict[Vendor, Price] = {v: PRICES[m] for v, m in DEFAULT_MODELS.items()}

OPENAI_TILE = 512
OPENAI_MAX_SIDE = 2048
OPENAI_MAX_SHORT = 768
# (base, per tile) by model prefix; longest prefix wins. gpt-4o's rule is the default.
_OPENAI_TILE_COST: dict[str, tuple[int, int]] = {
    "gpt-4o": (85, 170),
    "gpt-4o-mini": (2833, 5667),
    "o1": (75, 150),
    "o3": (75, 150),
}
CLAUDE_MAX_SIDE = 1568
CLAUDE_MAX_TOKENS = 1600  # the docs' "~1,600 tokens": larger images are shrunk first
CLAUDE_PIXELS_PER_TOKEN = 750
GEMINI_SMALL_SIDE = 384
GEMINI_TILE = 768
GEMINI_TILE_TOKENS = 258

MESSAGE_OVERHEAD = 8  # role markers and separators per message
ANTHROPIC_TOOL_OVERHEAD = 346  # the system prompt Claude 4 adds when a tool is forced
OUTPUT_ESTIMATE = 1500  # an analysis answer runs 800-1,400 tokens; the cap only bounds it


def image_tokens(vendor: Vendor, model: str, width: int, height: int, detail: str = "auto") -> int:
    """Input tokens one image of ``width`` x ``height`` costs (see the module docstring)."""
    if width < 1 or height < 1:
        raise ValueError(f"image size {width}x{height} is empty")
    if vendor == "openai":
        base, per_tile = _openai_tile_cost(model)
        if detail == "low":
            return base
        w, h = openai_resize(width, height)
        return base + per_tile * openai_tiles(w, h)
    if vendor == "anthropic":
        w, h = claude_resize(width, height)
        return math.ceil(w * h / CLAUDE_PIXELS_PER_TOKEN)
    if width <= GEMINI_SMALL_SIDE and height <= GEMINI_SMALL_SIDE:
        return GEMINI_TILE_TOKENS
    return GEMINI_TILE_TOKENS * gemini_tiles(width, height)


def openai_resize(width: int, height: int) -> tuple[int, int]:
    """The size OpenAI bills at high detail: within 2048x2048, short side at most 768."""
    w, h = width, height
    if max(w, h) > OPENAI_MAX_SIDE:
        big = max(w, h)
        w, h = max(1, w * OPENAI_MAX_SIDE // big), max(1, h * OPENAI_MAX_SIDE // big)
    if min(w, h) > OPENAI_MAX_SHORT:
        short = min(w, h)
        w, h = max(1, w * OPENAI_MAX_SHORT // short), max(1, h * OPENAI_MAX_SHORT // short)
    return w, h


def openai_tiles(width: int, height: int) -> int:
    return math.ceil(width / OPENAI_TILE) * math.ceil(height / OPENAI_TILE)


def claude_resize(width: int, height: int) -> tuple[int, int]:
    """The size Claude bills: long edge at most 1568 and at most ~1,600 tokens."""
    max_pixels = CLAUDE_MAX_TOKENS * CLAUDE_PIXELS_PER_TOKEN
    scale = min(1.0, CLAUDE_MAX_SIDE / max(width, height), math.sqrt(max_pixels / (width * height)))
    if scale >= 1.0:
        return width, height
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def gemini_tiles(width: int, height: int) -> int:
    return math.ceil(width / GEMINI_TILE) * math.ceil(height / GEMINI_TILE)


def text_tokens(text: str) -> int:
    """A high-side token count with no tokenizer to download: one token per 3 UTF-8 bytes.

    English runs about 4 characters a token and Hangul about one syllable (3 bytes) a token on
    current tokenizers, so mixed Korean/English text is over-counted a little, never under.
    """
    return math.ceil(len(text.encode("utf-8")) / 3)


def price_for(vendor: Vendor, model: str, settings: Settings | None = None) -> Price:
    """The price of ``model``: the prices file first, then the built-in table, then the vendor's."""
    settings = settings or get_settings()
    overrides = load_prices(settings.prices_file) if settings.prices_file else {}
    for table in (overrides, PRICES):
        found = _lookup(table, model)
        if found is not None:
            return found
    return FALLBACK_PRICES[vendor]


def cost_usd(
    vendor: Vendor, model: str, tokens_in: int, tokens_out: int, settings: Settings | None = None
) -> float:
    price = price_for(vendor, model, settings)
    return (tokens_in * price.input + tokens_out * price.output) / 1_000_000


def estimate_call(
    vendor: Vendor, call: VendorCall, settings: Settings | None = None
) -> tuple[int, int, float]:
    """(input tokens, output tokens, USD) one call is planned to cost, on the high side.

    Input is the system and user text, the schema (every vendor puts it in the context), each
    image and its label, and a per-message overhead; output is what an answer usually runs to.
    """
    messages = 2
    text = [call.system, call.user_text, json.dumps(call.schema, ensure_ascii=False)]
    if call.previous_answer is not None or call.retry_feedback is not None:
        messages += 2
        text += [call.previous_answer or "", call.retry_feedback or ""]
    tokens_in = sum(text_tokens(t) for t in text) + messages * MESSAGE_OVERHEAD
    for image in call.images:
        tokens_in += image_tokens(vendor, call.model, image.width, image.height, image.detail)
        tokens_in += text_tokens(image.label)
    if vendor == "anthropic":
        tokens_in += ANTHROPIC_TOOL_OVERHEAD
    tokens_out = min(call.max_output_tokens, OUTPUT_ESTIMATE)
    return tokens_in, tokens_out, cost_usd(vendor, call.model, tokens_in, tokens_out, settings)


def load_prices(path: Path) -> dict[str, Price]:
    """Read a prices file: ``{"model": {"input": usd_per_mtok, "output": usd_per_mtok}}``."""
    hint = 'write {"model-name": {"input": 2.5, "output": 10.0}} (USD per million tokens)'
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the prices file {path}", exc.strerror or "", hint) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"the prices file {path} is not valid JSON", str(exc), hint) from None
    if not isinstance(raw, dict):
        raise InputError(f"the prices file {path} is not a JSON object", "", hint)
    prices: dict[str, Price] = {}
    for model, entry in raw.items():
        values = entry if isinstance(entry, dict) else {}
        got = [values.get("input"), values.get("output")]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in got):
            raise InputError(
                f"the prices file {path} has a bad entry for {model!r}",
                "each model needs non-negative numbers for input and output",
                hint,
            )
        prices[model] = Price(float(values["input"]), float(values["output"]))
    return prices


def _lookup(table: dict[str, Price], model: str) -> Price | None:
    """Exact name, then without a gateway's ``vendor/`` prefix, then the longest listed prefix
    (a dated snapshot such as ``gpt-4o-2024-08-06`` costs what ``gpt-4o`` does)."""
    names = [model, model.rsplit("/", 1)[-1]]
    for name in names:
        if name in table:
            return table[name]
    bare = names[1]
    prefixes = [k for k in table if bare.startswith(k + "-")]
    return table[max(prefixes, key=len)] if prefixes else None


def _openai_tile_cost(model: str) -> tuple[int, int]:
    bare = model.rsplit("/", 1)[-1]
    matches = [k for k in _OPENAI_TILE_COST if bare == k or bare.startswith(k + "-")]
    return _OPENAI_TILE_COST[max(matches, key=len)] if matches else _OPENAI_TILE_COST["gpt-4o"]
