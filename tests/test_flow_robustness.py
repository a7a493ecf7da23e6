"""Bad input, transient failures and concurrency, through the real flow on a real Prefect server.

Every bad input must end in a clear error, a failed `runs` row, no video rows, and a process
that goes on to analyse the next video.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from adref.errors import InputError, LimitExceeded
from adref.settings import get_settings, reset_settings
from adref.warehouse.catalog import Warehouse
from tests.support import media
from tests.support.http import LocalHTTPServer, Route
from tests.support.nonvideo import CDG_SENTENCE


def _count(sql: str) -> int:
    con = Warehouse(get_settings().warehouse).connect(read_only=True)
    try:
        row = con.execute(sql).fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


BAD_FILES: dict[str, Callable[[Path], Path]] = {
    "text renamed .mp4": lambda d: media.make_text_as_video(d / "text.mp4"),
    "0-byte file": lambda d: media.make_empty_file(d / "empty.mp4"),
    "truncated mp4": lambda d: media.make_truncated_video(d / "cut.mp4", faststart=True),
    "truncated mp4, index at the end": lambda d: media.make_truncated_video(
        d / "cut-late.mp4", faststart=False
    ),
    "audio only": lambda d: media.make_audio_only(d / "tone.m4a"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_bad_file_fails_clearly_and_the_process_survives(
    prefect_api: str, adref_home: Path, tmp_path: Path, kind: str, clip_single
) -> None:
    from adref.flows.analyze_video import analyze_video

    bad = BAD_FILES[kind](tmp_path)
    with pytest.raises(InputError) as info:
        analyze_video(source=str(bad))
    message = str(info.value)
    assert "\n" not in message and len(message) < 400
    assert _count("select count(*) from runs where status = 'failed' and error is not null") == 1
    assert _count("select count(*) from videos") == 0
    assert _count("select count(*) from shots") == 0

    after = analyze_video(source=str(clip_single.path))
    assert after.status == "completed"
    assert _count("select count(*) from videos") == 1


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_a_text_file_served_over_http_fails_the_run_and_stores_nothing(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FFmpeg reads this sentence as CD+G karaoke graphics; it was stored as a 0.003 s video."""
    from adref.flows.analyze_video import analyze_video

    monkeypatch.setenv("ADREF_ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    with LocalHTTPServer() as server:
        url = server.add("/ads/spot", Route(body=CDG_SENTENCE, content_type="text/plain"))
        with pytest.raises(InputError) as info:
            analyze_video(source=url)
    message = str(info.value)
    assert "is unusable: it contains text" in message and "\n" not in message
    con = Warehouse(get_settings().warehouse).connect(read_only=True)
    try:
        runs = con.execute("select status, source, error from runs").fetchall()
    finally:
        con.close()
    assert runs == [("failed", url, message)]
    for table in ("videos", "shots", "analyses"):
        assert _count(f"select count(*) from {table}") == 0, table
    media_dir = Warehouse(get_settings().warehouse).media_dir
    assert not media_dir.exists() or not any(p.is_file() for p in media_dir.rglob("*"))


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_video_over_the_duration_limit_is_refused(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch, clip_ad
) -> None:
    from adref.flows.analyze_video import analyze_video

    monkeypatch.setenv("ADREF_MAX_DURATION_S", "2")
    reset_settings()
    with pytest.raises(LimitExceeded) as info:
        analyze_video(source=str(clip_ad.path))
    assert "ADREF_MAX_DURATION_S" in str(info.value)
    assert _count("select count(*) from videos") == 0


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_a_lowered_duration_limit_holds_for_a_video_served_from_cache(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch, clip_single
) -> None:
    from adref.flows.analyze_video import analyze_video

    assert analyze_video(source=str(clip_single.path)).status == "completed"
    monkeypatch.setenv("ADREF_MAX_DURATION_S", "1")
    reset_settings()
    with pytest.raises(LimitExceeded, match="over the limit of 0:01"):
        analyze_video(source=str(clip_single.path))
    assert _count("select count(*) from runs where status = 'failed'") == 1


def test_transient_http_errors_are_retried_and_the_run_succeeds(
    prefect_api: str, adref_home: Path, clip_single
) -> None:
    from adref.flows.analyze_video import analyze_video

    with LocalHTTPServer() as server:
        url = server.add("/flaky.mp4", Route(body=clip_single.path, fail_first=1, fail_status=503))
        summary = analyze_video(source=url)
        attempts = server.request_count("/flaky.mp4")
    assert summary.status == "completed"
    assert attempts >= 2, "the 503 was retried"


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_a_404_is_not_retried(prefect_api: str, adref_home: Path) -> None:
    from adref.flows.analyze_video import analyze_video

    with LocalHTTPServer() as server:
        url = server.add("/gone.mp4", Route(status=404, body=b"not here"))
        with pytest.raises(InputError) as info:
            analyze_video(source=url)
        attempts = server.request_count("/gone.mp4")
    assert "404" in str(info.value)
    assert attempts == 1, "a permanent error is asked once"


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_a_private_address_fails_the_run_at_once_without_the_setting(
    prefect_api: str, adref_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adref.flows.analyze_video import analyze_video

    monkeypatch.setenv("ADREF_ALLOW_PRIVATE_URLS", "false")
    reset_settings()
    with LocalHTTPServer() as server:
        url = server.add("/internal", Route(body=b"<title>admin</title>", content_type="text/html"))
        with pytest.raises(InputError, match="private or local address") as info:
            analyze_video(source=url.replace("127.0.0.1", "localhost"))
        reached = server.request_count()
    assert "ADREF_ALLOW_PRIVATE_URLS=true" in str(info.value)
    assert reached == 0
    assert _count("select count(*) from runs where status = 'failed'") == 1
    assert _count("select count(*) from videos") == 0


def test_five_flows_at_once_lose_nothing(prefect_api: str, tmp_path: Path) -> None:
    clips = [
        media.make_video(tmp_path / f"clip{i}.mp4", seconds=1.0 + 0.2 * i, audio=False)
        for i in range(5)
    ]
    home = tmp_path / "home"
    env = {**os.environ, "ADREF_HOME": str(home), "PREFECT_API_URL": prefect_api}
    env.pop("ADREF_WAREHOUSE_DIR", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "adref", "analyze", str(clip)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for clip in clips
    ]
    errors = [p.communicate(timeout=600)[1] for p in procs]
    failed = [e[-3000:] for p, e in zip(procs, errors, strict=True) if p.returncode != 0]
    assert not failed, "\n\n".join(failed)
    wh = Warehouse(home / "warehouse")
    con = wh.connect(read_only=True)
    try:
        assert con.execute("select count(*) from videos").fetchone() == (5,)
        assert con.execute("select count(distinct video_id) from shots").fetchone() == (5,)
        assert con.execute("select count(*) from analyses").fetchone() == (5,)
        assert con.execute("select count(*) from runs where status = 'completed'").fetchone() == (
            5,
        )
    finally:
        con.close()
