"""What reads media reads it from the bucket when ADREF_MEDIA_PATH is set: a re-analysis's
keyframes and kept copy (downloaded to ADREF_HOME/cache/media/), a video's zip, Notion's
pictures, persist's cache key, and ``adref warehouse migrate``'s upload of local media.

The catalog stays the embedded SQLite one (fast); the bucket is moto's S3 server (the two-home
test on PostgreSQL is tests/test_scale_media.py).
"""

from __future__ import annotations

import io
import shutil
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from adref.boards.download import video_zip
from adref.doctor.storage import media_checks
from adref.errors import InputError
from adref.grouping import is_short_form
from adref.models import safe_id
from adref.notion.client import NotionAPI
from adref.notion.config import notion_config
from adref.notion.pages import Picture, picture_bytes
from adref.notion.push import Publisher
from adref.settings import Settings
from adref.sources.probe import probe_video
from adref.tasks.persist import _key as persist_key
from adref.warehouse.catalog import Warehouse
from adref.warehouse.location import Location
from adref.warehouse.media import store_keyframes, store_video
from adref.warehouse.media_store import BucketMedia, LocalMedia, MediaUnreachable, media_store
from adref.warehouse.migrate import copy_media, migrate
from adref.warehouse.reanalysis import load_request, media_copy
from tests.board_library import build_library
from tests.support.fake_notion import FakeNotion
from tests.support.scale import REGION, S3Server, s3_server
from tests.test_warehouse import make_write
from tests.test_warehouse_media import make_clip

__all__ = ["s3_server"]
NOTION_TOKEN = "secret_NOTIONtok3n-media"


def bucket_settings(s3: S3Server, home: Path, bucket: str, endpoint: str | None = None) -> Settings:
    return Settings(
        home=home,
        media_path=f"s3://{bucket}/media/",
        s3_endpoint=endpoint or s3.endpoint,
        s3_region=REGION,
        s3_access_key_id="adref-test-key",
        s3_secret_access_key="adref-test-secret",
    )


@pytest.fixture
def settings(s3_server: S3Server, tmp_path: Path) -> Settings:
    bucket = f"readers-{uuid.uuid4().hex[:10]}"
    s3_server.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    return bucket_settings(s3_server, tmp_path / "home", bucket)


def stored_with_media(wh: Warehouse, video_id: str, clip: Path) -> None:
    w = make_write(video_id, shots=3)
    w = w.model_copy(
        update={
            "keyframe_paths": store_keyframes(wh.media, video_id, w.shots),
            "media_path": store_video(wh.media, video_id, clip, "h264"),
        }
    )
    wh.write_video(w)


def test_a_reanalysis_reads_keyframes_and_the_kept_copy_from_the_bucket(
    settings: Settings, tmp_path: Path
) -> None:
    wh = Warehouse.of(settings)
    assert isinstance(wh.media, BucketMedia)
    clip = make_clip(tmp_path / "in.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    stored_with_media(wh, "youtube:r1", clip)
    assert not (settings.warehouse / "media").exists(), "nothing on this machine's disk"

    request = load_request(
        wh, "youtube:r1", probe=probe_video, short_form=is_short_form, output_language="en"
    )
    assert [s.keyframe_jpeg for s in request.shots] == [
        s.keyframe_jpeg for s in make_write("youtube:r1", shots=3).shots
    ]
    kept = media_copy(wh, "youtube:r1")
    assert kept.path.is_relative_to(settings.cache_dir / "media")
    assert kept.path.read_bytes() == clip.read_bytes()
    assert media_copy(wh, "youtube:r1").path == kept.path, "downloaded once"

    with zipfile.ZipFile(io.BytesIO(video_zip(wh, "youtube:r1"))) as z:
        assert len([n for n in z.namelist() if n.startswith("keyframes/")]) == 3
    path = f"media/keyframes/{safe_id('youtube:r1')}/0000.jpg"
    assert picture_bytes(wh.media, Picture(path)) == wh.media.read_bytes(path)
    assert picture_bytes(wh.media, Picture("media/../catalog.sqlite")) is None

    wh.media.remove([f"media/videos/{safe_id('youtube:r1')}.mp4"])
    with pytest.raises(InputError, match="no kept copy of youtube:r1"):
        media_copy(Warehouse.of(settings), "youtube:r1")


def test_the_persist_key_tells_local_media_from_the_bucket(
    settings: Settings, tmp_path: Path
) -> None:
    local = Settings(home=settings.home)
    assert isinstance(media_store(local), LocalMedia)
    same = {
        "video": SimpleNamespace(content_hash="sha256:x"),
        "analysis": SimpleNamespace(analysis_id="a1"),
        "grouping": SimpleNamespace(key="g"),
        "texts": SimpleNamespace(key="t"),
        "speech": SimpleNamespace(key="s", status="done"),
        "owner": None,
        "tags": [],
    }
    keys = {persist_key(None, same | {"settings": s}) for s in (local, settings, local)}
    assert len(keys) == 2, "a cached persist for local media is not one for the bucket's"


def test_migrate_uploads_local_media_before_the_rows_and_only_once(
    settings: Settings, s3_server: S3Server, tmp_path: Path
) -> None:
    source = Warehouse(tmp_path / "local")
    clip = make_clip(tmp_path / "in.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    stored_with_media(source, "youtube:m1", clip)
    names = list(source.media.names())
    assert len(names) == 4

    other = tmp_path / "other"
    other.mkdir()
    location = Location(catalog=f"sqlite:{other / 'catalog.sqlite'}", data_path=f"{other}/data/")
    down = bucket_settings(s3_server, tmp_path / "home", "nowhere", "http://127.0.0.1:9")
    unreachable = Warehouse(other, location=location, media=media_store(down))
    with pytest.raises(MediaUnreachable, match="media in the bucket s3://nowhere/media/"):
        migrate(source, unreachable)
    with Warehouse(other, location=location).connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM videos").fetchone() == (0,), "no row before media"

    target = Warehouse(other, location=location, media=media_store(settings))
    m = migrate(source, target)
    assert m.ok and m.media is not None
    assert (m.media.files, m.media.copied) == (4, 4)
    assert sorted(target.media.names()) == names
    assert all(target.media.read_bytes(n) == source.media.read_bytes(n) for n in names)
    again = migrate(source, target)
    assert again.already_done and again.media is not None and again.media.copied == 0


def test_doctor_asks_the_media_bucket_and_says_when_it_does_not_answer(
    settings: Settings, s3_server: S3Server, tmp_path: Path
) -> None:
    (check,) = media_checks(Warehouse.of(settings))
    assert check.status == "ok" and settings.media_path in check.detail
    down = bucket_settings(s3_server, tmp_path / "home", "nowhere", "http://127.0.0.1:9")
    (check,) = media_checks(Warehouse.of(down))
    assert check.status == "error" and "s3://nowhere/media/" in check.detail
    assert "adref-test-secret" not in check.detail
    assert media_checks(Warehouse.of(Settings(home=tmp_path))) == []


def test_notion_uploads_keyframes_read_from_the_bucket(settings: Settings, tmp_path: Path) -> None:
    local = build_library(settings.warehouse)
    with FakeNotion(token=NOTION_TOKEN) as notion:
        shared = settings.model_copy(
            update={
                "output_language": "en",
                "notion_api_key": SecretStr(NOTION_TOKEN),
                "notion_database_id": notion.state.database_id,
                "notion_base_url": notion.base_url,
                "notion_requests_per_s": 50,
            }
        )
        wh = Warehouse.of(shared)
        copied = copy_media(local, wh)
        assert copied is not None and copied.copied > 0
        shutil.rmtree(settings.warehouse / "media")  # only the bucket holds them now
        config = notion_config(shared)
        assert config is not None
        api = NotionAPI(NOTION_TOKEN, shared.notion_base_url, requests_per_s=1000, retries=0)
        with Publisher(shared, config, api) as p:
            pushed = p.video("youtube:sea")
        kinds = [b["type"] for b in notion.page_blocks(pushed.page_id)]
        assert kinds.count("image") == 4 and "(keyframe missing)" not in str(
            notion.page_blocks(pushed.page_id)
        )
        assert len(notion.state.uploads) == 4 and notion.problems == []
