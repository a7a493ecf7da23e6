"""Deleting a video removes its rows from every table but ``runs``, its media and its cache."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adref.boards.delete import delete_video
from adref.errors import InputError
from adref.models import VideoMeta, safe_id
from adref.search.index import search
from adref.search.query import SearchQuery
from adref.settings import Settings
from adref.warehouse import moodboards as mb
from adref.warehouse import schema
from adref.warehouse.corrections import Edit, save_corrections
from adref.warehouse.delete import VIDEO_TABLES, delete_rows, media_names
from adref.warehouse.records import RunRecord, Sighting
from tests.board_library import build_library


def test_every_table_with_a_video_id_but_runs_is_emptied_of_it(tmp_path: Path) -> None:
    assert {t for t, cols in schema.TABLES.items() if "video_id" in cols} == {*VIDEO_TABLES, "runs"}
    wh = build_library(tmp_path / "wh")
    run = RunRecord(
        run_id="r1",
        video_id="youtube:sea",
        status="completed",
        started_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    wh.append_run(
        run,
        Sighting(
            source="https://youtu.be/sea",
            kind="url",
            meta=VideoMeta(video_id="youtube:sea", title="sea"),
        ),
    )
    save_corrections(wh, "youtube:sea", Edit(genre="vlog"), "mina")
    board = mb.create_board(wh, "mina", "B", shots=[("youtube:sea", 1), ("vimeo:city", 0)])
    video_file = wh.root / "media" / "videos" / f"{safe_id('youtube:sea')}.mp4"
    video_file.write_bytes(b"mp4")
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"keep me")

    deleted = delete_rows(wh, "youtube:sea")
    removed = wh.media.remove(media_names(deleted))
    stray = media_names(
        type(deleted)("youtube:sea", {}, ("../outside.jpg", str(outside), "media\\..\\x"), ())
    )

    assert deleted.sources == ("https://youtu.be/sea",)
    assert deleted.rows["shots"] == 4 and deleted.rows["moodboard_items"] == 1
    assert deleted.rows["corrections"] == 1 and deleted.rows["video_sources"] == 1
    with wh.connect() as con:
        for table in VIDEO_TABLES:
            left = con.execute(f"SELECT count(*) FROM {table} WHERE video_id = 'youtube:sea'")
            assert left.fetchone() == (0,), table
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM shots").fetchone() == (5,), "others stay"
    assert not video_file.exists()
    assert not (wh.root / "media" / "keyframes" / safe_id("youtube:sea")).exists()
    assert (wh.root / "media" / "keyframes" / safe_id("vimeo:city")).is_dir()
    assert f"media/videos/{safe_id('youtube:sea')}.mp4" in removed
    assert outside.read_bytes() == b"keep me" and stray == [
        f"media/keyframes/{safe_id('youtube:sea')}",
        f"media/videos/{safe_id('youtube:sea')}.mp4",
        f"media/videos/{safe_id('youtube:sea')}.webm",
    ], "only paths inside the media folder are ever named"
    assert [(i.video_id, i.position) for i in mb.read_board(wh, board).items] == [
        ("vimeo:city", 0)
    ], "a board keeps its other items, without a gap"
    with pytest.raises(InputError, match="no video youtube:sea"):
        delete_rows(wh, "youtube:sea")


def test_delete_video_removes_files_cache_and_search_entry(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", warehouse_dir=tmp_path / "wh")
    wh = build_library(settings.warehouse)
    wh.append_run(
        RunRecord(
            run_id="r2",
            video_id="vimeo:city",
            status="completed",
            started_at=datetime(2025, 1, 1, tzinfo=UTC),
        ),
        Sighting(
            source="https://example.com/v.mp4", kind="url", meta=VideoMeta(video_id="vimeo:city")
        ),
    )
    downloads = settings.cache_dir / "downloads"
    cached = [
        downloads / safe_id("vimeo:city"),
        downloads / safe_id("url:https://example.com/v.mp4"),
    ]
    for folder in cached:
        folder.mkdir(parents=True)
        (folder / "v.mp4").write_bytes(b"x")
    answers = settings.home / "answers"
    answers.mkdir(parents=True)
    (answers / f"{safe_id('vimeo:city')}-openai-20250101T000000.txt").write_text("raw")
    (answers / f"{safe_id('youtube:sea')}-openai-20250101T000000.txt").write_text("raw")
    assert {h.video_id for h in search(settings, SearchQuery()).hits} == {
        "vimeo:city",
        "youtube:sea",
    }

    done = delete_video(settings, "vimeo:city")

    assert {h.video_id for h in search(settings, SearchQuery()).hits} == {"youtube:sea"}
    assert search(settings, SearchQuery(text="City lights")).total == 0
    assert not any(folder.exists() for folder in cached)
    assert [p.name.split("-openai")[0] for p in answers.iterdir()] == [safe_id("youtube:sea")]
    assert done.rows["videos"] == 1 and len(done.files) >= 4
    with pytest.raises(InputError, match="no video vimeo:city"):
        delete_video(settings, "vimeo:city")
