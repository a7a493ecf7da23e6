"""Only public addresses are fetched: the address policy, and a guard that holds yt-dlp to it.

A URL can come from whoever reaches the Prefect UI; without this a worker would fetch its own
loopback services, the local network or a cloud metadata service for them and report what it
found. The address that counts is the one a host name resolves to when a connection is opened:
every HTTP client yt-dlp uses (requests/urllib3, urllib, websockets) asks
``socket.getaddrinfo`` once per connection and connects to what it answers. Filtering that answer
covers every redirect hop, manifest and fragment, and the socket goes to exactly the address that
was checked, so a name that resolves differently the second time (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import re
import socket
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any
from urllib.parse import unquote

from adref.errors import InputError

__all__ = [
    "IPAddress",
    "PrivateAddress",
    "embedded_ipv4",
    "is_public",
    "keep_public",
    "literal_ip",
    "private_only_address",
    "public_only",
    "refusal",
]

IPAddress = IPv4Address | IPv6Address
Refused = Callable[[str, IPAddress], None]  # (host name asked for, its first address)

# Not global, though Python 3.11's tables say otherwise: IETF protocol assignments, and
# local-use NAT64 (whose embedding is the network's own choice).
_ALSO_NOT_PUBLIC = (ip_network("192.0.0.0/24"), ip_network("64:ff9b:1::/48"))
_NAT64 = ip_network("64:ff9b::/96")
# What inet_aton reads as IPv4: one to four parts, each decimal, octal (0…) or hex (0x…).
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")

_watch: ContextVar[Refused | None] = ContextVar("adref_netguard", default=None)
_install_lock = threading.Lock()
_resolvers: list[Callable[..., list[Any]]] = []  # the getaddrinfo found when installing


class PrivateAddress(OSError):
    """Raised from ``getaddrinfo``: to yt-dlp's clients a connection that could not be made."""


def is_public(ip: IPAddress) -> bool:
    """True for an address on the public internet.

    An IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4, Teredo) reaches that IPv4
    host, so the IPv4 address must be public too.
    """
    inner = embedded_ipv4(ip) if isinstance(ip, IPv6Address) else None
    if inner is not None:
        if not is_public(inner):
            return False
        if isinstance(ip, IPv6Address) and (ip.ipv4_mapped is not None or ip in _NAT64):
            return True
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, IPv6Address) and ip.is_site_local)
        or any(ip in net for net in _ALSO_NOT_PUBLIC)
    )


def embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 host an IPv6 address leads to, for the forms that embed one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def literal_ip(host: str) -> IPAddress | None:
    """The address a host written as a number means, in any notation a resolver accepts.

    Besides dotted quads and IPv6 this reads what C's ``inet_aton`` does (``2130706433``,
    ``0x7f000001``, ``0177.0.0.1``, ``127.1``), after percent-decoding and Unicode
    normalisation (full-width digits), since HTTP clients may apply either before resolving.
    """
    text = unicodedata.normalize("NFKC", unquote(host)).strip().strip("[]").lower()
    text = text.removesuffix(".")
    try:
        return ip_address(text)
    except ValueError:
        pass
    if not _LEGACY_IPV4.fullmatch(text):
        return None
    try:
        return IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def refusal(shown: str, ip: IPAddress, *, direct: bool = True) -> InputError:
    """The one line for a refused address: the same whether anything listens there or not."""
    leads = "points" if direct else "leads"
    mapped = ip.ipv4_mapped if isinstance(ip, IPv6Address) else None
    address = f"::ffff:{mapped}" if mapped is not None else str(ip)
    return InputError(
        f"cannot fetch {shown}",
        f"it {leads} to a private or local address ({address}), which adref does not fetch by "
        "default",
        "Set ADREF_ALLOW_PRIVATE_URLS=true to allow addresses on your own network",
    )


def keep_public(
    answers: Sequence[tuple[Any, ...]],
) -> tuple[list[tuple[Any, ...]], list[IPAddress]]:
    """Split ``getaddrinfo`` answers into those with a public address and the refused addresses."""
    kept: list[tuple[Any, ...]] = []
    refused: list[IPAddress] = []
    for answer in answers:
        try:
            ip = ip_address(str(answer[4][0]))
        except (ValueError, IndexError, TypeError):
            continue
        if is_public(ip):
            kept.append(answer)
        else:
            refused.append(ip)
    return kept, refused


def private_only_address(host: str, port: int | None) -> IPAddress | None:
    """The first address of a name that resolves to no public address, else None.

    A cheap look before a run starts, so that ``localhost`` is refused in a moment rather than
    after a Prefect server has started; the guard on the connection itself is what counts. A
    name that does not resolve here is left for the run to report.
    """
    try:
        answers = _lookup()(host, port or 443, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        return None
    kept, refused = keep_public(answers)
    return refused[0] if refused and not kept else None


def _lookup() -> Callable[..., list[Any]]:
    return _resolvers[0] if _resolvers else socket.getaddrinfo


@contextmanager
def public_only(on_refused: Refused) -> Iterator[None]:
    """While this block runs, connections made in this thread reach public addresses only.

    A host whose every address is refused is passed to ``on_refused`` with its first address,
    then fails as a connection error; other threads (Prefect's client to its own server) are
    unaffected.
    """
    _install()
    token = _watch.set(on_refused)
    try:
        yield
    finally:
        _watch.reset(token)


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
    answers = _resolvers[0](host, port, *args, **kwargs)
    on_refused = _watch.get()
    if on_refused is None:
        return answers
    kept, refused = keep_public(answers)
    if kept:
        return kept
    if refused:
        on_refused(str(host), refused[0])
    raise PrivateAddress(f"{host} has no public address")


def _install() -> None:
    with _install_lock:
        if not _resolvers:
            _resolvers.append(socket.getaddrinfo)
            socket.getaddrinfo = _guarded_getaddrinfo
