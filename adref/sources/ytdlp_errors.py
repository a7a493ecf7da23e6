"""Turn yt-dlp's failures into adref's errors: permanent (InputError) or worth a retry (Transient).

Prefect retries only TransientError, so this split decides whether a run waits and tries again
or stops at once with advice. yt-dlp reports most failures as a DownloadError whose real cause
sits inside (``exc_info``, ``cause``, chained exceptions), and some only as text; both are read.
Messages name the address with credentials masked, never headers or cookies.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from http import HTTPStatus
from urllib.parse import urlsplit

from yt_dlp.networking.exceptions import CertificateVerifyError, HTTPError, TransportError
from yt_dlp.utils import (
    ContentTooShortError,
    ExtractorError,
    GeoRestrictedError,
    UnsupportedError,
    YoutubeDLError,
)

from adref.errors import AdrefError, InputError, TransientError
from adref.sources.urls import redact_text, redact_url

__all__ = ["classify_ytdlp_error"]

_SUPPORTED_SITES = "https://github.com/yt-dlp/yt-dlp/blob/master/supportedsites.md"
_HTTP_IN_TEXT = re.compile(r"HTTP Error (\d{3})")
_RETRY_STATUSES = {408, 425, 429}

# (pattern in yt-dlp's message, why) for permanent failures that carry no HTTP status.
_PERMANENT_TEXT: tuple[tuple[str, str, str], ...] = (
    (
        r"private video|video is private|this video is private|is private",
        "the video is private",
        "Only its owner can make it public; adref downloads public videos only",
    ),
    (
        r"not a bot",
        "the site asked to confirm this is not a bot (it blocks automated downloads from here)",
        "Try again later or from another network",
    ),
    (
        r"confirm your age|age[- ]restricted|inappropriate for some users",
        "the video is age-restricted and needs a signed-in account",
        "adref downloads public videos only; give another source for this video",
    ),
    (
        r"members[- ]only|join this channel|channel's members",
        "the video is for channel members only",
        "adref downloads public videos only; give another source for this video",
    ),
    (
        r"premieres in|live event will begin|scheduled to start|is upcoming",
        "the video has not been published yet",
        "Try again once it has been released",
    ),
    (
        r"login required|log in to|sign in to|requires authentication|cookies",
        "the site requires a login for this video",
        "adref downloads public videos only; give another source for this video",
    ),
    (
        r"requested format is not available|no video formats found",
        "none of its formats can be downloaded",
        "Give another address for this video",
    ),
    (
        r"unavailable|not available|has been removed|no longer available|does not exist|"
        r"deleted|terminated|copyright|blocked",
        "the video is unavailable (removed, blocked or never published)",
        "Check the address in a browser; give another source for this video",
    ),
)


def classify_ytdlp_error(exc: BaseException, url: str, timeout_s: float) -> AdrefError:
    """The adref error that explains ``exc``, raised while yt-dlp worked on ``url``."""
    if isinstance(exc, AdrefError):
        return exc
    shown = redact_url(url)
    what = f"could not download {shown}"
    chain = list(_causes(exc))
    text = " ".join(_message(e) for e in chain)

    if any(isinstance(e, GeoRestrictedError) for e in chain):
        return InputError(
            what,
            "the video is not available in this country (geo-blocked)",
            "Give another source for this video",
        )
    for e in chain:
        if isinstance(e, HTTPError):
            return _http(what, e.status)
    if any(isinstance(e, UnsupportedError) for e in chain):
        return InputError(
            what,
            "no video was found at this address (yt-dlp does not support this site or page)",
            f"Give a direct link to a video file, or a page on a site yt-dlp supports "
            f"(list: {_SUPPORTED_SITES})",
        )
    if any(isinstance(e, CertificateVerifyError) for e in chain):
        return InputError(
            what,
            "the site's TLS certificate could not be verified",
            "Check the address, and the machine's clock and CA certificates",
        )
    network_types = (
        TransportError,
        ContentTooShortError,
        ConnectionError,
        TimeoutError,
        socket.gaierror,
    )
    network = [e for e in chain if isinstance(e, network_types)]
    if network or _looks_like_network(text):
        return _network(what, url, text, timeout_s)
    status = _HTTP_IN_TEXT.search(text)
    if status:
        return _http(what, int(status.group(1)))
    lowered = text.lower()
    for pattern, why, hint in _PERMANENT_TEXT:
        if re.search(pattern, lowered):
            return InputError(what, why, hint)
    detail = _short(text) or type(exc).__name__
    if isinstance(exc, YoutubeDLError) or any(isinstance(e, ExtractorError) for e in chain):
        return InputError(
            what,
            f"yt-dlp could not read it ({detail})",
            "Check the address in a browser; if the video plays there, updating yt-dlp may help",
        )
    return TransientError(what, f"unexpected failure ({detail})", "Try again later")


def _http(what: str, status: int) -> AdrefError:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    answered = f"the server answered HTTP {status} {phrase}"
    if status >= 500 or status in _RETRY_STATUSES:
        return TransientError(what, answered, "This is usually temporary; try again later")
    hints = {
        404: "Check the address; the video may have been moved or removed",
        410: "The video has been removed; give another source for it",
        401: "The video needs a login; adref downloads public videos only",
        403: "Access is denied: the video may be private, region-locked or need a login",
        451: "The video is blocked for legal reasons; give another source for it",
    }
    return InputError(what, answered, hints.get(status, "Check the address in a browser"))


def _network(what: str, url: str, text: str, timeout_s: float) -> TransientError:
    parts = urlsplit(url)
    host = parts.hostname or "the server"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    lowered = text.lower()
    if "refused" in lowered:
        why = f"connection refused by {host}:{port} (nothing listening)"
        hint = "Check the address or try again later"
    elif any(
        s in lowered
        for s in ("name or service not known", "failed to resolve", "name resolution", "nodename")
    ):
        why = f"the host name {host} could not be resolved (DNS)"
        hint = "Check the address and the network connection, or try again later"
    elif "timed out" in lowered or "timeout" in lowered:
        why = f"{host} sent nothing for {timeout_s:g} s (ADREF_DOWNLOAD_TIMEOUT_S)"
        hint = "Try again later, or raise ADREF_DOWNLOAD_TIMEOUT_S for a slow connection"
    elif any(s in lowered for s in ("reset", "aborted", "closed", "incomplete", "too short")):
        why = f"the connection to {host} was cut off before the video arrived"
        hint = "Try again later"
    else:
        why = f"network error talking to {host} ({_short(text)})"
        hint = "Check the network connection, or try again later"
    return TransientError(what, why, hint)


def _looks_like_network(text: str) -> bool:
    lowered = text.lower()
    return any(
        s in lowered
        for s in (
            "timed out",
            "connection refused",
            "connection reset",
            "connection aborted",
            "remote end closed",
            "temporary failure in name resolution",
            "network is unreachable",
        )
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and every cause yt-dlp or Python recorded beneath it."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        info = getattr(e, "exc_info", None)
        inner = info[1] if isinstance(info, tuple) and len(info) == 3 else None
        cause = getattr(e, "cause", None)
        todo += [
            inner if isinstance(inner, BaseException) else None,
            cause if isinstance(cause, BaseException) else None,
            e.__cause__,
            e.__context__,
        ]


def _message(exc: BaseException) -> str:
    text = getattr(exc, "orig_msg", None) or getattr(exc, "msg", None) or str(exc)
    return str(text)


def _short(text: str, limit: int = 200) -> str:
    text = re.sub(r"^(ERROR:\s*)+", "", text.strip())
    text = re.sub(r"^\[[\w:]+\]\s*[^:]*:\s*", "", text)
    text = text.split("; please report this issue", 1)[0]
    text = re.sub(r"\s*\(caused by .*$", "", text)
    text = redact_text(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
