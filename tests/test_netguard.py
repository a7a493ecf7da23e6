"""Private addresses refused (SSRF): every form of a loopback address, a name that resolves to
one, a redirect hop and a fragment that lead to one, each against a real server that must see
no request; the same line whether anything listens or not; allowed with the setting.

Tests cannot reach public addresses, so a server on 127.0.0.2 plays a public site: the address
predicate alone is told that exactly that address is public.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from ipaddress import IPv4Address, ip_address
from pathlib import Path
from typing import Any

import pytest

from adref.errors import InputError
from adref.models import VideoMeta
from adref.settings import Settings
from adref.sources import ResolvedSource, download, netguard, resolve_source
from adref.sources.urls import check_url
from tests.support.http import LocalHTTPServer, Route, unused_port
from tests.support.media import make_video

FAKE_PUBLIC = IPv4Address("127.0.0.2")


def _settings(home: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, home=home, **overrides)  # type: ignore[call-arg]


def _unresolved(url: str) -> ResolvedSource:
    """A URL handed straight to download, as if resolve had let it through: only the
    resolved-address guard stands between it and the network."""
    return ResolvedSource(
        kind="url", source=url, video_id=None, meta=VideoMeta(video_id="", source_url=url)
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("src") / "spot.mp4", seconds=1.0, audio=False)


@pytest.fixture
def inside(clip: Path) -> Iterator[LocalHTTPServer]:
    """The internal service an attacker aims at, on 127.0.0.1."""
    with LocalHTTPServer() as srv:
        srv.serve_file(clip, "/ad.mp4")
        srv.add("/admin", Route(body=b"<title>internal admin</title>", content_type="text/html"))
        yield srv


@pytest.fixture
def inside_v6(clip: Path) -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer(host="::1") as srv:
        srv.serve_file(clip, "/ad.mp4")
        yield srv


@pytest.fixture
def public(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHTTPServer]:
    """A "public" site on 127.0.0.2; only the address predicate is told so."""
    real = netguard.is_public
    monkeypatch.setattr(netguard, "is_public", lambda ip: ip == FAKE_PUBLIC or real(ip))
    with LocalHTTPServer(host=str(FAKE_PUBLIC)) as srv:
        yield srv


FORMS = {
    "dotted": "127.0.0.1",
    "decimal": "2130706433",
    "hex": "0x7f000001",
    "octal": "0177.0.0.1",
    "short": "127.1",
    "mapped IPv6": "[::ffff:127.0.0.1]",
    "name": "localhost",
}


def _refusal(url: str, address: str, leads: str = "points") -> str:
    return (
        f"cannot fetch {url}: it {leads} to a private or local address ({address}), which adref "
        "does not fetch by default. Set ADREF_ALLOW_PRIVATE_URLS=true to allow addresses on "
        "your own network."
    )


@pytest.mark.parametrize("host", list(FORMS.values()), ids=list(FORMS))
def test_every_form_of_loopback_is_refused_before_connecting(
    inside: LocalHTTPServer, tmp_path: Path, host: str
) -> None:
    url = f"http://{host}:{inside.port}/admin"
    settings = _settings(tmp_path)
    with pytest.raises(InputError) as looked:
        resolve_source(url, settings)
    with pytest.raises(InputError) as fetched:
        download(_unresolved(url), tmp_path / "dest", settings)
    for caught in (looked, fetched):
        assert str(caught.value).startswith(f"cannot fetch {url}: it points to a private")
        assert "ADREF_ALLOW_PRIVATE_URLS=true" in str(caught.value)
    assert inside.request_count() == 0


def test_ipv6_loopback_is_refused_before_connecting(
    inside_v6: LocalHTTPServer, tmp_path: Path
) -> None:
    url = inside_v6.url("/ad.mp4")
    with pytest.raises(InputError) as caught:
        download(_unresolved(url), tmp_path / "dest", _settings(tmp_path))
    assert str(caught.value) == _refusal(url, "::1")
    assert inside_v6.request_count() == 0


def test_the_refusal_does_not_tell_an_open_port_from_a_closed_one(
    inside: LocalHTTPServer, tmp_path: Path
) -> None:
    """A port scanner reads the difference; there must be none."""
    settings = _settings(tmp_path)
    closed = unused_port()
    lines = {}
    for name, port in (("open", inside.port), ("closed", closed)):
        url = f"http://127.0.0.1:{port}/admin"
        with pytest.raises(InputError) as caught:
            download(_unresolved(url), tmp_path / "dest", settings)
        lines[name] = str(caught.value).replace(str(port), "PORT")
    assert lines["open"] == lines["closed"] == _refusal("http://127.0.0.1:PORT/admin", "127.0.0.1")
    metadata = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(InputError) as caught:
        download(_unresolved(metadata), tmp_path / "dest", settings)
    assert str(caught.value) == _refusal(metadata, "169.254.169.254")
    assert inside.request_count() == 0


@pytest.mark.parametrize("target", ["v4", "v6"])
def test_a_redirect_to_loopback_is_refused_at_the_hop(
    public: LocalHTTPServer,
    inside: LocalHTTPServer,
    inside_v6: LocalHTTPServer,
    clip: Path,
    tmp_path: Path,
    target: str,
) -> None:
    aim = inside.url("/ad.mp4") if target == "v4" else inside_v6.url("/ad.mp4")
    url = public.add("/promo.mp4", Route(status=302, headers={"Location": aim}))
    settings = _settings(tmp_path)
    with pytest.raises(InputError) as caught:
        resolve_source(url, settings)
    assert str(caught.value) == _refusal(url, "127.0.0.1" if target == "v4" else "::1", "leads")
    with pytest.raises(InputError):
        download(_unresolved(url), tmp_path / "dest", settings)
    assert public.request_count("/promo.mp4") >= 1
    assert inside.request_count() == inside_v6.request_count() == 0

    direct = public.serve_file(clip, "/ad.mp4")  # while a public address is still fetched
    assert download(resolve_source(direct, settings), tmp_path / "dest", settings).path.is_file()


def test_fragments_on_loopback_are_refused_though_the_playlist_is_public(
    public: LocalHTTPServer, inside: LocalHTTPServer, tmp_path: Path
) -> None:
    """Extractors fetch manifests and fragments; each request is judged, not just the first."""
    playlist = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:1.0,\n{inside.url('/seg0.ts')}\n#EXT-X-ENDLIST\n"
    )
    url = public.add(
        "/live/index.m3u8",
        Route(body=playlist.encode(), content_type="application/vnd.apple.mpegurl"),
    )
    settings = _settings(tmp_path)
    resolved = resolve_source(url, settings)  # the playlist itself is public
    with pytest.raises(InputError) as caught:
        download(resolved, tmp_path / "dest", settings)
    assert str(caught.value) == _refusal(url, "127.0.0.1", "leads")
    assert inside.request_count() == 0


def test_ffmpeg_is_not_let_fetch_what_yt_dlp_hands_it(
    public: LocalHTTPServer, inside: LocalHTTPServer, tmp_path: Path
) -> None:
    """yt-dlp passes a stream it cannot read natively (SAMPLE-AES) to ffmpeg, whose own
    sockets netguard cannot see: ffmpeg gets no network protocols at all."""
    key = inside.url("/key")
    playlist = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="{key}"\n'
        f"#EXTINF:1.0,\n{inside.url('/seg0.ts')}\n#EXT-X-ENDLIST\n"
    )
    url = public.add(
        "/vod/index.m3u8",
        Route(body=playlist.encode(), content_type="application/vnd.apple.mpegurl"),
    )
    settings = _settings(tmp_path)
    with pytest.raises(InputError):
        download(resolve_source(url, settings), tmp_path / "dest", settings)
    assert inside.request_count() == 0


def test_the_guard_holds_only_its_own_thread_and_block() -> None:
    """Prefect's client talks to its loopback server from other threads meanwhile."""
    seen: list[str] = []
    other: list[Any] = []

    def note(host: str, ip: netguard.IPAddress) -> None:
        seen.append(f"{host} {ip}")

    def elsewhere() -> None:
        other.extend(socket.getaddrinfo("127.0.0.1", 80, 0, socket.SOCK_STREAM))

    with netguard.public_only(note):
        with pytest.raises(netguard.PrivateAddress):
            socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM)
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
    assert seen and all(s.startswith("localhost ") for s in seen)
    assert other and socket.getaddrinfo("127.0.0.1", 80, 0, socket.SOCK_STREAM)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.0.8", "198.18.0.1",
        "::", "::1", "fe80::1", "fd00::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1",
        "::ffff:10.0.0.1", "::7f00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::808:808", "2002:7f00:1::", "2002:a00:1::",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:db8::1",
    ],
)  # fmt: skip
def test_addresses_that_are_not_public(address: str) -> None:
    assert not netguard.is_public(ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses(address: str) -> None:
    assert netguard.is_public(ip_address(address))


@pytest.mark.parametrize(
    "host",
    [
        *(host for host in FORMS.values() if host != "localhost"),  # a name is judged resolved
        "0x7f.1",
        "127.0.0.1.",
        "%31%32%37.0.0.1",
        "\uff11\uff12\uff17.0.0.1",  # full-width digits
        "[::1]",
        "[fe80::1%25eth0]",
        "169.254.169.254",
        "0",
    ],
)
def test_check_url_refuses_a_literal_private_host_without_resolving(host: str) -> None:
    url = f"http://{host}:8080/ad.mp4"
    with pytest.raises(InputError, match="private or local address"):
        check_url(url)
    assert check_url(url, allow_private=True) == url
