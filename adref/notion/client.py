"""The official ``notion-client`` SDK, paced and retried in one place.

Notion allows about three requests per second per integration and answers 429 (with
Retry-After) beyond that. Every request here first takes a token from a bucket refilled at
``ADREF_NOTION_REQUESTS_PER_S`` (shared by every client of a process), so a push stays under the
limit instead of bouncing off it. The SDK's own retries are off: this loop is the only one, so
a 429 is waited out once, for as long as Notion asks, and a 5xx, a timeout or a dropped
connection is retried with exponential backoff.

A 429 means Notion did not run the request; a 5xx, a timeout or a dropped connection does not
say: the request may have taken effect and only its answer been lost. Retrying is harmless for
an update, but a create sent again makes a second object. So ``call`` takes ``found``: asked
after such a failure (after the backoff wait, which also gives Notion's query index time to
show a page made a moment ago) and before the request is sent again, it looks for what the
request would have made and, when it is there, its answer stands in for the request's.

Why Notion-Version 2025-09-03 (notion-client 3.1.0): it is what a team making an integration
today gets; a database's properties live on its data source, and pages are created under the
data source. The version is pinned here, not left to the SDK's default, so an SDK upgrade
cannot change the API we speak.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from notion_client import APIErrorCode, APIResponseError, Client
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from adref.errors import AdrefError, TransientError

NOTION_VERSION = "2025-09-03"
MAX_WAIT_S = 60.0  # longest single wait, whatever Retry-After says
BACKOFF_S = 0.5  # first wait after a 5xx or a timeout; doubles each time
log = logging.getLogger(__name__)


class NotionError(AdrefError):
    """Notion refused or failed a request. Its text is Notion's status and message, never the
    token (the SDK's errors carry neither headers nor the request)."""

    status: int | None = None
    code: str | None = None


class NotionNotFound(NotionError):
    """The page or block is gone (deleted, or not shared with the integration)."""


class NotionTransient(NotionError, TransientError):
    """429, 5xx or a timeout that outlasted every retry."""


@dataclass
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; ``take`` waits for one."""

    rate: float
    burst: float = 1.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _tokens: float | None = field(default=None, init=False)
    _at: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def take(self) -> float:
        """Take one token, waiting until there is one; returns how long it waited."""
        with self._lock:
            now = self.clock()
            if self._tokens is None:
                self._tokens, self._at = self.burst, now
            tokens = min(self.burst, self._tokens + (now - self._at) * self.rate) - 1.0
            self._tokens, self._at = tokens, now
            wait = -tokens / self.rate if tokens < 0 else 0.0
            if wait > 0:
                self.sleep(wait)  # under the lock: the next caller queues behind this one
            return wait


_BUCKETS: dict[tuple[str, float], TokenBucket] = {}
_BUCKETS_LOCK = threading.Lock()


def shared_bucket(base_url: str, rate: float) -> TokenBucket:
    """One bucket per API root and rate in this process: parallel pushes share Notion's limit."""
    with _BUCKETS_LOCK:
        return _BUCKETS.setdefault((base_url, rate), TokenBucket(rate=rate, burst=rate))


class NotionAPI:
    """The SDK client with pacing and retries; ``call(what, fn, ...)`` runs one request."""

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        requests_per_s: float = 3.0,
        retries: int = 5,
        timeout_s: float = 30.0,
        bucket: TokenBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sdk = Client(
            auth=token,
            base_url=base_url.rstrip("/"),
            notion_version=NOTION_VERSION,
            timeout_ms=int(timeout_s * 1000),
            retry=False,  # this class retries; the SDK's would multiply them
            logger=logging.getLogger("adref.notion.sdk"),
            log_level=logging.CRITICAL,  # its failure lines repeat what our errors say
        )
        self.retries = retries
        self.bucket = bucket or shared_bucket(base_url, requests_per_s)
        self.sleep = sleep
        self.requests = 0
        self.waited_s = 0.0

    def close(self) -> None:
        self.sdk.close()

    def call(
        self,
        what: str,
        fn: Callable[..., Any],
        *args: Any,
        found: Callable[[], dict[str, Any] | None] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``fn(*args, **kwargs)`` (an SDK endpoint), paced, retried when a retry can help;
        returns Notion's answer (a JSON object).

        ``found`` makes a request that is not safe to repeat (a create) idempotent: after a
        failure that may have been executed (a 5xx, a timeout, a lost connection; not a 429
        or a 4xx) it is asked before any retry, and what it finds is returned instead.
        """
        for attempt in range(self.retries + 1):
            self.waited_s += self.bucket.take()
            self.requests += 1
            try:
                answer = fn(*args, **kwargs)
            except Exception as exc:
                error, wait = _classify(what, exc, attempt)
                done = found if found is not None and _maybe_executed(error) else None
                if wait is None or attempt >= self.retries:
                    if done is not None and (made := done()) is not None:
                        return made
                    raise error from None
                log.info("Notion %s: %s; retrying in %.1f s", what, error.why, wait)
                self.waited_s += wait
                self.sleep(wait)  # first: a query may lag a page made a moment ago
                if done is not None and (made := done()) is not None:
                    log.info("Notion %s: %s, yet it was done", what, error.why)
                    return made
                continue
            return answer if isinstance(answer, dict) else {}
        raise AssertionError("the loop returns or raises")


def _maybe_executed(error: NotionError) -> bool:
    """Whether Notion may have run the request although it failed: a 5xx, or no answer at all
    (timeout, connection). A 429 or another 4xx was refused before anything was done."""
    return isinstance(error, NotionTransient) and (error.status is None or error.status >= 500)


def _classify(what: str, exc: Exception, attempt: int) -> tuple[NotionError, float | None]:
    """The error to raise, and how long to wait before a retry (None: do not retry)."""
    backoff = min(MAX_WAIT_S, BACKOFF_S * 2**attempt) * random.uniform(0.8, 1.2)
    if isinstance(exc, RequestTimeoutError | httpx.TimeoutException):
        return _error(NotionTransient, what, "timed out"), backoff
    if isinstance(exc, httpx.TransportError):
        return _error(NotionTransient, what, f"connection failed ({type(exc).__name__})"), backoff
    if isinstance(exc, ValueError):  # JSONDecodeError: a proxy's page, or a body cut short
        return _error(NotionTransient, what, "the answer was not Notion's JSON"), backoff
    if not isinstance(exc, HTTPResponseError):
        raise exc
    status = exc.status
    raw = exc.code if isinstance(exc, APIResponseError) else None
    code = str(getattr(raw, "value", raw)) if raw is not None else None
    why = f"{status} {code or 'error'}" + (f": {_short(str(exc))}" if str(exc) else "")
    if status == 429 or code == APIErrorCode.RateLimited.value:
        asked = _retry_after(exc)
        return _error(
            NotionTransient, what, why, status, code
        ), asked if asked is not None else backoff
    if status >= 500:
        return _error(NotionTransient, what, why, status, code), backoff
    if status == 404 or code == APIErrorCode.ObjectNotFound.value:
        return _error(NotionNotFound, what, why, status, code), None
    hint = "check ADREF_NOTION_API_KEY" if status == 401 else ""
    if status in (401, 403) or code == APIErrorCode.RestrictedResource.value:
        hint = hint or "share the database with the integration"
    return _error(NotionError, what, why, status, code, hint), None


def _error(
    kind: type[NotionError],
    what: str,
    why: str,
    status: int | None = None,
    code: str | None = None,
    hint: str = "",
) -> NotionError:
    error = kind(f"Notion {what} failed", why, hint)
    error.status, error.code = status, code
    return error


def _retry_after(exc: HTTPResponseError) -> float | None:
    raw = exc.headers.get("retry-after") if exc.headers is not None else None
    try:
        return min(MAX_WAIT_S, max(0.0, float(raw))) if raw else None
    except ValueError:
        return None


def _short(text: str) -> str:
    return " ".join(text.split())[:200]
