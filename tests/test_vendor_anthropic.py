"""The Anthropic client: the real SDK over a real socket to a fake Messages API on loopback."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import cv2
import numpy as np
import pytest

from adref.errors import ProviderError, ProviderHardError, ProviderTransient
from adref.providers.schema import AnalysisContent
from adref.providers.vendors.anthropic import DEFAULT_MODEL, AnthropicClient
from adref.providers.wire import ImagePart, VendorCall
from adref.settings import Settings
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_vendor import Reply, sample_answer
from tests.support.http import unused_port

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


def test_prose_instead_of_the_tool_is_returned_as_text(
    fake: FakeAnthropic, client: AnthropicClient
) -> None:
    fake.push(Reply.text('Here it is: {"genre": "tvc"}'))
    answer = client.send(make_call())
    assert answer.text == 'Here it is: {"genre": "tvc"}'
    assert answer.finish_reason == "stop"


def test_refusal(fake: FakeAnthropic, client: AnthropicClient) -> None:
    fake.push(Reply.refusal("I can't analyse this content."))
    answer = client.send(make_call())
    assert answer.finish_reason == "refusal"
    assert answer.refusal == "I can't analyse this content."


def test_truncated_answer_finishes_with_length(
    fake: FakeAnthropic, client: AnthropicClient
) -> None:
    fake.push(Reply.truncated(sample_answer()))
    answer = client.send(make_call())
    whole = json.dumps(sample_answer(), ensure_ascii=False)
    assert answer.finish_reason == "length"
    assert answer.text == whole[: len(whole) // 2]
    with pytest.raises(ValueError):
        json.loads(answer.text)


# -- errors -----------------------------------------------------------------------------------


def test_rate_limit_carries_retry_after(fake: FakeAnthropic, client: AnthropicClient) -> None:
    fake.push(Reply.rate_limit(retry_after="2"))
    exc = send_failing(client)
    assert isinstance(exc, ProviderTransient)
    assert exc.retry_after_s == 2
    assert "429" in exc.why


def test_rate_limit_without_retry_after(fake: FakeAnthropic, client: AnthropicClient) -> None:
    fake.push(Reply.rate_limit(retry_after=None))
    exc = send_failing(client)
    assert isinstance(exc, ProviderTransient)
    assert exc.retry_after_s is None


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (Reply("overloaded"), "529"),
        (Reply.server_error(), "500"),
        (Reply.server_error(status=503), "503"),
    ],
    ids=["529-overloaded", "500", "503"],
)
def test_server_trouble_is_transient(
    fake: FakeAnthropic, client: AnthropicClient, reply: Reply, status: str
) -> None:
    fake.push(reply)
    exc = send_failing(client)
    assert isinstance(exc, ProviderTransient)
    assert status in exc.why


def test_slow_response_times_out_as_transient(fake: FakeAnthropic) -> None:
    fake.push(Reply.slow(2.0))
    quick = AnthropicClient(api_key=KEY, base_url=fake.base_url, timeout_s=0.5)
    exc = send_failing(quick)
    assert isinstance(exc, ProviderTransient)
    assert "timed out" in exc.why
    assert len(fake.calls) == 1


def test_nothing_listening_is_transient() -> None:
    nowhere = AnthropicClient(
        api_key=KEY, base_url=f"http://127.0.0.1:{unused_port()}", timeout_s=2.0
    )
    exc = send_failing(nowhere)
    assert isinstance(exc, ProviderTransient)


def test_bad_key_is_hard(fake: FakeAnthropic, client: AnthropicClient) -> None:
    fake.push(Reply("auth_error"))
    exc = send_failing(client)
    assert isinstance(exc, ProviderHardError)
    assert "authentication_error" in exc.why
    assert "ANTHROPIC_API_KEY" in exc.hint


def test_low_credit_balance_is_hard_with_a_billing_hint(
    fake: FakeAnthropic, client: AnthropicClient
) -> None:
    fake.push(Reply("quota"))
    exc = send_failing(client)
    assert isinstance(exc, ProviderHardError)
    assert "credit balance is too low" in exc.why
    assert "Billing" in exc.hint


def test_other_bad_request_is_hard_with_the_vendors_short_message(
    fake: FakeAnthropic, client: AnthropicClient
) -> None:
    fake.push(Reply("bad_request", "model: unknown model 'claude-nope'. " + "x" * 400))
    exc = send_failing(client)
    assert isinstance(exc, ProviderHardError)
    assert "unknown model 'claude-nope'" in exc.why
    assert len(exc.why) < 260


@pytest.mark.parametrize(
    "reply",
    [Reply.rate_limit(retry_after="1"), Reply.server_error(), Reply("overloaded"), Reply.slow(2.0)],
    ids=["429", "500", "529", "timeout"],
)
def test_one_http_request_per_send(fake: FakeAnthropic, reply: Reply) -> None:
    fake.push(reply)
    quick = AnthropicClient(api_key=KEY, base_url=fake.base_url, timeout_s=0.5)
    send_failing(quick)
    assert len(fake.calls) == 1  # the SDK did not retry on its own
    quick.send(make_call())
    assert len(fake.calls) == 2


def test_unsupported_image_type_fails_before_any_request(
    fake: FakeAnthropic, client: AnthropicClient
) -> None:
    bmp = image("group 0", ".bmp", "image/bmp")
    exc = send_failing(client, make_call(images=[bmp]))
    assert isinstance(exc, ProviderHardError)
    assert fake.calls == []


# -- settings ---------------------------------------------------------------------------------


def test_missing_key_names_the_variables() -> None:
    settings = Settings(_env_file=None, anthropic_api_key=None)  # type: ignore[call-arg]
    with pytest.raises(ProviderHardError) as info:
        AnthropicClient.from_settings(settings)
    assert "ANTHROPIC_API_KEY" in str(info.value)
    assert "ADREF_ANTHROPIC_API_KEY" in str(info.value)


def test_from_settings_uses_key_endpoint_and_timeout(fake: FakeAnthropic) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        anthropic_api_key=KEY,
        anthropic_base_url=fake.base_url,
        provider_timeout_s=7.0,
    )
    client = AnthropicClient.from_settings(settings)
    assert client.timeout_s == 7.0
    assert KEY not in repr(client)
    client.send(make_call())
    assert fake.headers[0]["x-api-key"] == KEY


def test_default_model_is_the_current_claude_sonnet_4() -> None:
    from adref.providers.remote import AnthropicProvider

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
