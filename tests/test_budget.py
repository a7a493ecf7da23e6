"""Token and cost maths against the vendors' own worked examples."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from adref.errors import InputError
from adref.providers.remote.cost_estimates import (
    ANTHROPIC_TOOL_OVERHEAD,
    FALLBACK_PRICES,
    MESSAGE_OVERHEAD,
    OUTPUT_ESTIMATE,
    PRICES,
    Price,
    claude_resize,
    cost_usd,
    estimate_call,
    image_tokens,
    openai_resize,
    price_for,
    text_tokens,
)
from adref.providers.remote.vendor_call import ImagePart, Vendor, VendorCall
from adref.settings import Settings

# (vendor, model, width, height, detail, tokens): from the vendors' docs, or the rule worked out.
EXAMPLES = [
    ("openai", "gpt-4o", 1024, 1024, "high", 765),  # docs: 768x768, 4 tiles
    ("openai", "gpt-4o", 2048, 4096, "high", 1105),  # docs: 1024x2048 -> 768x1536, 6 tiles
    ("openai", "gpt-4o", 4096, 8192, "low", 85),  # docs: low is the base alone
    ("openai", "gpt-4o", 2048, 4096, "auto", 1105),  # auto planned as high
    ("openai", "gpt-4o", 512, 512, "high", 255),  # one tile
    ("openai", "gpt-4o", 480, 270, "high", 255),  # small: never enlarged
    ("openai", "gpt-4o", 1920, 1080, "high", 1105),  # 1365x768: 3x2 tiles
    ("openai", "gpt-4o-mini", 1024, 1024, "high", 2833 + 4 * 5667),  # docs: mini's own rates
    ("openai", "openai/gpt-4o-2024-08-06", 1024, 1024, "high", 765),  # gateway + snapshot
    ("anthropic", "claude-sonnet-4-20250514", 1000, 1000, "auto", 1334),  # docs: ~1334
    ("anthropic", "claude-sonnet-4-20250514", 200, 200, "auto", 54),  # docs: ~54
    ("anthropic", "claude-sonnet-4-20250514", 1092, 1092, "auto", 1590),  # docs: max unresized 1:1
    ("anthropic", "claude-sonnet-4-20250514", 1920, 1080, "auto", 1599),  # shrunk to 1460x821
    ("gemini", "gemini-2.5-flash", 384, 384, "auto", 258),  # docs: both sides <= 384
    ("gemini", "gemini-2.5-flash", 100, 384, "auto", 258),
    ("gemini", "gemini-2.5-flash", 385, 200, "auto", 258),  # one 768 tile
    ("gemini", "gemini-2.5-flash", 768, 768, "auto", 258),
    ("gemini", "gemini-2.5-flash", 1920, 1080, "auto", 6 * 258),  # 3x2 tiles of 768
    ("gemini", "gemini-2.5-flash", 1080, 1920, "auto", 6 * 258),
]


@pytest.mark.parametrize(
    ("vendor", "model", "width", "height", "detail", "tokens"),
    EXAMPLES,
    ids=[f"{e[0]}-{e[2]}x{e[3]}-{e[4]}-{e[1]}" for e in EXAMPLES],
)
def test_image_tokens(
    vendor: Vendor, model: str, width: int, height: int, detail: str, tokens: int
) -> None:
    assert image_tokens(vendor, model, width, height, detail) == tokens


def test_openai_resize_steps() -> None:
    assert openai_resize(2048, 4096) == (768, 1536)
    assert openai_resize(1024, 1024) == (768, 768)
    assert openai_resize(600, 400) == (600, 400)


def test_claude_resize_limits() -> None:
    w, h = claude_resize(4000, 1000)
    assert w <= 1568 and abs(w / h - 4.0) < 0.01
    w, h = claude_resize(1920, 1080)
    assert w * h <= 1_200_000 and max(w, h) <= 1568
    assert claude_resize(800, 600) == (800, 600)


def test_text_tokens_count_utf8_bytes_over_three() -> None:
    assert text_tokens("") == 0
    assert text_tokens("abc") == 1
    assert text_tokens("abcd") == 2
    assert text_tokens("광고") == 2  # 6 bytes
    mixed = "이 광고는 summer sale 30%를 알립니다."
    assert text_tokens(mixed) == math.ceil(len(mixed.encode()) / 3)
    assert text_tokens(mixed) >= len(mixed) / 4  # never below English's 4 chars a token


def settings_with(tmp_path: Path, prices: object | None = None, raw: str | None = None) -> Settings:
    if prices is None and raw is None:
        return Settings(home=tmp_path)
    path = tmp_path / "prices.json"
    path.write_text(raw if raw is not None else json.dumps(prices), encoding="utf-8")
    return Settings(home=tmp_path, prices_file=path)


def test_default_prices(tmp_path: Path) -> None:
    s = settings_with(tmp_path)
    assert price_for("openai", "gpt-4o", s) == Price(2.50, 10.00)
    assert price_for("anthropic", "claude-sonnet-4-20250514", s) == Price(3.00, 15.00)
    assert price_for("gemini", "gemini-2.5-flash", s) == Price(0.30, 2.50)
    assert price_for("openai", "gpt-4o-2024-08-06", s) == PRICES["gpt-4o"]  # dated snapshot
    assert price_for("openai", "gpt-4o-mini", s) == PRICES["gpt-4o-mini"]  # longest prefix
    assert price_for("openai", "openai/gpt-4o", s) == PRICES["gpt-4o"]  # gateway prefix
    assert price_for("gemini", "some-future-model", s) == FALLBACK_PRICES["gemini"]


def test_cost_usd(tmp_path: Path) -> None:
    s = settings_with(tmp_path)
    assert cost_usd("openai", "gpt-4o", 1_000_000, 0, s) == pytest.approx(2.50)
    assert cost_usd("openai", "gpt-4o", 2000, 1000, s) == pytest.approx(0.005 + 0.01)
    assert cost_usd("gemini", "gemini-2.5-flash", 0, 1_000_000, s) == pytest.approx(2.50)


def test_prices_file_overrides_and_adds(tmp_path: Path) -> None:
    s = settings_with(
        tmp_path,
        {"gpt-4o": {"input": 1.0, "output": 2}, "my-gateway-model": {"input": 0.5, "output": 1.5}},
    )
    assert price_for("openai", "gpt-4o", s) == Price(1.0, 2.0)
    assert price_for("openai", "my-gateway-model", s) == Price(0.5, 1.5)
    assert price_for("anthropic", "claude-sonnet-4-20250514", s) == Price(3.00, 15.00)
    assert cost_usd("openai", "gpt-4o", 1_000_000, 1_000_000, s) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"gpt-4o": {"input": 1.0}}', "bad entry for 'gpt-4o'"),
        ('{"gpt-4o": {"input": -1, "output": 2}}', "bad entry"),
        ('{"gpt-4o": {"input": "cheap", "output": 2}}', "bad entry"),
        ('{"gpt-4o": 3}', "bad entry"),
    ],
)
def test_a_bad_prices_file_is_a_clear_input_error(tmp_path: Path, raw: str, message: str) -> None:
    s = settings_with(tmp_path, raw=raw)
    with pytest.raises(InputError, match=message) as err:
        price_for("openai", "gpt-4o", s)
    assert "prices file" in str(err.value) and "USD per million tokens" in str(err.value)


def test_a_missing_prices_file_is_an_input_error(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, prices_file=tmp_path / "nope.json")
    with pytest.raises(InputError, match="cannot read the prices file"):
        price_for("gemini", "gemini-2.5-flash", s)


def call_with(images: list[ImagePart], **kw: object) -> VendorCall:
    return VendorCall(
        model=str(kw.pop("model", "gpt-4o")),
        system="You analyse ads." * 10,
        user_text="이 광고를 분석하세요. Answer in JSON." * 20,
        images=images,
        schema={"type": "object", "properties": {"genre": {"type": "string"}}},
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("vendor", ["openai", "anthropic", "gemini"])
def test_estimate_call_adds_up(vendor: Vendor, tmp_path: Path) -> None:
    s = settings_with(tmp_path)
    images = [
        ImagePart(b"x", 480, 270, "group 0 · 0.0-2.0 s", detail="high"),
        ImagePart(b"x", 1536, 768, "groups 1-9 · 2.0-30.0 s", detail="high"),
    ]
    call = call_with(
        images,
        model={
            "openai": "gpt-4o",
            "anthropic": "claude-sonnet-4-20250514",
            "gemini": "gemini-2.5-flash",
        }[vendor],
    )
    tokens_in, tokens_out, cost = estimate_call(vendor, call, s)
    expected = (
        text_tokens(call.system)
        + text_tokens(call.user_text)
        + text_tokens(json.dumps(call.schema, ensure_ascii=False))
        + sum(image_tokens(vendor, call.model, i.width, i.height, i.detail) for i in images)
        + sum(text_tokens(i.label) for i in images)
        + 2 * MESSAGE_OVERHEAD
        + (ANTHROPIC_TOOL_OVERHEAD if vendor == "anthropic" else 0)
    )
    assert tokens_in == expected
    assert tokens_out == OUTPUT_ESTIMATE
    assert cost == pytest.approx(cost_usd(vendor, call.model, tokens_in, tokens_out, s))
    # one more image costs exactly its tokens and its label
    more = call_with([*images, images[0]], model=call.model)
    extra = image_tokens(vendor, call.model, 480, 270, "high") + text_tokens(images[0].label)
    assert estimate_call(vendor, more, s)[0] == tokens_in + extra


def test_estimate_call_counts_a_re_ask_and_caps_output(tmp_path: Path) -> None:
    s = settings_with(tmp_path)
    plain = call_with([], max_output_tokens=500)
    again = call_with(
        [], max_output_tokens=500, previous_answer='{"genre": 1}', retry_feedback="genre: not a str"
    )
    base_in, base_out, _ = estimate_call("gemini", plain, s)
    retry_in, _, _ = estimate_call("gemini", again, s)
    assert base_out == 500
    assert retry_in == (
        base_in
        + text_tokens('{"genre": 1}')
        + text_tokens("genre: not a str")
        + 2 * MESSAGE_OVERHEAD
    )
