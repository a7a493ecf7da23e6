"""Keyframes and playable copies: safe names, whole files, one copy per video, real ffmpeg."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import av
import imageio_ffmpeg
import pytest

from adref.errors import InputError
from adref.models import PaletteColor, Shot, safe_id
from adref.warehouse.media import store_keyframes, store_video
from adref.warehouse.media_store import LocalMedia


def shot(i: int, jpeg: bytes) -> Shot:
    return Shot(
        shot_index=i, start_s=i, end_s=i + 1, start_frame=i, end_frame=i + 1, keyframe_s=i,
        keyframe_jpeg=jpeg, palette=[PaletteColor(hex="#000000", weight=1.0)], brightness=0,
        saturation=0, warmth=0, colourfulness=0, motion=0, vector=[1.0],
    )  # fmt: skip


def make_clip(path: Path, *codec_args: str) -> Path:
    """One second of test pattern with a tone, 160x90: enough for a container to be real."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10:duration=1",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
            *codec_args, "-shortest", str(path),
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return path


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


def test_safe_ids_are_file_names_and_never_collide() -> None:
    ids = ["youtube:a/b", "youtube:a_b", "youtube_a_b", "sha256:" + "f" * 64, "../../etc", ":"]
    names = [safe_id(i) for i in ids]
    assert len(set(names)) == len(ids)
    assert all(n == os.path.basename(n) and "/" not in n and ":" not in n for n in names)
    assert all(not n.startswith(".") and len(n) <= 70 for n in names)
    assert safe_id("youtube:a/b") == safe_id("youtube:a/b")
    assert names[0].startswith("youtube_a_b-")


def test_keyframes_are_written_whole_and_idempotently(tmp_path: Path) -> None:
    shots = [shot(0, b"\xff\xd8zero"), shot(1, b""), shot(12, b"\xff\xd8twelve")]
    paths = store_keyframes(LocalMedia(tmp_path), "youtube:x/1", shots)
    folder = tmp_path / "media" / "keyframes" / safe_id("youtube:x/1")
    assert paths == {
        0: f"media/keyframes/{safe_id('youtube:x/1')}/0000.jpg",
        12: f"media/keyframes/{safe_id('youtube:x/1')}/0012.jpg",
    }
    assert (tmp_path / paths[12]).read_bytes() == b"\xff\xd8twelve"
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert store_keyframes(LocalMedia(tmp_path), "youtube:x/1", shots) == paths
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    shots[0] = shot(0, b"\xff\xd8new")
    store_keyframes(LocalMedia(tmp_path), "youtube:x/1", shots)
    assert (tmp_path / paths[0]).read_bytes() == b"\xff\xd8new"
    assert sorted(p.name for p in folder.iterdir()) == ["0000.jpg", "0012.jpg"]


def test_a_playable_mp4_is_kept_as_it_is(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "in.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    root = tmp_path / "wh"
    rel = store_video(LocalMedia(root), "sha256:abc", src, "h264")
    assert rel == f"media/videos/{safe_id('sha256:abc')}.mp4"
    assert (root / rel).read_bytes() == src.read_bytes()
    assert store_video(LocalMedia(root), "sha256:abc", src, "h264") == rel
    assert no_temp_files(root)


def test_a_users_file_is_copied_and_only_adrefs_own_is_linked(tmp_path: Path) -> None:
    """A file of the user's may be rewritten in place (an export over the same name): a link
    would change the stored copy with it, under an id that says it is the old video."""
    src = make_clip(tmp_path / "in.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    kept = src.read_bytes()
    root = tmp_path / "wh"
    rel = store_video(LocalMedia(root), "sha256:mine", src, "h264")
    assert (root / rel).stat().st_ino != src.stat().st_ino and src.stat().st_nlink == 1
    with src.open("r+b") as f:  # rewritten in place, same inode
        f.write(b"\0" * 64)
    assert (root / rel).read_bytes() == kept

    download = tmp_path / "download.mp4"
    download.write_bytes(kept)
    linked = store_video(LocalMedia(root), "sha256:fetched", download, "h264", owned=True)
    assert (root / linked).stat().st_ino == download.stat().st_ino


def test_a_webm_with_vp9_is_kept_as_webm(tmp_path: Path) -> None:
    src = make_clip(
        tmp_path / "in.webm",
        *("-c:v", "libvpx-vp9", "-deadline", "realtime", "-pix_fmt", "yuv420p", "-c:a", "libopus"),
    )
    rel = store_video(LocalMedia(tmp_path / "wh"), "vimeo:9", src, "vp9")
    assert rel.endswith(".webm")
    assert (tmp_path / "wh" / rel).read_bytes() == src.read_bytes()


def test_h264_in_a_pixel_format_browsers_cannot_show_is_transcoded(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "in.mp4", "-c:v", "libx264", "-pix_fmt", "yuv444p", "-c:a", "aac")
    rel = store_video(LocalMedia(tmp_path / "wh"), "sha256:444", src, "h264")
    with av.open(str(tmp_path / "wh" / rel)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"


def test_other_codecs_are_transcoded_to_streamable_h264(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "in.avi", "-c:v", "mpeg4", "-c:a", "mp3")
    root = tmp_path / "wh"
    rel = store_video(LocalMedia(root), "generic:in.avi", src, "mpeg4")
    out = root / rel
    assert rel.endswith(".mp4")
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart: index before media
    stamp = out.stat().st_mtime_ns
    assert store_video(LocalMedia(root), "generic:in.avi", src, "mpeg4") == rel
    assert out.stat().st_mtime_ns == stamp
    assert no_temp_files(root)


def test_an_unreadable_video_fails_clearly_and_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"not a video at all" * 100)
    root = tmp_path / "wh"
    with pytest.raises(InputError, match=r"browser-playable copy of bad\.avi"):
        store_video(LocalMedia(root), "sha256:bad", bad, "mpeg4")
    fake_mp4 = tmp_path / "fake.mp4"
    fake_mp4.write_bytes(b"garbage" * 100)
    with pytest.raises(InputError, match=r"cannot read fake\.mp4"):
        store_video(LocalMedia(root), "sha256:fake", fake_mp4, "h264")
    assert [p for p in root.rglob("*") if p.is_file()] == []
