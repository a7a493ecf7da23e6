"""Telling web addresses from file paths, refusing unsafe schemes, and keeping secrets out of text.

A source string reaches us from the CLI, the Prefect UI and watch lists. Only http(s) goes to
the network: ``file:`` would read any file on a worker, ``data:``/``javascript:`` are not
videos, and every other scheme is something yt-dlp would try to guess at. Addresses end up in
messages, logs and the warehouse, so credentials inside them (user:password@, signed-URL query
parameters) are masked before they are shown anywhere. Private and local addresses are refused
unless ``ADREF_ALLOW_PRIVATE_URLS`` is set.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from adref.errors import InputError
from adref.sources import netguard
from adref.sources.netguard import literal_ip

__all__ = ["ALLOWED_SCHEMES", "check_url", "looks_like_url", "redact_text", "redact_url"]

ALLOWED_SCHEMES = ("http", "https")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_SECRET_PARAM = re.compile(
    r"(token|key|sig|signature|secret|pass|auth|credential|session|policy|x-amz-|x-goog-)",
    re.IGNORECASE,
)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>)]+")
_REDACTED = "REDACTED"
_USERINFO = re.compile(r"^([^:/?#]*:?//)[^/?#]*@")


def looks_like_url(source: str) -> bool:
    """True when the string starts with a scheme (``x:`` with more than one letter).

    One letter is a Windows drive (``C:\\clips\\ad.mp4``), which is a path.
    """
    m = _SCHEME.match(source.strip())
    return m is not None and len(m.group(1)) > 1


def check_url(source: str, *, allow_private: bool = False) -> str:
    """Return the address stripped of surrounding blanks, or refuse it before any network use.

    A host written as a private address is refused here, cheaply; a name is judged by what it
    resolves to when yt-dlp connects (:mod:`adref.sources.netguard`).
    """
    url = source.strip()
    m = _SCHEME.match(url)
    scheme = m.group(1).lower() if m else ""
    if scheme not in ALLOWED_SCHEMES:
        shown = f"{scheme}:" if scheme else "(none)"
        raise InputError(
            f"cannot use {_short(redact_url(url))}",
            f"the address scheme {shown} is not supported; only http:// and https:// are fetched",
            "Give a web address starting with https://, or the path of a video file",
        )
    shown = _short(redact_url(url))
    if any(unicodedata.category(ch) == "Cc" for ch in url):
        raise InputError(
            f"cannot use {shown}",
            "the address contains a line break or another control character",
            "Give the address on one line, as the browser shows it",
        )
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise InputError(
            f"cannot use {shown}",
            f"the address is malformed ({exc})",
            "Give a full web address such as https://www.youtube.com/watch?v=...",
        ) from None
    if not host:
        raise InputError(
            f"cannot use {shown}",
            "the address has no host name",
            "Give a full web address such as https://www.youtube.com/watch?v=...",
        )
    ip = literal_ip(host)
    if not allow_private and ip is not None and not netguard.is_public(ip):
        raise netguard.refusal(shown, ip)
    if ip is None and not _valid_name(host):
        raise InputError(
            f"cannot use {shown}",
            "its host name has an empty part or one over 63 characters",
            "Check the address in a browser",
        )
    return url


def _valid_name(host: str) -> bool:
    """Whether a host name can be looked up at all (the IDNA encoding every connection makes
    of it: each dot-separated part 1-63 characters; a final dot is allowed)."""
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


def redact_url(url: str) -> str:
    """Mask user:password@ and query values whose names look like credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO.sub(rf"\1{_REDACTED}@", url)
    netloc = parts.netloc
    if not netloc:  # no scheme Python knows: mask what looks like user:password@ anyway
        return _USERINFO.sub(rf"\1{_REDACTED}@", url)
    if "@" in netloc:
        netloc = f"{_REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_PARAM.search(k) for k, _ in pairs):
            masked = [(k, _REDACTED if _SECRET_PARAM.search(k) else v) for k, v in pairs]
            query = urlencode(masked, safe="/:")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Mask credentials in every address inside a free-text message (yt-dlp's errors)."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def _short(url: str, limit: int = 120) -> str:
    """Cut to ``limit`` and kept on one line (control characters shown escaped)."""
    url = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in url)
    return url if len(url) <= limit else url[: limit - 1] + "…"
