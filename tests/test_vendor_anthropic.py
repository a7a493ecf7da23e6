"""The Anthropic client: the real SDK over a real socket to a fake Messages API on loopback.

What every vendor does (refusal, truncation, 429, 5xx, timeout, keys) is in test_vendor_contract.py;
here: the forced tool, Anthropic's request shape, 529 overloaded, low credit, image types.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import cv2
import numpy as np
import pytest

from adref.analysis import AnalysisContent
from adref.errors import ProviderError, ProviderHardError, ProviderTransient
from adref.providers.remote.anthropic import DEFAULT_MODEL, AnthropicClient
from adref.providers.remote.vendor_call import ImagePart, VendorCall
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_vendor import Reply, sample_answer

KEY = "sk-ant-adref-SECRET-0000"
MODEL = "claude-sonnet-4-5"  # DEFAULT_MODEL is on the SDK's deprecation list; it warns


def encode(ext: str, shade: int, size: tuple[int, int] = (12, 16)) -> bytes:
    pixels = np.full((*size, 3), shade, dtype=np.uint8)
    ok, buf = cv2.imencode(ext, pixels)
    assert ok
    return bytes(buf.tobytes())


def image(
    label: str, ext: str = ".jpg", media_type: str = "image/jpeg", shade: int = 90
) -> ImagePart:
    return ImagePart(
        data=encode(ext, shade), width=16, height=12, label=label, media_type=media_type
    )


def make_call(**kw: Any) -> VendorCall:
    fields: dict[str, Any] = {
        "model": MODEL,
        "system": "You analyse video ads.",
        "user_text": "Analyse this ad.",
        "images": [image("group 0 · 0.0-2.0 s"), image("group 1 · 2.0-4.5 s", ".png", "image/png")],
        "schema": AnalysisContent.model_json_schema(),
        **kw,
    }
    return VendorCall(**fields)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server
    assert server.problems == [], "the client sent a request Anthropic would reject"


@pytest.fixture
def client(fake: FakeAnthropic) -> AnthropicClient:
    return AnthropicClient(api_key=KEY, base_url=fake.base_url, timeout_s=5.0)


def send_failing(client: AnthropicClient, call: VendorCall | None = None) -> ProviderError:
    """The error one failing send raises, checked to carry no key and no SDK chain."""
    with pytest.raises(ProviderError) as info:
        client.send(call or make_call())
    exc = info.value
    assert exc.provider == "anthropic"
    for text in (str(exc), repr(exc), exc.what, exc.why, exc.hint):
        assert KEY not in text
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__
    return exc


# -- answers ----------------------------------------------------------------------------------


def test_valid_answer_is_the_tool_input_as_json(
    fake: FakeAnthropic, client: AnthropicClient
) -> None:
    answer_payload = sample_answer(groups=2)
    answer_payload["summary"] = "짧은 제품 광고."
    fake.push(Reply.json(answer_payload, usage=(1500, 420)))

    answer = client.send(make_call())

    assert json.loads(answer.text) == answer_payload
    assert "짧은 제품 광고." in answer.text  # ensure_ascii=False keeps Korean readable
    assert (answer.tokens_in, answer.tokens_out) == (1500, 420)
    assert answer.model == MODEL
    assert answer.finish_reason == "stop"
    assert answer.refusal is None
    AnalysisContent.model_validate_json(answer.text)


def test_request_has_the_documented_shape(fake: FakeAnthropic, client: AnthropicClient) -> None:
    call = make_call(max_output_tokens=2048, temperature=0.1)
    client.send(call)

    assert len(fake.calls) == 1
    body, headers = fake.calls[0], fake.headers[0]
    assert headers["x-api-key"] == KEY
    assert headers["anthropic-version"]
    assert body["model"] == MODEL
    assert body["system"] == "You analyse video ads."
    assert body["max_tokens"] == 2048
    assert body["temperature"] == 0.1
    assert body["tools"] == [
        {
            "name": "ad_analysis",
            "description": "Record the analysis of the ad.",
            "input_schema": call.schema,
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "ad_analysis"}

    [message] = body["messages"]
    assert message["role"] == "user"
    blocks = message["content"]
    assert [b["type"] for b in blocks] == ["text", "text", "image", "text", "image"]
    assert blocks[0]["text"] == "Analyse this ad."
    for label_block, image_block, part in zip(blocks[1::2], blocks[2::2], call.images, strict=True):
        assert label_block["text"] == part.label
        source = image_block["source"]
        assert source["type"] == "base64"
        assert source["media_type"] == part.media_type
        assert base64.b64decode(source["data"]) == part.data


def test_custom_schema_name_names_the_tool(fake: FakeAnthropic, client: AnthropicClient) -> None:
    client.send(make_call(schema_name="ad_analysis_v2", images=[]))
    assert fake.calls[0]["tool_choice"] == {"type": "tool", "name": "ad_analysis_v2"}
    assert fake.calls[0]["tools"][0]["name"] == "ad_analysis_v2"
    assert fake.calls[0]["messages"][0]["content"] == [{"type": "text", "text": "Analyse this ad."}]


def test_reask_sends_previous_answer_then_feedback(
    fake: FakeAnthropic, client: AnthropicClient
) -> None:
    call = make_call(
        previous_answer='{"genre": "opera"',
        retry_feedback="genre: unknown genre code 'opera'. Answer again with the tool.",
    )
    answer = client.send(call)

    roles = [m["role"] for m in fake.calls[0]["messages"]]
    assert roles == ["user", "assistant", "user"]
    _, assistant, feedback = fake.calls[0]["messages"]
    assert assistant["content"] == [{"type": "text", "text": '{"genre": "opera"'}]
    assert feedback["content"] == [{"type": "text", "text": call.retry_feedback}]
    assert fake.calls[0]["tool_choice"] == {"type": "tool", "name": "ad_analysis"}
    assert json.loads(answer.text) == sample_answer()


# -- errors -----------------------------------------------------------------------------------


def test_overloaded_529_is_transient(fake: FakeAnthropic, client: AnthropicClient) -> None:
    fake.push(Reply("overloaded"))
    exc = send_failing(client)
    assert isinstance(exc, ProviderTransient)
    assert "529" in exc.why
    assert len(fake.calls) == 1  # the SDK did not retry on its own
    client.send(make_call())
    assert len(fake.calls) == 2


def test_low_credit_balance_is_hard_with_a_billing_hint(
    fake: FakeAnthropic, client: AnthropicClient
) -> None:
    fake.push(Reply("quota"))
    exc = send_failing(client)
    assert isinstance(exc, ProviderHardError)
    assert "credit balance is too low" in exc.why
    assert "Billing" in exc.hint


def test_unsupported_image_type_fails_before_any_request(
    fake: FakeAnthropic, client: AnthropicClient
) -> None:
    bmp = image("group 0", ".bmp", "image/bmp")
    exc = send_failing(client, make_call(images=[bmp]))
    assert isinstance(exc, ProviderHardError)
    assert fake.calls == []


# -- settings ---------------------------------------------------------------------------------


def test_default_model_is_the_current_claude_sonnet_4() -> None:
    from adref.providers.remote.anthropic import AnthropicProvider

    assert DEFAULT_MODEL == AnthropicProvider.default_model == "claude-sonnet-4-6"


# -- the fake itself rejects what Anthropic rejects -------------------------------------------


def _raw_create(fake: FakeAnthropic, **overrides: Any) -> None:
    request: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "t", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "tool", "name": "t"},
        **overrides,
    }
    with anthropic.Anthropic(api_key=KEY, base_url=fake.base_url, max_retries=0) as sdk:
        sdk.messages.create(**request)


def _png_labelled_jpeg() -> list[dict[str, Any]]:
    data = base64.b64encode(encode(".png", 10)).decode()
    source = {"type": "base64", "media_type": "image/jpeg", "data": data}
    return [{"role": "user", "content": [{"type": "image", "source": source}]}]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"messages": [{"role": "assistant", "content": "hi"}]}, "alternate"),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
            "alternate",
        ),
        ({"messages": _png_labelled_jpeg()}, "does not match"),
        ({"tool_choice": {"type": "tool", "name": "other"}}, "no tool named"),
        ({"tools": [{"name": "t", "input_schema": {"type": "array"}}]}, "input_schema"),
        ({"max_tokens": 0}, "max_tokens"),
    ],
    ids=[
        "starts-with-assistant",
        "two-user-turns",
        "image-mismatch",
        "unknown-tool",
        "schema",
        "max-tokens",
    ],
)
def test_fake_rejects_malformed_requests(overrides: dict[str, Any], problem: str) -> None:
    with FakeAnthropic() as fake:
        with pytest.raises(anthropic.BadRequestError) as info:
            _raw_create(fake, **overrides)
        assert problem in info.value.message
        assert len(fake.problems) == 1
        assert fake.script.pending() == 0
