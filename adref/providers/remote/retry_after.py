"""How long a vendor asks us to wait after a 429 or 503, read from its response headers.

Shared by every vendor client: OpenAI sends ``retry-after-ms`` beside ``Retry-After``, and
``Retry-After`` itself may be seconds or an HTTP date (RFC 9110 §10.2.3). Anything unreadable
means "no advice" (``None``), so the provider loop falls back to its own backoff.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait, ``None`` if the headers give no usable advice; never negative.

    ``now`` is only for tests of the HTTP-date form. Header names match case-insensitively
    whether ``headers`` is a plain dict or the SDK's (httpx) headers.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = _number(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    return _until(value, now or datetime.now(UTC))


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return max(0.0, number) if math.isfinite(number) else None


def _until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one is read the same way
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
