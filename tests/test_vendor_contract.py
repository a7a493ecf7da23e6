"""The contract every vendor client keeps, checked once for OpenAI, Anthropic and Gemini.

Each client runs its real SDK over HTTP against its fake vendor. Whatever the vendor, an answer
(valid, refused, truncated or not what was asked) comes back as a ``VendorAnswer`` for the
provider to judge, and every failure is one adref error: transient (429 with its Retry-After,
5xx, timeout, nothing listening) or hard (bad or missing key, quota, bad request), made by one
HTTP request (the SDKs' own retries are off) and carrying the key in no text. What only one
vendor does (its request shape, its own error variants) stays in ``test_vendor_<name>.py``.
"""

from __future__ import annotations

import json
import pickle
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import cv2
import numpy as np
import pytest

from adref.errors import ProviderError, ProviderHardError, ProviderTransient
from adref.providers.remote import gemini as gemini_vendor
from adref.providers.remote.anthropic import AnthropicClient
from adref.providers.remote.gemini import GeminiClient
from adref.providers.remote.openai import DEFAULT_MODEL as OPENAI_MODEL
from adref.providers.remote.openai import OpenAIClient
from adref.providers.remote.vendor_call import ImagePart, VendorAnswer, VendorCall
from adref.settings import Settings
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_vendor import Reply, sample_answer
from tests.support.http import unused_port

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"genre": {"type": "string"}},
    "required": ["genre"],
    "additionalProperties": False,
}
KEY_VARIABLES = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "ADREF_OPENAI_API_KEY",
    "ADREF_ANTHROPIC_API_KEY",
    "ADREF_GEMINI_API_KEY",
)


class Client(Protocol):
    def send(self, call: VendorCall) -> VendorAnswer: ...


class Fake(Protocol):
    base_url: str
    problems: list[str]
    headers: list[dict[str, str]]

    def push(self, *replies: Reply) -> None: ...
    def __enter__(self) -> Fake: ...
    def __exit__(self, *exc: object) -> None: ...


@dataclass(frozen=True)
class Vendor:
    name: str
    fake: Callable[[], Any]
    client: Callable[[str, str | None, float], Client]
    from_settings: Callable[[Settings], Client]
    model: str
    key: str
    key_setting: str
    key_variable: str
    key_header: str
    requests: Callable[[Any], int]
    """How many HTTP requests the fake has seen."""
    retry_after_without_header: float | None
    """Gemini's 429 body says when to come back (RetryInfo); the others' says nothing."""


VENDORS = [
    Vendor(
        name="openai",
        fake=FakeOpenAI,
        client=OpenAIClient,
        from_settings=OpenAIClient.from_settings,
        model=OPENAI_MODEL,
        key="sk-adref-SECRET-0000",
        key_setting="openai_api_key",
        key_variable="OPENAI_API_KEY",
        key_header="authorization",
        requests=lambda fake: fake.request_count(),
        retry_after_without_header=None,
    ),
    Vendor(
        name="anthropic",
        fake=FakeAnthropic,
        client=AnthropicClient,
        from_settings=AnthropicClient.from_settings,
        model="claude-sonnet-4-5",  # the SDK warns about its default model's deprecation
        key="sk-ant-adref-SECRET-0000",
        key_setting="anthropic_api_key",
        key_variable="ANTHROPIC_API_KEY",
        key_header="x-api-key",
        requests=lambda fake: len(fake.calls),
        retry_after_without_header=None,
    ),
    Vendor(
        name="gemini",
        fake=FakeGemini,
        client=GeminiClient,
        from_settings=GeminiClient.from_settings,
        model=gemini_vendor.DEFAULT_MODEL,
        key="AIza-adref-SECRET-0000",
        key_setting="gemini_api_key",
        key_variable="GEMINI_API_KEY",
        key_header="x-goog-api-key",
        requests=lambda fake: len(fake.paths),
        retry_after_without_header=2.0,
    ),
]


def _jpeg() -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((16, 24, 3), 90, dtype=np.uint8))
    assert ok
    return bytes(buf.tobytes())


JPEG = _jpeg()


@pytest.fixture(params=VENDORS, ids=[v.name for v in VENDORS])
def vendor(request: pytest.FixtureRequest) -> Vendor:
    chosen: Vendor = request.param
    return chosen


@pytest.fixture
def fake(vendor: Vendor) -> Iterator[Any]:
    with vendor.fake() as server:
        yield server
    assert server.problems == [], "the client sent a request the vendor would reject"


def _call(vendor: Vendor, **kw: Any) -> VendorCall:
    fields: dict[str, Any] = {
        "model": vendor.model,
        "system": "You analyse ads.",
        "user_text": "Analyse this ad.",
        "images": [ImagePart(JPEG, 24, 16, "group 0 · 0.0-2.0 s")],
        "schema": SCHEMA,
        "max_output_tokens": 900,
        "timeout_s": 5.0,
    }
    return VendorCall(**(fields | kw))


def _send(vendor: Vendor, fake: Any, reply: Reply) -> VendorAnswer:
    fake.push(reply)
    return vendor.client(vendor.key, fake.base_url, 5.0).send(_call(vendor))


def _assert_keyless(vendor: Vendor, err: ProviderError) -> None:
    """The key is in no text a log, an artifact or a traceback could carry."""
    texts = [str(err), repr(err), err.what, err.why, err.hint, err.provider]
    texts.append("".join(traceback.format_exception(err)))
    texts.append(repr(pickle.loads(pickle.dumps(err)).__dict__))
    for text in texts:
        assert vendor.key not in text
    # Nothing of the SDK's (request, headers) hangs off our error.
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__


def _fail(vendor: Vendor, fake: Any, reply: Reply, timeout_s: float = 5.0) -> ProviderError:
    fake.push(reply)
    client = vendor.client(vendor.key, fake.base_url, timeout_s)
    with pytest.raises(ProviderError) as caught:
        client.send(_call(vendor, timeout_s=timeout_s))
    err = caught.value
    _assert_keyless(vendor, err)
    assert err.provider == vendor.name
    assert vendor.requests(fake) == 1  # the SDK's own retries are off
    return err


# -- answers: handed back for the provider to judge ------------------------------------------


def test_a_valid_answer_maps_text_usage_model_and_finish(vendor: Vendor, fake: Any) -> None:
    answer = _send(vendor, fake, Reply.json(sample_answer(groups=2), usage=(1500, 420)))
    assert json.loads(answer.text) == sample_answer(groups=2)
    assert (answer.tokens_in, answer.tokens_out) == (1500, 420)
    assert answer.model == vendor.model
    assert (answer.finish_reason, answer.refusal) == ("stop", None)


def test_a_refusal_is_an_answer_finished_by_refusal(vendor: Vendor, fake: Any) -> None:
    answer = _send(vendor, fake, Reply.refusal("I can't analyse this content."))
    assert answer.finish_reason == "refusal"
    assert answer.refusal
    assert not answer.text.strip().startswith("{")


def test_a_truncated_answer_finishes_with_length(vendor: Vendor, fake: Any) -> None:
    answer = _send(vendor, fake, Reply.truncated(sample_answer()))
    whole = json.dumps(sample_answer())
    assert answer.finish_reason == "length"
    assert answer.text == whole[: len(whole) // 2]
    with pytest.raises(ValueError):
        json.loads(answer.text)


@pytest.mark.parametrize("text", ['Sure! {"genre": "tvc"', '{"genre": 12, "oops": true}'])
def test_an_invalid_answer_is_passed_through_unparsed(vendor: Vendor, fake: Any, text: str) -> None:
    answer = _send(vendor, fake, Reply.text(text))
    assert (answer.text, answer.finish_reason) == (text, "stop")


# -- transient failures: worth a retry ---------------------------------------------------------


def test_429_carries_retry_after_seconds(vendor: Vendor, fake: Any) -> None:
    err = _fail(vendor, fake, Reply.rate_limit(retry_after="7"))
    assert isinstance(err, ProviderTransient)
    assert err.retry_after_s == 7
    assert "429" in err.why or "rate limit" in err.what


def test_429_carries_retry_after_as_an_http_date(vendor: Vendor, fake: Any) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    err = _fail(vendor, fake, Reply.rate_limit(retry_after=when))
    assert isinstance(err, ProviderTransient)
    assert err.retry_after_s is not None and 60 < err.retry_after_s <= 120


def test_429_without_retry_after(vendor: Vendor, fake: Any) -> None:
    err = _fail(vendor, fake, Reply.rate_limit(retry_after=None))
    assert isinstance(err, ProviderTransient)
    assert err.retry_after_s == vendor.retry_after_without_header


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_transient(vendor: Vendor, fake: Any, status: int) -> None:
    err = _fail(vendor, fake, Reply.server_error(status))
    assert isinstance(err, ProviderTransient)
    assert str(status) in err.why


def test_a_timeout_is_transient(vendor: Vendor, fake: Any) -> None:
    err = _fail(vendor, fake, Reply.slow(2.0), timeout_s=0.5)
    assert isinstance(err, ProviderTransient)
    assert "time" in f"{err.what} {err.why}".lower()


def test_nothing_listening_is_transient(vendor: Vendor) -> None:
    client = vendor.client(vendor.key, f"http://127.0.0.1:{unused_port()}", 2.0)
    with pytest.raises(ProviderTransient) as caught:
        client.send(_call(vendor))
    _assert_keyless(vendor, caught.value)


@pytest.mark.parametrize(
    "reply",
    [Reply.rate_limit(retry_after="1"), Reply.server_error(), Reply.slow(2.0)],
    ids=["429", "500", "timeout"],
)
def test_after_a_failed_send_the_next_one_works(vendor: Vendor, fake: Any, reply: Reply) -> None:
    _fail(vendor, fake, reply, timeout_s=0.5)
    client = vendor.client(vendor.key, fake.base_url, 5.0)
    assert client.send(_call(vendor)).finish_reason == "stop"
    assert vendor.requests(fake) == 2


# -- hard failures: the next provider in the chain takes over --------------------------------


def test_a_bad_key_is_hard_and_names_the_variable(vendor: Vendor, fake: Any) -> None:
    err = _fail(vendor, fake, Reply("auth_error"))
    assert type(err) is ProviderHardError
    assert vendor.key_variable in err.hint
    assert "0000" not in str(err)  # a vendor's message may quote the key's tail: left out


def test_a_missing_key_is_hard_and_names_the_variables(
    vendor: Vendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None, **{vendor.key_setting: None})  # type: ignore[call-arg]
    with pytest.raises(ProviderHardError) as caught:
        vendor.from_settings(settings)
    assert vendor.key_variable in caught.value.hint
    assert f"ADREF_{vendor.key_variable}" in caught.value.hint


def test_used_up_quota_is_hard(vendor: Vendor, fake: Any) -> None:
    err = _fail(vendor, fake, Reply("quota"))
    assert type(err) is ProviderHardError


def test_a_bad_request_is_hard_with_the_vendors_message_cut_and_keyless(
    vendor: Vendor, fake: Any
) -> None:
    message = f"model: unknown model 'nope', key {vendor.key} " + "x" * 500
    err = _fail(vendor, fake, Reply("bad_request", message))
    assert type(err) is ProviderHardError
    assert "unknown model 'nope'" in err.why
    assert len(err.why) < 260


# -- settings -----------------------------------------------------------------------------------


def test_from_settings_uses_the_key_and_the_endpoint(vendor: Vendor, fake: Any) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{vendor.key_setting: vendor.key, f"{vendor.name}_base_url": fake.base_url},
        provider_timeout_s=7.0,
    )
    client = vendor.from_settings(settings)
    assert vendor.key not in repr(client)
    assert client.send(_call(vendor)).finish_reason == "stop"
    assert vendor.key in fake.headers[0][vendor.key_header]


class _Echo(BaseHTTPRequestHandler):
    """A vendor's error that quotes the request's key back in every field it has (a gateway or
    a proxy may): the key must be in no part of adref's error."""

    vendor = ""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("authorization", "").removeprefix("Bearer ")
        key = auth or self.headers.get("x-api-key") or self.headers.get("x-goog-api-key") or ""
        said = f"you sent {key}"
        error: dict[str, Any] = {
            "openai": {"message": said, "type": said, "code": said, "param": said},
            "anthropic": {"type": said, "message": said},
            "gemini": {"code": 400, "message": said, "status": said},
        }[self.vendor]
        body = json.dumps({"type": "error", "error": error}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def test_a_key_an_error_body_quotes_in_any_field_never_reaches_the_error(vendor: Vendor) -> None:
    handler = type("Echo", (_Echo,), {"vendor": vendor.name})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(ProviderError) as caught:
            url = f"{base}/v1" if vendor.name == "openai" else base
            vendor.client(vendor.key, url, 5.0).send(_call(vendor))
    finally:
        server.shutdown()
        thread.join()
    _assert_keyless(vendor, caught.value)
    assert "you sent ***" in caught.value.one_line(), caught.value.one_line()
