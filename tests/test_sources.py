"""resolve_source and download against a real HTTP server on 127.0.0.1 and real files.

yt-dlp runs for real (its generic extractor reads direct links, JSON-LD pages and DASH
manifests), so these tests cover the same code paths a site download takes, offline.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
import yt_dlp
from yt_dlp.networking import Response
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import DownloadError, ExtractorError, GeoRestrictedError, UnsupportedError

from adref.errors import AdrefError, InputError, LimitExceeded, TransientError
from adref.models import VideoMeta
from adref.settings import Settings
from adref.sources import ResolvedSource, download, resolve_source, sha256_file
from adref.sources.meta import meta_from_info, site_video_id
from adref.sources.probe import probe_video
from adref.sources.urls import redact_url
from adref.sources.ytdlp import ffmpeg_location, ytdl_options
from adref.sources.ytdlp_errors import classify_ytdlp_error
from tests.support.http import LocalHTTPServer, Route, unused_port
from tests.support.media import (
    make_audio_only,
    make_dash,
    make_empty_file,
    make_rotated_clip,
    make_text_as_video,
    make_truncated_video,
    make_video,
)
from tests.support.nonvideo import NON_VIDEO_KINDS, NonVideo, make_non_videos


def _settings(home: Path, **overrides: Any) -> Settings:
    overrides.setdefault("allow_private_urls", True)  # the test server is on loopback
    return Settings(_env_file=None, home=home, **overrides)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("src") / "brand-film.mp4", seconds=2.0)


@pytest.fixture(scope="module")
def server(clip: Path) -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer() as srv:
        srv.serve_file(clip)
        yield srv


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "downloads"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- URLs: a real download -------------------------------------------------------------------


def test_a_direct_link_downloads_and_is_named_by_its_content(
    server: LocalHTTPServer,
    clip: Path,
    dest: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    settings = _settings(tmp_path)
    url = server.url("/brand-film.mp4")

    resolved = resolve_source(url, settings)
    assert resolved.kind == "url"
    assert resolved.video_id is None  # generic extractor: only the content can name it
    assert resolved.meta.title == "brand-film"

    fractions: list[float] = []
    video = download(resolved, dest, settings, fractions.append)

    expected = sha256_file(clip)
    assert video.meta.video_id == f"sha256:{expected}"
    assert video.content_hash == expected
    assert video.path.read_bytes() == clip.read_bytes()
    assert video.path.parent == dest.resolve()
    assert video.bytes_downloaded == clip.stat().st_size == video.size_bytes
    assert (video.meta.width, video.meta.height, video.meta.fps) == (320, 240, 25.0)
    assert video.meta.duration_s == pytest.approx(2.0, abs=0.05)
    assert video.meta.source_url == url
    assert video.meta.extractor == "generic"
    assert fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert _leftovers(dest) == [video.path.name]  # no temp folder or .part left behind
    assert capfd.readouterr() == ("", "")  # yt-dlp speaks through logging only


def test_separate_video_and_audio_streams_are_merged_into_one_mp4(
    server: LocalHTTPServer, clip: Path, dest: Path, tmp_path: Path
) -> None:
    """Sites serve DASH; yt-dlp merges with imageio-ffmpeg's binary (no system ffmpeg here)."""
    manifest = make_dash(tmp_path / "dash", clip)
    for part in manifest.parent.iterdir():
        ctype = "application/dash+xml" if part.suffix == ".mpd" else "video/mp4"
        server.serve_file(part, path=f"/dash/{part.name}", content_type=ctype)
    settings = _settings(tmp_path)

    resolved = resolve_source(server.url("/dash/manifest.mpd"), settings)
    assert resolved.meta.metadata["format_id"] == "0+1"  # best video + best audio
    video = download(resolved, dest, settings)

    stream = probe_video(video.path)
    assert video.path.suffix == ".mp4"
    assert (stream.codec, stream.width, stream.height) == ("h264", 320, 240)
    with av.open(str(video.path)) as container:
        assert {s.type for s in container.streams} == {"video", "audio"}
    assert _leftovers(dest) == [video.path.name]


def test_a_page_holding_several_videos_is_refused(server: LocalHTTPServer, tmp_path: Path) -> None:
    a, b = server.url("/brand-film.mp4"), server.url("/brand-film.mp4?copy=2")
    page = f'<html><body><video src="{a}"></video><video src="{b}"></video></body></html>'
    url = server.add("/gallery", Route(body=page.encode(), content_type="text/html"))
    with pytest.raises(InputError, match="it holds 2 videos") as err:
        resolve_source(url, _settings(tmp_path))
    assert "watch list and run adref ingest" in err.value.one_line(), "a promise kept"


# -- URLs: failures a retry cannot fix -------------------------------------------------------


def test_http_404_is_a_clear_input_error(server: LocalHTTPServer, tmp_path: Path) -> None:
    url = server.add("/gone.mp4", Route(status=404))
    with pytest.raises(InputError) as caught:
        resolve_source(url, _settings(tmp_path))
    message = str(caught.value)
    assert message.startswith(f"could not download {url}: ")
    assert "HTTP 404 Not Found" in message
    assert "Check the address" in message
    assert not caught.value.retryable


def test_secrets_in_the_address_never_reach_the_message(
    server: LocalHTTPServer, tmp_path: Path
) -> None:
    server.add("/signed.mp4", Route(status=403))
    url = server.url("/signed.mp4?X-Amz-Signature=s3cr3tsig&token=hunter2&size=large")
    url = url.replace("http://", "http://alice:pa55word@")
    with pytest.raises(InputError) as caught:
        resolve_source(url, _settings(tmp_path))
    message = str(caught.value)
    for secret in ("s3cr3tsig", "hunter2", "pa55word", "alice"):
        assert secret not in message
    assert "size=large" in message and "HTTP 403 Forbidden" in message


def test_a_page_without_video_is_unsupported(server: LocalHTTPServer, tmp_path: Path) -> None:
    page = b"<html><head><title>About us</title></head><body>No video here.</body></html>"
    url = server.add("/about", Route(body=page, content_type="text/html"))
    with pytest.raises(InputError, match="yt-dlp does not support this site or page"):
        resolve_source(url, _settings(tmp_path))


def test_a_text_file_served_as_video_is_refused_after_download(
    server: LocalHTTPServer, dest: Path, tmp_path: Path
) -> None:
    body = b"Sorry, this video is no longer available.\n" * 40
    url = server.add("/fake.mp4", Route(body=body, content_type="video/mp4"))
    settings = _settings(tmp_path)
    resolved = resolve_source(url, settings)
    with pytest.raises(InputError) as caught:
        download(resolved, dest, settings)
    assert "is unusable: it contains text" in str(caught.value)
    assert _leftovers(dest) == []


@pytest.fixture(scope="module")
def non_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, NonVideo]:
    return make_non_videos(tmp_path_factory.mktemp("non-videos"))


@pytest.mark.parametrize("kind", NON_VIDEO_KINDS)
def test_a_non_video_served_over_http_is_refused_and_nothing_is_kept(
    server: LocalHTTPServer,
    non_videos: dict[str, NonVideo],
    dest: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """Served as a link with no extension and its true type, as a broken or moved link answers;
    the sentence FFmpeg reads as CD+G graphics used to be stored as a 0.003 s video."""
    monkeypatch.setenv("ADREF_ALLOW_PRIVATE_URLS", "true")
    item = non_videos[kind]
    url = server.add(f"/ads/{kind}", Route(body=item.body, content_type=item.content_type))
    settings = _settings(tmp_path)
    with pytest.raises(InputError) as caught:
        download(resolve_source(url, settings), dest, settings)
    message = str(caught.value)
    if kind in ("html", "svg"):  # yt-dlp reads these as pages and finds no video in them
        assert "no video was found at this address" in message, message
    else:
        assert f"is unusable: {item.reason}" in message, message
    assert "\n" not in message
    assert _leftovers(dest) == []


@pytest.mark.parametrize(
    "source",
    [
        "file:///etc/passwd",
        "FILE:///etc/hostname",
        "ftp://127.0.0.1:{port}/brand-film.mp4",
        "data:video/mp4;base64,AAAAIGZ0eXBpc29t",
        "javascript:alert(1)",
        "gopher://127.0.0.1:{port}/brand-film.mp4",
    ],
)
def test_unsupported_schemes_are_refused_before_any_network_use(
    server: LocalHTTPServer, tmp_path: Path, source: str
) -> None:
    before = server.request_count()
    with pytest.raises(InputError) as caught:
        resolve_source(source.format(port=server.port), _settings(tmp_path))
    assert "is not supported; only http:// and https:// are fetched" in str(caught.value)
    assert server.request_count() == before


def test_a_file_url_to_a_real_video_is_still_refused(clip: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="scheme file: is not supported"):
        resolve_source(clip.as_uri(), _settings(tmp_path))


# -- URLs: failures a retry can fix (Prefect retries TransientError) -------------------------


def test_server_error_is_transient(server: LocalHTTPServer, tmp_path: Path) -> None:
    url = server.add("/busy.mp4", Route(status=503))
    with pytest.raises(TransientError) as caught:
        resolve_source(url, _settings(tmp_path))
    assert "HTTP 503 Service Unavailable" in str(caught.value)
    assert caught.value.retryable


def test_a_flaky_server_fails_transiently_then_works_on_retry(
    server: LocalHTTPServer, clip: Path, tmp_path: Path
) -> None:
    """What Prefect's task retry relies on: the same call succeeds once the server recovers."""
    url = server.serve_file(clip, path="/flaky.mp4", fail_first=1, fail_status=502)
    settings = _settings(tmp_path)
    with pytest.raises(TransientError, match="HTTP 502 Bad Gateway"):
        resolve_source(url, settings)
    assert resolve_source(url, settings).meta.title == "flaky"
    assert server.request_count("/flaky.mp4") >= 2


def test_nothing_listening_is_transient_and_says_so(tmp_path: Path) -> None:
    port = unused_port()
    with pytest.raises(TransientError) as caught:
        resolve_source(f"http://127.0.0.1:{port}/ad.mp4", _settings(tmp_path))
    assert f"connection refused by 127.0.0.1:{port} (nothing listening)" in str(caught.value)
    assert "try again later" in str(caught.value)


def test_a_silent_server_times_out_as_transient(server: LocalHTTPServer, tmp_path: Path) -> None:
    url = server.add("/hang.mp4", Route(body=b"x", delay_s=5))
    with pytest.raises(TransientError) as caught:
        resolve_source(url, _settings(tmp_path, download_timeout_s=0.5))
    assert "sent nothing for 0.5 s (ADREF_DOWNLOAD_TIMEOUT_S)" in str(caught.value)


def test_a_download_that_stalls_midway_is_transient_and_leaves_nothing(
    server: LocalHTTPServer, clip: Path, dest: Path, tmp_path: Path
) -> None:
    url = server.serve_file(clip, path="/stall.mp4", chunk_delay_s=5)
    settings = _settings(tmp_path, download_timeout_s=0.5)
    resolved = resolve_source(url, settings)  # headers arrive at once; the body never does
    with pytest.raises(TransientError):
        download(resolved, dest, settings)
    assert _leftovers(dest) == []


# -- Limits ----------------------------------------------------------------------------------


def _json_ld_page(server: LocalHTTPServer, path: str, duration: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": "Spring campaign",
        "contentUrl": server.url("/brand-film.mp4"),
        "duration": duration,
        "uploadDate": "2024-05-01",
    }
    page = f'<html><script type="application/ld+json">{json.dumps(data)}</script></html>'
    return server.add(path, Route(body=page.encode(), content_type="text/html"))


def test_a_stated_duration_over_the_limit_stops_before_downloading(
    server: LocalHTTPServer, dest: Path, tmp_path: Path
) -> None:
    url = _json_ld_page(server, "/watch/long", "PT1H30M")
    settings = _settings(tmp_path, max_duration_s=600)
    with pytest.raises(LimitExceeded) as caught:
        resolve_source(url, settings)
    message = str(caught.value)
    assert "lasts 1:30:00, over the limit of 10:00 (ADREF_MAX_DURATION_S=600)" in message
    assert not caught.value.retryable

    unresolved = ResolvedSource(kind="url", source=url, video_id=None, meta=VideoMeta(video_id=""))
    with pytest.raises(LimitExceeded):
        download(unresolved, dest, settings)
    assert _leftovers(dest) == []


def test_a_page_with_a_short_stated_duration_downloads_with_its_metadata(
    server: LocalHTTPServer, clip: Path, dest: Path, tmp_path: Path
) -> None:
    url = _json_ld_page(server, "/watch/short", "PT2S")
    settings = _settings(tmp_path, max_duration_s=600)
    resolved = resolve_source(url, settings)
    assert resolved.meta.title == "Spring campaign"
    assert resolved.meta.duration_s == 2.0
    assert str(resolved.meta.upload_date) == "2024-05-01"
    video = download(resolved, dest, settings)
    assert video.meta.video_id == f"sha256:{sha256_file(clip)}"
    assert video.meta.title == "Spring campaign"
    assert video.meta.webpage_url == url


def test_a_measured_duration_over_the_limit_stops_after_downloading(
    server: LocalHTTPServer, dest: Path, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, max_duration_s=1)
    resolved = resolve_source(server.url("/brand-film.mp4"), settings)  # no stated duration
    with pytest.raises(LimitExceeded, match="lasts 0:02, over the limit of 0:01"):
        download(resolved, dest, settings)
    assert _leftovers(dest) == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_file_over_the_size_limit_is_refused_and_not_kept(
    server: LocalHTTPServer, clip: Path, dest: Path, tmp_path: Path, chunked: bool
) -> None:
    url = server.serve_file(clip, path=f"/big-{chunked}.mp4", chunked=chunked)
    settings = _settings(tmp_path, max_filesize_mb=0.02)  # about 21 KB; the clip is larger
    resolved = resolve_source(url, settings)
    with pytest.raises(LimitExceeded) as caught:
        download(resolved, dest, settings)
    message = str(caught.value)
    assert "is too large" in message and "(ADREF_MAX_FILESIZE_MB=0.02)" in message
    if not chunked:
        assert f"it is at least {clip.stat().st_size:,} bytes" in message
    assert _leftovers(dest) == []


# -- Local files -----------------------------------------------------------------------------


def test_a_local_file_is_used_in_place_with_a_stable_content_id(
    clip: Path, dest: Path, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    first = resolve_source(str(clip), settings)
    again = resolve_source(f"  {clip}  ", settings)
    expected = f"sha256:{sha256_file(clip)}"
    assert first.kind == "file"
    assert first.video_id == again.video_id == expected
    assert first.meta.title == "brand-film"
    assert (first.meta.width, first.meta.height) == (320, 240)

    video = download(first, dest, settings)
    assert video.path == clip.resolve()  # never copied
    assert video.meta.video_id == expected
    assert video.bytes_downloaded == 0
    assert video.size_bytes == clip.stat().st_size
    assert _leftovers(dest) == []


def test_a_local_file_changed_after_resolving_is_looked_at_again(
    clip: Path, dest: Path, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    copy = tmp_path / "edited.mp4"
    copy.write_bytes(clip.read_bytes())
    resolved = resolve_source(str(copy), settings)
    assert resolved.local is not None and resolved.stamp is not None
    assert download(resolved, dest, settings).meta.video_id == resolved.video_id

    with copy.open("ab") as f:  # an edit between resolving and downloading
        f.write(b"\0" * 16)
    video = download(resolved, dest, settings)
    assert video.content_hash == sha256_file(copy)
    assert video.meta.video_id != resolved.video_id


def test_a_local_file_over_the_duration_limit_is_refused(clip: Path, tmp_path: Path) -> None:
    with pytest.raises(LimitExceeded, match="ADREF_MAX_DURATION_S=1"):
        resolve_source(str(clip), _settings(tmp_path, max_duration_s=1))


def test_a_rotated_phone_clip_reports_its_displayed_size(tmp_path: Path) -> None:
    phone = make_rotated_clip(tmp_path / "phone.mp4", rotation=90, size=(320, 180))
    resolved = resolve_source(str(phone), _settings(tmp_path))
    assert (resolved.meta.width, resolved.meta.height) == (180, 320)


def test_bad_local_files_are_refused_with_distinct_messages(tmp_path: Path) -> None:
    files = {
        "not a video file: it contains text": make_text_as_video(tmp_path / "list.mp4"),
        "the file is empty (0 bytes)": make_empty_file(tmp_path / "empty.mp4"),
        "is incomplete: it is": make_truncated_video(tmp_path / "cut.mp4", faststart=True),
        "index (the 'moov' box) is missing": make_truncated_video(
            tmp_path / "cut-plain.mp4", faststart=False
        ),
        "contains audio only, no video stream": make_audio_only(tmp_path / "voice.m4a"),
    }
    messages = set()
    for expected, path in files.items():
        with pytest.raises(InputError) as caught:
            resolve_source(str(path), _settings(tmp_path))
        assert expected in str(caught.value), str(caught.value)
        assert type(caught.value) is InputError
        messages.add(str(caught.value))
    assert len(messages) == len(files)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{tmp}/missing.mp4", "no such file. Check the path"),
        (
            "{tmp}",
            "it is a folder, not a video file. Give one video file; to ingest a whole folder",
        ),
        ("www.example.com/ad.mp4", "add https:// (https://www.example.com/ad.mp4)"),
        ("youtube.com/watch?v=abc", "add https:// (https://youtube.com/watch?v=abc)"),
        ("spot.mov", "no such file. Check the path and try again."),
        ("   ", "the source is empty"),
    ],
    ids=["missing", "folder", "www-without-scheme", "host-without-scheme", "file-name", "blank"],
)
def test_unusable_paths_say_why(tmp_path: Path, source: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        resolve_source(source.format(tmp=tmp_path), _settings(tmp_path))
    assert expected in str(caught.value)


# -- Classifying yt-dlp's failures (as yt-dlp reports them from sites we cannot reach here) --


def _reported(exc: BaseException) -> DownloadError:
    """Wrap an error the way YoutubeDL.report_error does: a DownloadError holding exc_info."""
    try:
        raise exc
    except BaseException:
        return DownloadError(f"ERROR: {exc}", sys.exc_info())


def _http_error(status: int) -> HTTPError:
    return HTTPError(Response(fp=None, url="https://example.com/v", headers={}, status=status))


@pytest.mark.parametrize(
    ("exc", "kind", "words"),
    [
        (
            GeoRestrictedError("The uploader has not made this video available in your country"),
            InputError,
            "geo-blocked",
        ),
        (
            ExtractorError("Private video. Sign in if you've been granted access", expected=True),
            InputError,
            "the video is private",
        ),
        (
            ExtractorError("Video unavailable. This video has been removed", expected=True),
            InputError,
            "the video is unavailable",
        ),
        (
            ExtractorError("Sign in to confirm you're not a bot", expected=True),
            InputError,
            "not a bot",
        ),
        (
            ExtractorError("Sign in to confirm your age", expected=True),
            InputError,
            "age-restricted",
        ),
        (UnsupportedError("https://example.com/about"), InputError, "does not support"),
        (_http_error(410), InputError, "HTTP 410 Gone"),
        (_http_error(451), InputError, "HTTP 451"),
        (_http_error(429), TransientError, "HTTP 429 Too Many Requests"),
        (_http_error(502), TransientError, "HTTP 502 Bad Gateway"),
        (TransportError("Read timed out. (read timeout=15.0)"), TransientError, "sent nothing"),
        (TransportError("[Errno 104] Connection reset by peer"), TransientError, "cut off"),
        (
            DownloadError("ERROR: [download] Got error: HTTP Error 503: Service Unavailable"),
            TransientError,
            "HTTP 503",
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
def test_ytdlp_failures_are_classified(exc: BaseException, kind: type, words: str) -> None:
    error = classify_ytdlp_error(_reported(exc), "https://example.com/v?sig=abc", 15.0)
    assert type(error) is kind
    assert words in str(error)
    assert "sig=REDACTED" in str(error) and "abc" not in str(error)
    assert isinstance(error, AdrefError) and error.hint


def test_the_support_server_serves_byte_ranges(server: LocalHTTPServer, clip: Path) -> None:
    """Browsers (the viewer's tests) fetch video by ranges; the test server must honour them."""
    request = urllib.request.Request(server.url("/brand-film.mp4"), headers={"Range": "bytes=4-11"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 206
        assert answer.headers["Content-Range"] == f"bytes 4-11/{clip.stat().st_size}"
        assert answer.read() == clip.read_bytes()[4:12]


# -- Format choice (YouTube-like format lists, chosen by yt-dlp itself, offline) ------------


def _format(fid: str, ext: str, vcodec: str, acodec: str, height: int = 0) -> dict[str, Any]:
    fmt = {"format_id": fid, "url": f"https://cdn.example/{fid}", "ext": ext, "tbr": 1000}
    fmt.update(vcodec=vcodec, acodec=acodec, protocol="https")
    if height:
        fmt.update(height=height, width=height * 16 // 9, fps=30)
    return fmt


SITE_FORMATS = [
    _format("140", "m4a", "none", "mp4a.40.2"),
    _format("251", "webm", "none", "opus"),
    _format("18", "mp4", "avc1.42001E", "mp4a.40.2", 360),
    _format("136", "mp4", "avc1.4d401f", "none", 720),
    _format("137", "mp4", "avc1.640028", "none", 1080),
    _format("248", "webm", "vp9", "none", 1080),
    _format("399", "mp4", "av01.0.08M.08", "none", 1080),
    _format("313", "webm", "vp9", "none", 2160),
    _format("401", "mp4", "av01.0.12M.08", "none", 2160),
]


@pytest.mark.parametrize(
    ("ffmpeg", "h264", "chosen"),
    [
        (True, True, "137+140"),  # H.264 1080p + AAC, merged into MP4
        (True, False, "248+140"),  # no H.264: still at most 1080p
        (False, True, "18"),  # no merging possible: the progressive H.264 MP4
    ],
    ids=["merge", "merge-no-h264", "single-file"],
)
def test_format_choice_prefers_h264_mp4_up_to_1080p(
    tmp_path: Path, ffmpeg: bool, h264: bool, chosen: str
) -> None:
    formats = [f for f in SITE_FORMATS if h264 or not f["vcodec"].startswith("avc1")]
    info: dict[str, Any] = {"id": "abc", "title": "t", "extractor_key": "Youtube"}
    info.update(webpage_url="https://www.youtube.com/watch?v=abc", formats=formats)
    binary = ffmpeg_location() if ffmpeg else None
    assert binary or not ffmpeg, "imageio-ffmpeg ships an ffmpeg binary"
    with yt_dlp.YoutubeDL(ytdl_options(_settings(tmp_path), binary)) as ydl:
        picked = ydl.process_ie_result(info, download=False)
    assert picked["format_id"] == chosen
    assert picked["height"] <= 1080


# -- Site metadata ---------------------------------------------------------------------------


def test_site_metadata_maps_onto_the_data_contract() -> None:
    info = {
        "id": "dQw4w9WgXcQ",
        "extractor_key": "Youtube",
        "title": " Spring campaign ",
        "description": "30s spot",
        "uploader": "Brand",
        "upload_date": "20240501",
        "duration": 30,
        "tags": ["ad", "spring", "ad", ""],
        "view_count": 1234,
        "webpage_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "width": 1920,
        "height": 1080,
        "fps": 25,
        "channel_id": "UC123",
        "formats": [{"url": "https://rr1---sn.googlevideo.com/videoplayback?sig=x"}],
    }
    meta = meta_from_info(info, "https://youtu.be/dQw4w9WgXcQ?si=abc&token=t0k")
    assert site_video_id(info) == meta.video_id == "youtube:dQw4w9WgXcQ"
    assert (meta.title, meta.uploader) == ("Spring campaign", "Brand")
    assert str(meta.upload_date) == "2024-05-01"
    assert meta.site_tags == ["ad", "spring"]
    assert (meta.duration_s, meta.width, meta.height, meta.fps) == (30.0, 1920, 1080, 25.0)
    assert meta.extractor == "youtube"
    assert meta.source_url == "https://youtu.be/dQw4w9WgXcQ?si=abc&token=REDACTED"
    assert meta.metadata["channel_id"] == "UC123"
    assert "formats" not in meta.metadata
    json.dumps(meta.metadata)
    assert site_video_id({"id": "clip", "extractor_key": "Generic"}) is None
    assert site_video_id({"id": "page-1", "extractor_key": "Html5MediaEmbed"}) is None


def test_redact_url_masks_only_credentials() -> None:
    assert redact_url("https://u:p@cdn.example/v.mp4?Expires=1&Signature=abc&w=640") == (
        "https://REDACTED@cdn.example/v.mp4?Expires=1&Signature=REDACTED&w=640"
    )
    assert redact_url("https://www.youtube.com/watch?v=abc&t=10") == (
        "https://www.youtube.com/watch?v=abc&t=10"
    )
