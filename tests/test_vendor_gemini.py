"""The Gemini client: the real google-genai SDK over HTTP to a local Gemini-speaking server.

What every vendor does (refusal, truncation, 429, 5xx, timeout, keys) is in test_vendor_contract.py;
here: Gemini's request shape, its auth and quota variants, safety finishes, thoughts, timeouts.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
from google.genai import types

from adref.errors import ProviderError, ProviderHardError, ProviderTransient
from adref.providers.remote.gemini import DEFAULT_MODEL, GeminiClient, to_answer
from adref.providers.remote.vendor_call import ImagePart, VendorCall
from adref.settings import Settings
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_vendor import Reply, sample_answer

KEY = "AIza-adref-SECRET-0000"
SCHEMA: dict[str, Any] = {  # what pydantic emits: $defs, $ref, anyOf with null
    "$defs": {"Genre": {"type": "string", "enum": ["tvc", "viral"]}},
    "type": "object",
    "properties": {"genre": {"anyOf": [{"$ref": "#/$defs/Genre"}, {"type": "null"}]}},
    "required": ["genre"],
}


def _image(ext: str, colour: int) -> bytes:
    ok, buf = cv2.imencode(ext, np.full((16, 24, 3), colour, dtype=np.uint8))
    assert ok
    return bytes(buf.tobytes())


JPEG, PNG = _image(".jpg", 40), _image(".png", 200)


def _call(**kw: Any) -> VendorCall:
    fields: dict[str, Any] = {
        "model": DEFAULT_MODEL,
        "system": "You describe ads. Answer in JSON.",
        "user_text": "Analyse this ad.",
        "images": [
            ImagePart(JPEG, 24, 16, "group 0 · 0.0-2.0 s"),
            ImagePart(PNG, 24, 16, "group 1 · 2.0-4.5 s", media_type="image/png"),
        ],
        "schema": SCHEMA,
        "max_output_tokens": 2048,
        "temperature": 0.1,
    }
    return VendorCall(**(fields | kw))


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


def _client(fake: FakeGemini, timeout_s: float = 5.0) -> GeminiClient:
    return GeminiClient(api_key=KEY, base_url=fake.base_url, timeout_s=timeout_s)


def _raised(fake: FakeGemini, reply: Reply, timeout_s: float = 5.0) -> ProviderError:
    """Send once against ``reply``: one HTTP request, an adref error, and no key anywhere."""
    fake.push(reply)
    with pytest.raises(ProviderError) as info:
        _client(fake, timeout_s).send(_call())
    exc = info.value
    assert len(fake.paths) == 1, "the SDK must not retry on its own"
    assert KEY not in str(exc) and KEY not in repr(exc)
    assert exc.__cause__ is None and exc.__suppress_context__
    assert exc.provider == "gemini"
    return exc


def test_request_shape(fake: FakeGemini) -> None:
    call = _call()
    _client(fake).send(call)
    assert fake.paths == [f"/v1beta/models/{DEFAULT_MODEL}:generateContent"]
    assert fake.headers[0]["x-goog-api-key"] == KEY
    assert KEY not in fake.queries[0] and "key=" not in fake.queries[0]
    body = fake.calls[0]
    assert body["systemInstruction"]["parts"] == [{"text": call.system}]
    [turn] = body["contents"]
    assert turn["role"] == "user"
    parts = turn["parts"]
    assert parts[0] == {"text": call.user_text}
    assert parts[1] == {"text": "group 0 · 0.0-2.0 s"}
    assert parts[3] == {"text": "group 1 · 2.0-4.5 s"}
    for part, image in ((parts[2], call.images[0]), (parts[4], call.images[1])):
        blob = part["inlineData"]
        assert blob["mimeType"] == image.media_type
        assert base64.urlsafe_b64decode(blob["data"] + "=" * (-len(blob["data"]) % 4)) == image.data
    assert len(parts) == 5
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == SCHEMA  # verbatim, not rewritten to OpenAPI
    assert "responseSchema" not in config
    assert config["maxOutputTokens"] == 2048 and config["temperature"] == pytest.approx(0.1)
    # Flash: the token budget is the answer's. (This SDK sends the proto name, which the API's
    # JSON parser accepts beside the camelCase one.)
    assert config["thinkingConfig"] in ({"thinkingBudget": 0}, {"thinking_budget": 0})

    _client(fake).send(_call(model="gemini-2.5-pro"))
    assert "thinkingConfig" not in fake.calls[-1]["generationConfig"]


def test_reask_turn_order(fake: FakeGemini) -> None:
    call = _call(previous_answer='{"genre": "nope"', retry_feedback="Invalid JSON: fix it.")
    _client(fake).send(call)
    contents = fake.calls[0]["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"] == [{"text": '{"genre": "nope"'}]
    assert contents[2]["parts"] == [{"text": "Invalid JSON: fix it."}]
    assert fake.problems == []


def test_malformed_request_is_refused_by_the_fake(fake: FakeGemini) -> None:
    """The fake's checks bite: PNG bytes labelled JPEG get Google's 400."""
    fake.push(Reply.json(sample_answer()))
    bad = _call(images=[ImagePart(PNG, 24, 16, "group 0", media_type="image/jpeg")])
    with pytest.raises(ProviderHardError, match="INVALID_ARGUMENT"):
        _client(fake).send(bad)
    assert fake.problems and "image/jpeg" in fake.problems[0]


@pytest.mark.parametrize("variant", [None, "no_tier"], ids=["per-day", "limit-0"])
def test_quota_used_up_is_hard(fake: FakeGemini, variant: str | None) -> None:
    exc = _raised(fake, Reply("quota", variant))
    assert isinstance(exc, ProviderHardError)
    assert "quota" in str(exc).lower()


def test_call_timeout_shortens_client_timeout(fake: FakeGemini) -> None:
    fake.push(Reply.slow(2.0))
    with pytest.raises(ProviderTransient, match="in time"):
        _client(fake, timeout_s=30).send(_call(timeout_s=0.5))


@pytest.mark.parametrize("status", [403, 400], ids=["403", "400-key-not-valid"])
def test_auth_errors_are_hard(fake: FakeGemini, status: int) -> None:
    exc = _raised(fake, Reply("auth_error", status=status))
    assert isinstance(exc, ProviderHardError)
    assert "GEMINI_API_KEY" in str(exc)


def test_a_safety_block_is_a_refusal_naming_it(fake: FakeGemini) -> None:
    fake.push(Reply.refusal())
    answer = _client(fake).send(_call())
    assert answer.finish_reason == "refusal"
    assert answer.refusal is not None and "SAFETY" in answer.refusal
    assert answer.text == ""


@pytest.mark.parametrize(
    ("finish", "expected"),
    [("SAFETY", "safety"), ("RECITATION", "safety"), ("SPII", "safety"), ("OTHER", "other")],
)
def test_finish_reasons(finish: str, expected: str) -> None:
    response = types.GenerateContentResponse.model_validate(
        {"candidates": [{"finish_reason": finish, "index": 0}]}
    )
    answer = to_answer(response, "gemini-x")
    assert (answer.finish_reason, answer.text, answer.model) == (expected, "", "gemini-x")
    assert (answer.tokens_in, answer.tokens_out) == (0, 0)


def test_thoughts_are_not_text_but_are_billed() -> None:
    response = types.GenerateContentResponse.model_validate(
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"text": "thinking...", "thought": True}, {"text": "{}"}],
                    },
                    "finish_reason": "STOP",
                }
            ],
            "usage_metadata": {
                "prompt_token_count": 10,
                "candidates_token_count": 2,
                "thoughts_token_count": 30,
            },
        }
    )
    answer = to_answer(response, "m")
    assert (answer.text, answer.tokens_in, answer.tokens_out) == ("{}", 10, 32)


def test_missing_or_blank_key_names_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "ADREF_GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ProviderHardError) as info:
        GeminiClient.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert "GOOGLE_API_KEY" in info.value.hint
    with pytest.raises(ProviderHardError):
        GeminiClient(api_key="  ", base_url=None, timeout_s=1)
