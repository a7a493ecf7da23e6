"""The media stores, each case run on both: the warehouse folder and a bucket on moto's S3 server.

Names are checked before anything is touched, a write is whole or absent (a failed one leaves
the previous file or none, and nothing half-written under the name), and writing again is safe.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from adref import bucket
from adref.bench.loopback import unused_port
from adref.errors import InputError
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from adref.warehouse.media_store import (
    BucketMedia,
    LocalMedia,
    MediaStore,
    MediaUnreachable,
    is_media_path,
    media_store,
)
from tests.support.scale import REGION, S3Server, s3_server

__all__ = ["s3_server"]

SECRET = "media-store-test-secret"
ESCAPES = [
    "../x.jpg",
    "media/../x.jpg",
    "media/keyframes/../../data/x.parquet",
    "/etc/passwd",
    "/media/keyframes/a.jpg",
    "media\\keyframes\\a.jpg",
    "media/keyframes/.a.jpg.tmp",
    "media/.uploads/abc",
    "data/x.parquet",
    "media",
    "media//a.jpg",
    "media/./a.jpg",
    "",
]


def settings_for(server: S3Server, home: Path, media: str | None) -> Settings:
    return Settings(
        home=home,
        media_path=media,
        s3_endpoint=server.endpoint,
        s3_region=REGION,
        s3_access_key_id="adref-test-key",
        s3_secret_access_key=SECRET,
    )


@pytest.fixture
def new_bucket(s3_server: S3Server) -> str:
    name = f"media-{uuid.uuid4().hex[:10]}"
    s3_server.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name


@pytest.fixture(params=["local", "bucket"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_server: S3Server, new_bucket: str
) -> Iterator[MediaStore]:
    if request.param == "local":
        yield LocalMedia(tmp_path / "wh")
        return
    settings = settings_for(s3_server, tmp_path / "home", f"s3://{new_bucket}/lib")
    made = media_store(settings)
    assert isinstance(made, BucketMedia)
    made.large = 4096  # so a small test file takes the upload-then-copy path
    yield made


def visible(store: MediaStore, s3: S3Server) -> list[str]:
    """Everything the store holds, hidden names included (uploads, temporary files); not the
    empty folder markers pyarrow leaves when it deletes (``.uploads/``, ``media/videos/``)."""
    if isinstance(store, BucketMedia):
        keys = s3.keys(store.bucket, store.prefix)
        return [k.removeprefix(store.prefix) for k in keys if not k.endswith("/")]
    assert isinstance(store, LocalMedia)
    return sorted(
        p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file()
    )


@pytest.mark.parametrize("name", ESCAPES)
def test_names_escaping_the_media_prefix_are_refused_before_anything_is_touched(
    store: MediaStore, name: str, s3_server: S3Server
) -> None:
    assert not is_media_path(name)
    for call in (
        lambda: store.put_bytes(name, b"x"),
        lambda: store.info(name),
        lambda: store.read_bytes(name),
        lambda: store.remove([name]),
    ):
        with pytest.raises(InputError, match="refused media path"):
            call()
    if isinstance(store, BucketMedia):
        with pytest.raises(InputError):
            store.key(name)
    assert visible(store, s3_server) == []


def test_writes_are_idempotent_and_land_on_the_same_name(
    store: MediaStore, s3_server: S3Server
) -> None:
    name = "media/keyframes/youtube_a/0000.jpg"
    store.put_bytes(name, b"\xff\xd8one")
    first = store.info(name)
    store.put_bytes(name, b"\xff\xd8one")
    assert store.read_bytes(name) == b"\xff\xd8one"
    assert list(store.names()) == [name] and visible(store, s3_server) == [name]
    assert first is not None and store.info(name) is not None
    assert store.read_range(name, 2, 2) == b"on"
    assert store.info("media/keyframes/youtube_a/0001.jpg") is None
    with pytest.raises(FileNotFoundError):
        store.read_bytes("media/keyframes/youtube_a/0001.jpg")


def test_a_large_file_is_stored_whole_and_leaves_no_upload_behind(
    store: MediaStore, tmp_path: Path, s3_server: S3Server
) -> None:
    src = tmp_path / "clip.mp4"
    data = bytes(range(256)) * 100  # 25,600 bytes: over the test's 4,096
    src.write_bytes(data)
    name = "media/videos/sha256_x.mp4"
    store.put_file(name, src)
    store.put_file(name, src)
    assert store.read_bytes(name) == data
    assert visible(store, s3_server) == [name]
    info = store.info(name)
    assert info is not None and info.size == len(data)
    local = store.local_file(name)
    assert local.read_bytes() == data and store.local_file(name) == local


def test_a_write_that_fails_leaves_the_previous_file_and_nothing_half_written(
    store: MediaStore, tmp_path: Path, s3_server: S3Server
) -> None:
    name = "media/videos/sha256_y.mp4"
    store.put_bytes(name, b"the first copy")
    with pytest.raises(OSError):
        store.put_file(name, tmp_path)  # a folder: reading it fails once the write began
    if isinstance(store, BucketMedia):

        def chunks() -> Iterator[bytes]:
            yield b"x" * 5000
            raise OSError("the transcoder died")

        with pytest.raises(OSError, match="transcoder"):
            store.put_chunks(name, chunks())
        with pytest.raises(OSError, match="transcoder"):
            store.put_chunks("media/videos/sha256_new.mp4", chunks())
    assert store.read_bytes(name) == b"the first copy"
    assert visible(store, s3_server) == [name], "no upload, temporary or new object is left"


def _leave_unfinished_writes(store: MediaStore, s3: S3Server) -> list[str]:
    """What a process killed mid-write leaves: a hidden file beside its target and a transcode
    folder (local), an object under the hidden upload key (bucket)."""
    if isinstance(store, BucketMedia):
        key = f"{store.prefix}.uploads/{uuid.uuid4().hex}"
        s3.client().put_object(Bucket=store.bucket, Key=key, Body=b"half")  # type: ignore[attr-defined]
        return [".uploads/" + key.rsplit("/", 1)[1]]
    assert isinstance(store, LocalMedia)
    beside = store.root / "media/keyframes/youtube_a/.0001.jpg.0123abcd.tmp"
    beside.write_bytes(b"half")
    scratch = store.root / "media/.scratch-dead/copy.mp4"
    scratch.parent.mkdir(parents=True)
    scratch.write_bytes(b"half")
    return ["media/.scratch-dead/copy.mp4", "media/keyframes/youtube_a/.0001.jpg.0123abcd.tmp"]


def test_sweeping_removes_what_unfinished_writes_left_once_old_and_nothing_else(
    store: MediaStore, s3_server: S3Server
) -> None:
    name = "media/keyframes/youtube_a/0000.jpg"
    store.put_bytes(name, b"\xff\xd8kept")
    left = _leave_unfinished_writes(store, s3_server)
    assert store.sweep(3600) == 0, "a young one may be a write in progress"
    assert sorted(visible(store, s3_server)) == sorted([name, *left])
    time.sleep(1.1)  # S3 keeps times to the second
    assert store.sweep(0.5) == len(left)
    assert visible(store, s3_server) == [name]
    assert store.read_bytes(name) == b"\xff\xd8kept"


def test_removing_takes_a_video_folder_and_its_copy_and_nothing_else(
    store: MediaStore, s3_server: S3Server
) -> None:
    for i in range(3):
        store.put_bytes(f"media/keyframes/vid_a/{i:04d}.jpg", b"a")
    store.put_bytes("media/keyframes/vid_b/0000.jpg", b"b")
    store.put_bytes("media/videos/vid_a.mp4", b"v")
    removed = store.remove(
        ["media/keyframes/vid_a", "media/videos/vid_a.mp4", "media/videos/vid_a.webm"]
    )
    assert removed == ["media/keyframes/vid_a", "media/videos/vid_a.mp4"]
    assert list(store.names()) == ["media/keyframes/vid_b/0000.jpg"]
    assert store.remove(["media/keyframes/vid_a"]) == []


def test_the_setting_picks_the_store_and_must_be_a_bucket_prefix(
    tmp_path: Path, s3_server: S3Server
) -> None:
    local = media_store(Settings(home=tmp_path))
    assert isinstance(local, LocalMedia) and local.where == str(tmp_path / "warehouse" / "media")
    shared = settings_for(s3_server, tmp_path, "s3://ads/media")
    assert shared.media_path == "s3://ads/media/"
    made = media_store(shared)
    assert isinstance(made, BucketMedia) and made.where == "s3://ads/media/"
    assert made.key("media/keyframes/v/0000.jpg") == "ads/media/media/keyframes/v/0000.jpg"
    assert made.cache == tmp_path / "cache" / "media"
    assert isinstance(Warehouse.of(shared).media, BucketMedia)
    assert bucket.filesystem(shared) is bucket.filesystem(settings_for(s3_server, tmp_path, None))
    for bad in ("/srv/media", "s3://", "media/"):
        with pytest.raises(ValidationError, match="ADREF_MEDIA_PATH must be s3://bucket/prefix/"):
            Settings(home=tmp_path, media_path=bad)


def test_an_unreachable_bucket_is_one_line_without_the_keys(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        media_path="s3://nowhere/media/",
        s3_endpoint=f"http://127.0.0.1:{unused_port()}",
        s3_access_key_id="adref-test-key",
        s3_secret_access_key=SECRET,
    )
    store = media_store(settings)
    for call in (
        lambda: store.put_bytes("media/keyframes/v/0000.jpg", b"x"),
        lambda: store.info("media/keyframes/v/0000.jpg"),
    ):
        with pytest.raises(MediaUnreachable) as caught:
            call()
        line = str(caught.value)
        assert "s3://nowhere/media/" in line and "\n" not in line
        assert SECRET not in line and "adref-test-key" not in line
    with pytest.raises(MediaUnreachable, match="Nothing was committed"):
        store.put_bytes("media/videos/v.mp4", b"x")
