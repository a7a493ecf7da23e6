"""Media in the bucket (ADREF_MEDIA_PATH): what one machine analyses, another shows, exports and
deletes; and the bucket stopping while a run writes its media fails that run in one line.

Two homes share only the PostgreSQL catalog and the bucket (Debian's PostgreSQL and moto's S3
server on loopback, as in test_warehouse_scale.py). Home A runs ``adref analyze`` on a made
clip; home B runs a real ``adref viewer`` process and is asked over HTTP for A's keyframes and
video copy, builds a board from them and exports it, and deletes the video.
"""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from typer.testing import Result

from adref.boards.delete import delete_video
from adref.boards.export import board_pdf, board_png
from adref.boards.frames import frame_image
from adref.models import safe_id
from adref.settings import Settings
from adref.video.testclips import make_clip
from adref.warehouse import moodboards as mb
from adref.warehouse.catalog import Warehouse
from adref.warehouse.media_store import BucketMedia, MediaUnreachable
from tests.support.cli import invoke
from tests.support.scale import (
    REGION,
    Postgres,
    S3Server,
    ScaleSetup,
    new_setup,
    postgres,
    s3_server,
)
from tests.support.stopper import StopWhen
from tests.support.viewer import clean_env, raw_get, start_viewer, stop_viewer

__all__ = ["postgres", "s3_server"]

pytestmark = pytest.mark.slow
SAFETY_S = 300.0


def media_env(setup: ScaleSetup, home: Path) -> dict[str, str | None]:
    return {
        **setup.env(),
        "ADREF_HOME": str(home),
        "ADREF_WAREHOUSE_DIR": None,
        "ADREF_MEDIA_PATH": f"s3://{setup.bucket}/media/",
        "ADREF_TASK_RETRIES": "0",
    }


def settings_of(env: dict[str, str | None]) -> Settings:
    e = {k: v for k, v in env.items() if v is not None}
    return Settings(
        home=Path(e["ADREF_HOME"]),
        warehouse_catalog=e["ADREF_WAREHOUSE_CATALOG"],
        warehouse_data_path=e.get("ADREF_WAREHOUSE_DATA_PATH"),
        media_path=e["ADREF_MEDIA_PATH"],
        s3_endpoint=e["ADREF_S3_ENDPOINT"],
        s3_region=REGION,
        s3_access_key_id=e["AWS_ACCESS_KEY_ID"],
        s3_secret_access_key=e["AWS_SECRET_ACCESS_KEY"],
    )


def stored(settings: Settings) -> list[tuple[str, str]]:
    with contextlib.closing(Warehouse.of(settings).connect(read_only=True)) as con:
        rows = con.execute("SELECT video_id, media_path FROM videos ORDER BY 1").fetchall()
    return [(str(v), str(m)) for v, m in rows]


def count(settings: Settings, table: str) -> int:
    with contextlib.closing(Warehouse.of(settings).connect(read_only=True)) as con:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else -1


def test_a_video_analysed_on_one_machine_is_shown_exported_and_deleted_from_another(
    prefect_api: str, postgres: Postgres, s3_server: S3Server, tmp_path: Path
) -> None:
    setup = new_setup(postgres, s3_server)
    clip = make_clip("ad", tmp_path / "ad.mp4", duration_s=4.0, width=320, height=180)
    env_a = media_env(setup, tmp_path / "a") | {"PREFECT_API_URL": prefect_api}
    done = invoke(["analyze", str(clip.path)], env_a)
    assert done.exit_code == 0, done.output

    b = settings_of(media_env(setup, tmp_path / "b"))
    ((video_id, media_path),) = stored(b)
    vid = safe_id(video_id)
    keys = setup.s3.keys(setup.bucket, "media/")
    keyframes = sorted(k for k in keys if k.startswith(f"media/media/keyframes/{vid}/"))
    assert keyframes and f"media/{media_path}" in keys
    assert not [k for k in keys if "/." in k and not k.endswith("/")], "no upload left behind"
    assert not (tmp_path / "a" / "warehouse" / "media").exists() or not [
        p for p in (tmp_path / "a" / "warehouse" / "media").rglob("*") if p.is_file()
    ], "nothing of it on A's disk"
    first = keyframes[0].removeprefix("media/")
    jpeg = setup.s3.object(setup.bucket, keyframes[0])

    env_b = clean_env(
        tmp_path / "b", **{k: v for k, v in media_env(setup, tmp_path / "b").items() if v}
    )
    viewer = start_viewer(env_b)
    try:
        url = f"{viewer.url}/{first}"
        whole = httpx.get(url, timeout=30)
        assert whole.status_code == 200 and whole.content == jpeg
        assert whole.headers["content-type"] == "image/jpeg"
        etag = whole.headers["etag"]
        assert whole.headers["last-modified"] and whole.headers["accept-ranges"] == "bytes"
        part = httpx.get(url, headers={"Range": "bytes=0-99"}, timeout=30)
        assert part.status_code == 206 and part.content == jpeg[:100]
        assert part.headers["content-range"] == f"bytes 0-99/{len(jpeg)}"
        tail = httpx.get(url, headers={"Range": "bytes=-10"}, timeout=30)
        assert tail.status_code == 206 and tail.content == jpeg[-10:]
        assert (
            httpx.get(url, headers={"Range": f"bytes={len(jpeg)}-"}, timeout=30).status_code == 416
        )
        assert httpx.get(url, headers={"If-None-Match": etag}, timeout=30).status_code == 304
        head = httpx.head(url, timeout=30)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(jpeg)
        video = httpx.get(
            f"{viewer.url}/{media_path}", headers={"Range": "bytes=0-1023"}, timeout=30
        )
        assert video.status_code == 206 and len(video.content) == 1024
        assert video.headers["content-type"] == "video/mp4"
        assert (
            httpx.get(f"{viewer.url}/media/keyframes/{vid}/9999.jpg", timeout=30).status_code == 404
        )
        for escape in (
            "/media/../warehouse/catalog",
            "/media/%2e%2e/x",
            "/media/%2E%2E%2Fwarehouse%2Fx",
            "/media/keyframes/..%2F..%2Fwarehouse/x",
            "/media/%2Fetc%2Fpasswd",
            "/media//etc/passwd",
            "/media/.uploads/x",
            "/media/",
        ):
            status, _ = raw_get(viewer.url, escape)
            assert status in (403, 404), escape
    finally:
        stop_viewer(viewer)

    wh = Warehouse.of(b)
    assert isinstance(wh.media, BucketMedia)
    board = mb.create_board(wh, "mina", "from A", shots=[(video_id, 0), (video_id, 1)])
    view = mb.read_board(wh, board)
    path = view.items[0].keyframe_path
    assert path is not None
    shown = frame_image(wh.media, path)
    expected = Image.open(io.BytesIO(setup.s3.object(setup.bucket, f"media/{path}")))
    assert shown.tobytes() == expected.convert("RGB").tobytes(), "the keyframe, no placeholder"
    png = Image.open(io.BytesIO(board_png(view, wh.media)))
    assert png.format == "PNG" and png.width > 0
    assert board_pdf(view, wh.media).startswith(b"%PDF")

    env_b_run = media_env(setup, tmp_path / "b") | {
        "PREFECT_API_URL": prefect_api,
        "ADREF_OUTPUT_LANGUAGE": "en",
    }
    again = invoke(["reanalyze", video_id, "--text", "--refresh", "--yes"], env_b_run)
    assert again.exit_code == 0, again.output
    fetched = list((tmp_path / "b" / "cache" / "media").rglob(f"{vid}.mp4"))
    assert len(fetched) == 1, "B read the text again from the copy A kept, fetched once"
    assert fetched[0].read_bytes() == setup.s3.object(setup.bucket, f"media/{media_path}")

    deleted = delete_video(b, video_id)
    assert deleted.rows["videos"] == 1
    left = [k for k in setup.s3.keys(setup.bucket, "media/") if vid in k]
    assert left == [], "no object of the video is left in the bucket"
    assert not list((tmp_path / "b" / "cache" / "media").rglob(f"{vid}.*")), "nor its fetched copy"
    assert stored(b) == []


@pytest.fixture
def own_s3(tmp_path: Path) -> Iterator[S3Server]:
    """An S3 server of the test's own, as it is stopped (the session's serves other tests)."""
    server = S3Server.start(tmp_path / "moto.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def media_only(
    prefect_api: str, postgres: Postgres, own_s3: S3Server, tmp_path: Path
) -> tuple[ScaleSetup, dict[str, str | None]]:
    """A warehouse whose media alone are in a bucket of the test's own S3 server (which the
    test stops): its catalog on PostgreSQL, its Parquet on the home's disk."""
    bucket = f"adref-{uuid.uuid4().hex[:10]}"
    own_s3.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    secret = f"s3cret-{uuid.uuid4().hex}"
    setup = ScaleSetup(postgres, own_s3, postgres.new_database(), bucket, "warehouse/", secret)
    env = media_env(setup, tmp_path / "home") | {
        "ADREF_WAREHOUSE_DATA_PATH": None,
        "PREFECT_API_URL": prefect_api,
    }
    return setup, env


@pytest.mark.expected_error_log  # the failed run: Prefect and the flow log it
def test_the_bucket_stopped_during_the_media_write_fails_in_one_line_and_commits_nothing(
    media_only: tuple[ScaleSetup, dict[str, str | None]], own_s3: S3Server, tmp_path: Path
) -> None:
    setup, env = media_only
    bucket, secret = setup.bucket, setup.secret
    settings = settings_of(env)
    Warehouse.of(settings).init()
    clip = make_clip("ad", tmp_path / "ad.mkv", duration_s=20.0, width=640, height=360)

    # Once the run's first keyframe lands: the run is then between its keyframes and its video
    # copy (being made: the clip is not browser-playable, so it is transcoded first).
    stopper = StopWhen(
        lambda: own_s3.keys(bucket, "media/media/keyframes/"),
        own_s3.stop,
        safety_s=SAFETY_S,
        every_s=0.02,
    )
    try:
        failed: Result = invoke(["analyze", str(clip.path)], env)
    finally:
        stopper.join()
    assert stopper.stopped.is_set(), "no keyframe reached the bucket:\n" + failed.output
    assert failed.exit_code == 2, failed.output
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, failed.stderr
    (line,) = errors
    assert f"s3://{bucket}/media/" in line and "bucket" in line, line
    assert "Traceback" not in failed.output
    assert secret not in failed.output and "adref-test-key" not in failed.output
    for table in ("videos", "shots", "scene_groups", "analyses"):
        assert count(settings, table) == 0, table

    viewer = start_viewer(clean_env(tmp_path / "home", **{k: v for k, v in env.items() if v}))
    try:
        down = httpx.get(f"{viewer.url}/media/keyframes/x/0000.jpg", timeout=60)
    finally:
        stop_viewer(viewer)
    assert down.status_code == 503 and len(down.text.splitlines()) == 1, down.text
    assert secret not in down.text
    print(f"\nthe line a user sees: {line}\nthe viewer's answer: {down.text.strip()}")


def test_with_the_bucket_down_a_reanalysis_and_an_export_fail_in_one_line(
    media_only: tuple[ScaleSetup, dict[str, str | None]], own_s3: S3Server, tmp_path: Path
) -> None:
    """A stored video, then the bucket stops: no placeholder pictures, no half work."""
    setup, env = media_only
    bucket, secret = setup.bucket, setup.secret
    env = env | {"ADREF_OUTPUT_LANGUAGE": "en"}
    settings = settings_of(env)
    clip = make_clip("ad", tmp_path / "ad.mp4", duration_s=4.0, width=320, height=180)
    assert invoke(["analyze", str(clip.path)], env).exit_code == 0
    ((video_id, _),) = stored(settings)
    wh = Warehouse.of(settings)
    view = mb.read_board(wh, mb.create_board(wh, "mina", "down", shots=[(video_id, 0)]))
    transcripts_before = count(settings, "shot_texts")

    own_s3.stop()
    again = invoke(["reanalyze", video_id, "--text", "--refresh", "--yes"], env)
    assert again.exit_code == 2, again.output
    errors = [line for line in again.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"s3://{bucket}/media/" in errors[0], again.stderr
    assert "Traceback" not in again.output and secret not in again.output
    assert count(settings, "shot_texts") == transcripts_before, "the stored text is untouched"
    with pytest.raises(MediaUnreachable, match=f"s3://{bucket}/media/") as down:
        board_png(view, wh.media)
    assert "\n" not in str(down.value) and secret not in str(down.value)
    with pytest.raises(MediaUnreachable):
        board_pdf(view, wh.media)
    print(f"\nreanalyze: {errors[0]}\nexport: {down.value}")
