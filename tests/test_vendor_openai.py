"""The OpenAI client through the real ``openai`` SDK, over HTTP, against a fake OpenAI server.

What every vendor does (refusal, truncation, 429, 5xx, timeout, keys) is in test_vendor_contract.py;
here: OpenAI's request shape, its finish reasons, quota, the FactChat gateway, Retry-After parsing.
"""

from __future__ import annotations

import base64
import json
import pickle
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime

import cv2
import numpy as np
import openai
import pytest

from adref.errors import ProviderError, ProviderHardError
from adref.providers.remote.openai import DEFAULT_MODEL, OpenAIClient, normalise_finish
from adref.providers.remote.retry_after import parse_retry_after
from adref.providers.remote.vendor_call import ImagePart, VendorCall
from adref.settings import Settings
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_vendor import Reply, sample_answer

KEY = "sk-adref-SECRET-0000"
SCHEMA = {
    "type": "object",
    "properties": {"genre": {"type": "string"}},
    "required": ["genre"],
    "additionalProperties": False,
}


def _image(ext: str, colour: tuple[int, int, int]) -> bytes:
    pixels = np.full((24, 32, 3), colour, dtype=np.uint8)
    ok, encoded = cv2.imencode(ext, pixels)
    assert ok
    return encoded.tobytes()


JPEG = _image(".jpg", (0, 128, 255))
PNG = _image(".png", (255, 0, 0))


def _call(**kw: object) -> VendorCall:
    fields: dict[str, object] = {
        "model": DEFAULT_MODEL,
        "system": "You analyse ads.",
        "user_text": "Analyse this ad.",
        "images": [
            ImagePart(JPEG, 32, 24, "group 0 · 0.0-2.0 s", detail="low"),
            ImagePart(PNG, 32, 24, "group 1 · 2.0-4.5 s", media_type="image/png", detail="high"),
        ],
        "schema": SCHEMA,
        "max_output_tokens": 900,
        "timeout_s": 5.0,
        "temperature": 0.2,
    }
    fields.update(kw)
    return VendorCall(**fields)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def client(fake: FakeOpenAI) -> OpenAIClient:
    return OpenAIClient(KEY, fake.base_url, timeout_s=5.0)


def _assert_keyless(err: BaseException) -> None:
    """The key is in no text a log, an artifact or a traceback could carry."""
    assert isinstance(err, ProviderError)
    texts = [str(err), repr(err), err.what, err.why, err.hint, err.provider]
    texts.append("".join(traceback.format_exception(err)))
    texts.append(repr(pickle.loads(pickle.dumps(err)).__dict__))
    for text in texts:
        assert KEY not in text
    # Nothing of the SDK's (request, headers) hangs off our error.
    assert err.__cause__ is None
    assert err.__context__ is None


def _fail(client: OpenAIClient, fake: FakeOpenAI, *replies: Reply, **kw: object) -> ProviderError:
    fake.push(*replies)
    with pytest.raises(ProviderError) as caught:
        client.send(_call(**kw))
    _assert_keyless(caught.value)
    assert caught.value.provider == "openai"
    assert fake.request_count() == 1  # the SDK's own retries are off
    return caught.value


# -- answers ------------------------------------------------------------------------------


def test_valid_answer_maps_text_usage_model_and_finish(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    answer_payload = sample_answer()
    fake.answer_model = "gpt-4o-2024-08-06"
    fake.push(Reply.json(answer_payload, usage=(1234, 321)))

    answer = client.send(_call())

    assert json.loads(answer.text) == answer_payload
    assert (answer.tokens_in, answer.tokens_out) == (1234, 321)
    assert answer.model == "gpt-4o-2024-08-06"
    assert answer.finish_reason == "stop"
    assert answer.refusal is None
    assert fake.problems == []


def test_request_shape(fake: FakeOpenAI, client: OpenAIClient) -> None:
    client.send(_call())

    assert len(fake.calls) == 1
    body = fake.calls[0]
    assert fake.headers[0]["authorization"] == f"Bearer {KEY}"
    assert body["model"] == DEFAULT_MODEL
    assert body["messages"][0] == {"role": "system", "content": "You analyse ads."}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    parts = body["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["text", "text", "image_url", "text", "image_url"]
    assert parts[0]["text"] == "Analyse this ad."
    assert parts[1]["text"] == "group 0 · 0.0-2.0 s"
    assert parts[3]["text"] == "group 1 · 2.0-4.5 s"
    first, second = parts[2]["image_url"], parts[4]["image_url"]
    assert first["url"] == "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()
    assert first["detail"] == "low"
    assert second["url"].startswith("data:image/png;base64,")
    assert base64.b64decode(second["url"].split(",", 1)[1]) == PNG
    assert second["detail"] == "high"
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "ad_analysis", "schema": SCHEMA, "strict": True},
    }
    assert body["max_completion_tokens"] == 900
    assert "max_tokens" not in body
    assert body["temperature"] == 0.2
    assert fake.problems == []


def test_reask_sends_previous_answer_then_feedback(fake: FakeOpenAI, client: OpenAIClient) -> None:
    client.send(_call(previous_answer='{"genre": 7}', retry_feedback="genre must be a string"))

    messages = fake.calls[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == '{"genre": 7}'
    assert messages[3]["content"] == "genre must be a string"


@pytest.mark.parametrize(
    ("reason", "refusal", "expected"),
    [
        ("stop", None, "stop"),
        ("length", None, "length"),
        ("content_filter", None, "safety"),
        ("stop", "no", "refusal"),
        ("tool_calls", None, "other"),
        (None, None, "other"),
    ],
)
def test_finish_reasons_are_normalised(
    reason: str | None, refusal: str | None, expected: str
) -> None:
    assert normalise_finish(reason, refusal) == expected


# -- errors -------------------------------------------------------------------------------


def test_quota_is_a_hard_error(fake: FakeOpenAI, client: OpenAIClient) -> None:
    err = _fail(client, fake, Reply("quota"))
    assert type(err) is ProviderHardError
    assert "quota" in err.what
    assert "billing" in err.hint


def test_malformed_request_is_refused_by_the_fake(fake: FakeOpenAI, client: OpenAIClient) -> None:
    not_an_image = ImagePart(b"GIF-ish but not really", 1, 1, "group 0")
    err = _fail(client, fake, images=[not_an_image])
    assert type(err) is ProviderHardError
    assert "unsupported image" in err.why
    assert fake.problems


def test_fake_checks_structured_output_is_asked_for(fake: FakeOpenAI) -> None:
    sdk = openai.OpenAI(api_key=KEY, base_url=fake.base_url, max_retries=0)
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(
            model=DEFAULT_MODEL,
            messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
        )
    assert "json_schema" in fake.problems[0]


# -- settings and gateways ----------------------------------------------------------------


def test_factchat_gateway_from_settings(fake: FakeOpenAI) -> None:
    settings = Settings(factchat_api_key=KEY, factchat_base_url=fake.base_url)
    client = OpenAIClient.from_settings(settings, "factchat")
    fake.push(Reply.json(sample_answer()), Reply("auth_error"))

    answer = client.send(_call())
    with pytest.raises(ProviderHardError) as caught:
        client.send(_call())

    assert json.loads(answer.text) == sample_answer()
    assert fake.headers[0]["authorization"] == f"Bearer {KEY}"
    assert caught.value.provider == "factchat"
    assert "FACTCHAT_API_KEY" in caught.value.hint
    _assert_keyless(caught.value)


def test_missing_factchat_key_names_its_variable() -> None:
    settings = Settings(_env_file=None, openai_api_key=KEY, factchat_api_key=None)  # type: ignore[call-arg]
    with pytest.raises(ProviderHardError) as caught:
        OpenAIClient.from_settings(settings, "factchat")
    assert "FACTCHAT_API_KEY" in caught.value.hint
    assert caught.value.provider == "factchat"


# -- Retry-After parsing ------------------------------------------------------------------

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"Retry-After": "Sat, 01 Mar 2025 12:00:30 GMT"}, 30.0),
        ({"Retry-After": "Sat, 01 Mar 2025 11:59:00 GMT"}, 0.0),  # already past
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),  # the finer one wins
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected
