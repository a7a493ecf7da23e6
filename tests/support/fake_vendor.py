"""What a scripted fake model server says next, the same words for every vendor.

Each vendor's fake (``fake_openai``, ``fake_anthropic``, ``fake_gemini``) is a real HTTP server
on loopback that checks the request's shape as the vendor documents it and renders each
``Reply`` in that vendor's own wire format. Tests script replies in order; when the script is
empty the server gives ``default`` (a valid answer), so a test only scripts what it is about.

    with FakeOpenAI() as fake:
        fake.push(Reply.rate_limit(retry_after="1"), Reply.json(answer))
        client = OpenAIClient(api_key="sk-test", base_url=fake.base_url, timeout_s=2)
        ...
        assert len(fake.calls) == 2
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from adref.analysis import AnalysisContent, Features, GroupAnalysis

ReplyKind = Literal[
    "json",  # a well-formed answer carrying ``payload`` (a dict) as the structured output
    "text",  # the answer's text is exactly ``payload`` (a str): prose, broken JSON, anything
    "truncated",  # ``payload`` serialised, cut in half, finish reason "max tokens"
    "refusal",  # the model declines, ``payload`` is its words (vendor's refusal shape)
    "rate_limit",  # 429 with Retry-After: ``retry_after``
    "server_error",  # ``status`` (default 500) with the vendor's error body
    "overloaded",  # Anthropic's 529 / others' 503
    "auth_error",  # 401 with the vendor's error body
    "quota",  # the vendor's out-of-credit answer (OpenAI 429 insufficient_quota, ...)
    "bad_request",  # 400 with the vendor's error body
]


@dataclass
class Reply:
    kind: ReplyKind
    payload: Any = None
    retry_after: str | None = None
    status: int | None = None
    delay_s: float = 0.0  # wait before answering (past the client's timeout: a timeout)
    usage: tuple[int, int] = (1200, 300)  # tokens in, out reported by the fake

    @classmethod
    def json(cls, payload: dict[str, Any], **kw: Any) -> Reply:
        return cls("json", payload, **kw)

    @classmethod
    def text(cls, text: str, **kw: Any) -> Reply:
        return cls("text", text, **kw)

    @classmethod
    def truncated(cls, payload: dict[str, Any], **kw: Any) -> Reply:
        return cls("truncated", payload, **kw)

    @classmethod
    def refusal(cls, words: str = "I can't help with that.", **kw: Any) -> Reply:
        return cls("refusal", words, **kw)

    @classmethod
    def rate_limit(cls, retry_after: str | None = "1", **kw: Any) -> Reply:
        return cls("rate_limit", retry_after=retry_after, **kw)

    @classmethod
    def server_error(cls, status: int = 500, **kw: Any) -> Reply:
        return cls("server_error", status=status, **kw)

    @classmethod
    def slow(cls, delay_s: float, payload: dict[str, Any] | None = None) -> Reply:
        return cls("json", payload if payload is not None else sample_answer(), delay_s=delay_s)


def sample_answer(groups: int = 3, genre: str = "tvc") -> dict[str, Any]:
    """A valid answer as a model would give it: every field of the analysis schema filled."""
    content = AnalysisContent(
        genre=genre,
        genre_reason="Broadcast-style product spot with an end card.",
        genre_confidence=0.8,
        expression_format="live_action",
        features=Features(
            colour="warm, saturated",
            editing="fast cuts",
            camera="mostly static close-ups",
            mood="upbeat",
            message="the product makes mornings easy",
        ),
        mood=["upbeat", "warm"],
        tone="playful",
        target_audience="young professionals",
        hook="A close-up of the product in the first second.",
        call_to_action="Buy now",
        brand_cues=["logo end card"],
        visual_style="clean studio look",
        summary="A short product spot.",
        model_tags=[f"tag{i}" for i in range(12)],
        ad_language="en",
        groups=[
            GroupAnalysis(
                group_index=i,
                description=f"scene {i}",
                shot_type="close_up",
                camera_movement="static",
            )
            for i in range(groups)
        ],
    )
    return content.model_dump(mode="json")


@dataclass
class Script:
    """The replies still to give, and the ones given; thread-safe for a threaded server."""

    default: Reply = field(default_factory=lambda: Reply.json(sample_answer()))
    _queue: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def next(self) -> Reply:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)


class FakeVendor:
    """What every fake vendor shares: a script of replies and a server's life cycle.

    Subclasses set ``script`` and ``_server`` (a LocalHTTPServer answering the vendor's paths).
    """

    script: Script
    if TYPE_CHECKING:
        from tests.support.http import LocalHTTPServer

        _server: LocalHTTPServer

    def push(self, *replies: Reply) -> None:
        self.script.push(*replies)

    def __enter__(self) -> Self:
        self._server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.stop()
