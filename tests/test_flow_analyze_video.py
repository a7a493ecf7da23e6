"""The analyze_video flow end to end, on a real Prefect server and a real warehouse."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest

from adref.errors import InputError
from adref.settings import get_settings
from adref.warehouse.catalog import Warehouse


def _run(source: Path | str, **kwargs: object):
    from adref.flows.analyze_video import analyze_video

    return analyze_video(source=str(source), **kwargs)


def _query(sql: str) -> list[tuple]:
    con = Warehouse(get_settings().warehouse).connect(read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_local_file_end_to_end_then_fully_cached(
    prefect_api: str, adref_home: Path, clip_ad
) -> None:
    first = _run(clip_ad.path, owner="tester", tags=["demo", "demo", "summer"])
    assert first.status == "completed"
    assert first.video_id and first.video_id.startswith("sha256:")
    assert first.shots == len(clip_ad.cut_frames) + 1
    assert 1 <= first.groups <= first.shots
    assert first.tasks == 8 and first.cache_hits == 0
    assert abs(sum(c.weight for c in first.palette) - 1.0) < 0.01

    root = get_settings().warehouse
    (video,) = _query("select video_id, owner, user_tags, media_path, width, height from videos")
    assert video[0] == first.video_id and video[1] == "tester"
    assert sorted(video[2]) == ["demo", "summer"]
    assert (root / video[3]).is_file()
    shots = _query("select shot_index, keyframe_path from shots order by shot_index")
    assert [s[0] for s in shots] == list(range(first.shots))
    assert all((root / s[1]).is_file() for s in shots)
    assert _query("select count(*) from analyses")[0][0] == 1
    assert _query("select count(*) from scene_groups")[0][0] == first.groups
    texts = _query("select shot_index, text, language from shot_texts order by shot_index")
    drawn = {t for t in clip_ad.texts if t}
    print("read on screen:", texts)
    assert {t for _, t, _ in texts} == drawn, "every super is read, once per shot, nothing else"
    assert all(lang == "eng" for _, _, lang in texts)
    assert _query("select count(*) from runs where text_s > 0")[0][0] == 1
    assert _query("select count(*) from transcripts")[0][0] == 0, "no speech engine configured"
    assert _query("select count(*) from runs where speech_s > 0")[0][0] == 1
    assert not any(get_settings().work_dir.iterdir()), "a successful run removes its workspace"

    second = _run(clip_ad.path, owner="tester", tags=["summer", "demo"])
    assert second.status == "completed"
    assert second.cache_hits == second.tasks == 8
    assert _query("select count(*) from shots")[0][0] == first.shots, "a re-run never duplicates"
    runs = _query("select status, tasks, cache_hits from runs order by started_at")
    assert runs == [("completed", 8, 0), ("completed", 8, 8)]


@pytest.mark.expected_error_log  # a failed flow run: Prefect and the flow log it
def test_bad_input_fails_clearly_records_the_run_and_keeps_the_workspace(
    prefect_api: str, adref_home: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "not-a-video.mp4"
    fake.write_text("this is a text file pretending to be a video\n" * 50)
    with pytest.raises(InputError) as info:
        _run(fake)
    assert "video" in str(info.value).lower()
    (run,) = _query("select status, error, video_id from runs")
    assert run[0] == "failed" and run[1] and "\n" not in run[1]
    assert _query("select count(*) from videos")[0][0] == 0, "nothing half written"
    kept = list(get_settings().work_dir.iterdir())
    assert len(kept) == 1, "a failed run keeps its workspace for inspection"

    from prefect.client.orchestration import get_client

    ((flow_run_id,),) = _query("select flow_run_id from runs")
    with get_client(sync_client=True) as client:
        name = client.read_flow_run(flow_run_id).name
    assert name == "not-a-video.mp4", "a run that never knew its video is named by its source"


def test_refresh_recomputes_and_still_replaces_rows(
    prefect_api: str, adref_home: Path, clip_single
) -> None:
    _run(clip_single.path)
    again = _run(clip_single.path, refresh=True)
    assert again.cache_hits == 0
    assert _query("select count(*) from videos")[0][0] == 1
    assert _query("select count(*) from shots")[0][0] == 1


def test_deleted_warehouse_is_rebuilt_not_trusted_from_cache(
    prefect_api: str, adref_home: Path, clip_single
) -> None:
    _run(clip_single.path)
    shutil.rmtree(get_settings().warehouse)
    again = _run(clip_single.path)
    assert again.status == "completed"
    assert again.cache_hits == again.tasks - 1  # everything but persist
    assert _query("select count(*) from videos")[0][0] == 1


def test_any_duckdb_client_opens_the_warehouse_with_the_attach_line(
    prefect_api: str, adref_home: Path, clip_single
) -> None:
    summary = _run(clip_single.path)
    con = duckdb.connect()
    con.execute(summary.attach_line)
    assert con.execute("select count(*) from shots").fetchone() == (1,)


def test_url_is_downloaded_once_and_cached_on_its_video_id(
    prefect_api: str, adref_home: Path, clip_single
) -> None:
    from tests.support.http import LocalHTTPServer

    with LocalHTTPServer() as server:
        url = server.serve_file(clip_single.path, "/spots/single.mp4")
        first = _run(url)
        second = _run(url)
        downloads = server.request_count("/spots/single.mp4")
    assert first.status == second.status == "completed"
    assert first.bytes_downloaded == clip_single.path.stat().st_size
    assert second.cache_hits == second.tasks
    assert second.bytes_downloaded == 0
    assert downloads >= 1 and first.video_id == second.video_id
    (row,) = _query("select source_url, media_path from videos")
    assert row[0] == url


def test_a_run_that_stores_a_video_publishes_its_summary_and_a_cached_rerun_adds_none(
    prefect_api: str, adref_home: Path, clip_single
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    first, again, refreshed = (_run(clip_single.path, refresh=r) for r in (False, False, True))
    assert again.cache_hits == again.tasks and refreshed.cache_hits == 0
    runs = [uuid.UUID(s.flow_run_id) for s in (first, again, refreshed)]
    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        found = {
            run: client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run]))
            )
            for run in runs
        }
        markdowns = {run: [a for a in found[run] if a.type == "markdown"] for run in runs}
        bars = {run: [a for a in found[run] if a.type == "progress"] for run in runs}
        names = [client.read_flow_run(run).name for run in runs]
        logs = [
            log.message
            for log in client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[runs[1]]))
            )
        ]
    (md,) = markdowns[runs[0]]
    assert first.video_id in md.data and "data:image/jpeg;base64," in md.data
    assert "ATTACH 'ducklake:" in md.data
    opened = f"http://127.0.0.1:5006/video?id={quote(first.video_id, safe='')}"
    assert f"[Open in the viewer]({opened})" in md.data, "the summary links to the video page"
    assert md.key and md.key.startswith("adref-")
    assert markdowns[runs[1]] == [], "nothing was stored again, so no second copy of the summary"
    assert any(md.key in line and "unchanged" in line for line in logs), logs
    (redrawn,) = markdowns[runs[2]]
    assert redrawn.key == md.key, "one history per video under one key"
    for name in names:
        assert name.endswith(f"[{first.video_id}]"), "every run is named after the video"
    (bar,) = bars[runs[0]]
    assert float(bar.data) == 100.0, "the stages' progress bar ends full"
    assert bars[runs[1]] == [], "a run wholly from cache is over before a bar could be watched"
    assert [float(b.data) for b in bars[runs[2]]] == [100.0]


def test_the_same_bytes_from_two_urls_and_a_file_are_one_video_seen_at_three_sources(
    prefect_api: str, adref_home: Path, clip_single, tmp_path: Path, monkeypatch
) -> None:
    from adref.settings import reset_settings
    from tests.support.http import LocalHTTPServer

    monkeypatch.setenv("ADREF_ALLOW_PRIVATE_URLS", "true")  # the test server is on loopback
    reset_settings()
    local = tmp_path / "Teaser final.mp4"
    shutil.copyfile(clip_single.path, local)
    with LocalHTTPServer() as server:
        first_url = server.serve_file(clip_single.path, "/spring/launch-teaser.mp4")
        mirror = server.serve_file(clip_single.path, "/mirror/teaser-copy.mp4")
        signed = mirror + "?token=hunter2"
        runs = [_run(source) for source in (local, first_url, signed, first_url)]
    assert [r.status for r in runs] == ["completed"] * 4
    assert len({r.video_id for r in runs}) == 1
    assert runs[-1].cache_hits == runs[-1].tasks, "the last run is served wholly from cache"

    shown_url = mirror + "?token=REDACTED"
    ((title, source_url),) = _query("select title, source_url from videos")
    assert (title, source_url) == ("Teaser final", first_url), "a URL fills what a file left"
    assert [r.title for r in runs] == [title] * 4, "every summary shows the stored title"
    assert [r.source_title for r in runs] == [None, "launch-teaser", "teaser-copy", "launch-teaser"]
    assert [r.source for r in runs] == [str(local), first_url, shown_url, first_url]

    sources = _query(
        "select source, kind, title, seen_count, last_seen_at > first_seen_at "
        "from video_sources order by first_seen_at"
    )
    assert sources == [
        (str(local), "file", "Teaser final", 1, False),
        (first_url, "url", "launch-teaser", 2, True),
        (shown_url, "url", "teaser-copy", 1, False),
    ]
    ((last_seen,),) = _query(f"select last_seen_at from video_sources where source = '{first_url}'")
    ((finished,),) = _query("select max(finished_at) from runs")
    assert last_seen == finished, "the warm re-run moved its source's last_seen_at"
    stored = _query("select source from runs union all select source from video_sources")
    assert not any("hunter2" in str(row) for row in stored), "credentials are never stored"
