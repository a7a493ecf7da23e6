"""Property tests for URL checking: whatever a user, a watch list or the Prefect UI hands over,
``check_url`` answers with the address or one InputError (one line, no password in it), and no
notation of a non-public address gets past it or past the resolved-address check.

Nothing here touches the network: hosts are only parsed, and the system resolver is asked with
AI_NUMERICHOST, which never sends a DNS query.
"""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adref.errors import InputError
from adref.sources import netguard
from adref.sources.urls import check_url, redact_text, redact_url

SECRET = "pw-SECRET-9"
USERNAME = st.sampled_from("abcXYZ019-._~!$&*+,;=%")  # what a URL's user name may hold
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PRIVATE_V4 = [
    IPv4Network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4",
        "240.0.0.0/4",
    )
]  # fmt: skip
PRIVATE_V6 = [
    IPv6Network(n)
    for n in ("::/127", "fe80::/10", "fc00::/7", "fec0::/10", "ff00::/8", "2001:db8::/32")
]


@st.composite
def private_v4(draw: st.DrawFn) -> IPv4Address:
    net = draw(st.sampled_from(PRIVATE_V4))
    return net[draw(st.integers(0, net.num_addresses - 1))]


@st.composite
def private_v6(draw: st.DrawFn) -> IPv6Address:
    """Non-public IPv6, or IPv6 that leads to a non-public IPv4 host."""
    inner = int(draw(private_v4()))
    kind = draw(st.sampled_from(["native", "mapped", "compatible", "nat64", "6to4"]))
    if kind == "native":
        net = draw(st.sampled_from(PRIVATE_V6))
        return net[draw(st.integers(0, net.num_addresses - 1))]
    if kind == "mapped":
        return IPv6Address((0xFFFF << 32) | inner)
    if kind == "compatible":
        return IPv6Address(inner)
    if kind == "nat64":
        return IPv6Address((0x64FF9B << 96) | inner)
    return IPv6Address((0x2002 << 112) | (inner << 80) | draw(st.integers(0, 2**80 - 1)))


@st.composite
def ipv4_notation(draw: st.DrawFn, ip: IPv4Address) -> str:
    """The address in one of the forms C's inet_aton (and so a resolver) reads."""
    n = int(ip)
    octets = list(ip.packed)

    def part(value: int) -> str:
        style = draw(st.sampled_from(["dec", "oct", "hex", "HEX"]))
        if style == "oct":
            return "0" + format(value, "o")
        if style == "hex":
            return hex(value)
        if style == "HEX":
            return "0X" + format(value, "X")
        return str(value)

    shape = draw(st.sampled_from(["a.b.c.d", "a.b.c", "a.b", "a"]))
    if shape == "a.b.c.d":
        return ".".join(part(o) for o in octets)
    if shape == "a.b.c":
        return ".".join([part(octets[0]), part(octets[1]), part(n & 0xFFFF)])
    if shape == "a.b":
        return ".".join([part(octets[0]), part(n & 0xFFFFFF)])
    return part(n)


@st.composite
def dressed(draw: st.DrawFn, host: str) -> str:
    """What an HTTP client may undo before resolving: percent-encoding, full-width digits."""
    out = []
    for ch in host:
        style = draw(st.sampled_from(["plain", "plain", "percent", "wide"]))
        if style == "percent":
            out.append(f"%{ord(ch):02X}")
        elif style == "wide" and ch.isdigit():
            out.append(chr(0xFF10 + int(ch)))
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def private_host(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        host = draw(private_v4().flatmap(ipv4_notation))
        return draw(dressed(host)) if draw(st.booleans()) else host
    return f"[{draw(private_v6())}]"  # Python's URL parser itself refuses a dressed one


def _url(host: str, port: str = "", path: str = "/ad.mp4", userinfo: str = "") -> str:
    return f"http://{userinfo}{host}{port}{path}"


@PROPERTY
@given(
    host=private_host(),
    port=st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")),
    userinfo=st.sampled_from(["", "user@", "user:pa%40ss@"]),
)
def test_every_notation_of_a_non_public_address_is_refused(
    host: str, port: str, userinfo: str
) -> None:
    url = _url(host, port, userinfo=userinfo)
    try:
        check_url(url)
    except InputError as exc:
        assert "private or local address" in exc.why
        assert "pa%40ss" not in str(exc)
    else:
        raise AssertionError(f"{url} was let through")
    assert check_url(url, allow_private=True) == url


@PROPERTY
@given(ip=st.one_of(private_v4(), private_v6()))
def test_no_non_public_address_is_public(ip: IPv4Address | IPv6Address) -> None:
    assert not netguard.is_public(ip)


@PROPERTY
@given(ip=private_v4().flatmap(lambda ip: st.tuples(st.just(ip), ipv4_notation(ip))))
def test_the_resolver_and_the_checks_agree_on_every_notation(
    ip: tuple[IPv4Address, str],
) -> None:
    """Whatever the system resolver makes of a notation, the guard refuses it."""
    address, text = ip
    answers = socket.getaddrinfo(text, 80, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    assert {ip_address(a[4][0]) for a in answers} == {address}
    assert netguard.literal_ip(text) == address
    kept, refused = netguard.keep_public(answers)
    assert kept == [] and refused == [address]


HOSTS = st.one_of(
    private_host(),
    st.from_regex(r"[a-z0-9][a-z0-9\-]{0,20}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=20),  # IDN
    st.ip_addresses().map(lambda ip: f"[{ip}]" if ip.version == 6 else str(ip)),
    st.text(max_size=30),  # anything at all
)


@PROPERTY
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp", "file", "", "h"]),
    userinfo=st.one_of(
        st.just(""),
        st.text(max_size=12).map(lambda s: s + "@"),
        st.text(USERNAME, max_size=8).map(lambda s: f"{s}:{SECRET}@"),
    ),
    host=HOSTS,
    port=st.one_of(
        st.just(""),
        st.integers(-5, 100_000).map(lambda p: f":{p}"),
        st.text(max_size=6).map(lambda s: ":" + s),
    ),
    path=st.text(max_size=30),
    padding=st.sampled_from(["", " ", "\t\n"]),
)
def test_check_url_answers_with_the_address_or_one_input_error(
    scheme: str, userinfo: str, host: str, port: str, path: str, padding: str
) -> None:
    url = f"{padding}{scheme}://{userinfo}{host}{port}/{path}{padding}"
    for allow in (False, True):
        try:
            assert check_url(url, allow_private=allow) == url.strip()
        except InputError as exc:
            assert "\n" not in str(exc) and exc.why and exc.hint
            assert SECRET not in str(exc)
    assert SECRET not in redact_url(url)
    if scheme:  # in free text, only scheme://… is recognised as an address
        assert SECRET not in redact_text(f"ERROR: could not fetch {url.strip()}: timed out")


@PROPERTY
@given(text=st.text(max_size=40))
def test_literal_ip_never_fails(text: str) -> None:
    ip = netguard.literal_ip(text)
    if ip is not None:
        netguard.is_public(ip)
