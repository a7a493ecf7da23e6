"""The warehouse on real DuckLake files: atomic, idempotent writes; many writers; whole reads."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from pydantic import ValidationError

from adref.analysis import Analysis, Features, GroupAnalysis
from adref.errors import WarehouseError
from adref.models import (
    Grouping,
    PaletteColor,
    SceneGroup,
    Shot,
    ShotText,
    StreamInfo,
    VideoMeta,
    analysis_id,
)
from adref.warehouse import schema
from adref.warehouse.catalog import Warehouse
from adref.warehouse.records import RunRecord, Sighting, VideoWrite

WRITERS = 5
VERSIONS = 3


def make_shot(i: int) -> Shot:
    return Shot(
        shot_index=i,
        start_s=float(i),
        end_s=i + 1.0,
        start_frame=i * 25,
        end_frame=(i + 1) * 25,
        keyframe_s=i + 0.5,
        keyframe_jpeg=b"\xff\xd8jpeg" + bytes([i]),
        palette=[
            PaletteColor(hex="#c04020", weight=0.75),
            PaletteColor(hex="#203040", weight=0.25),
        ],
        brightness=0.4,
        saturation=0.6,
        warmth=0.3,
        colourfulness=0.5,
        motion=0.1 * i,
        face_count=i % 2,
        has_text=i == 0,
        vector=unit([0.6, 0.8, 0.0, i / 10]),
    )


def unit(v: list[float]) -> list[float]:
    norm = sum(x * x for x in v) ** 0.5
    return [x / norm for x in v]


def make_write(
    video_id: str,
    shots: int = 3,
    provider: str = "local",
    title: str = "An ad",
    user_tags: list[str] | None = None,
    owner: str | None = None,
) -> VideoWrite:
    """One video with ``shots`` shots, one scene group per shot, and one group analysis each."""
    aid = analysis_id(video_id, provider, "m-1", "p1")
    groups = [
        SceneGroup(group_index=i, shot_indices=[i], start_s=i, end_s=i + 1, representative_shot=i)
        for i in range(shots)
    ]
    analysis = Analysis(
        analysis_id=aid,
        video_id=video_id,
        provider=provider,
        model="m-1",
        prompt_version="p1",
        output_language="en",
        created_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        genre="tvc",
        expression_format="live_action",
        features=Features(colour="warm reds", editing="fast"),
        mood=["bright", "playful"],
        model_tags=["car"],
        summary=f"{provider} says hello",
        tokens_in=100,
        tokens_out=20,
        cost_usd=0.001,
        groups=[GroupAnalysis(group_index=i, description=f"group {i}") for i in range(shots)],
    )
    return VideoWrite(
        meta=VideoMeta(
            video_id=video_id,
            title=title,
            upload_date=date(2024, 5, 6),
            site_tags=["ads"],
            metadata={"chapters": [1, 2]},
        ),
        content_hash="c0ffee",
        stream=StreamInfo(
            width=640,
            height=360,
            fps=25.0,
            duration_s=float(shots),
            frame_count=25 * shots,
            codec="h264",
        ),
        shots=[make_shot(i) for i in range(shots)],
        keyframe_paths={i: f"media/keyframes/x/{i:04d}.jpg" for i in range(shots)},
        texts=[
            ShotText(
                shot_index=i,
                start_s=float(i),
                text=text,
                confidence=0.9,
                box=(100, 40, 300, 60),
                language="eng" if i else "kor",
            )
            for i, text in list(enumerate(["지금 구매하세요", "SUMMER SALE 50%"]))[:shots]
        ],
        grouping=Grouping(groups=groups, analysis_groups=[0], granularity=5, short_form=shots < 10),
        analysis=analysis,
        user_tags=user_tags or [],
        owner=owner,
    )


def counts(wh: Warehouse, video_id: str | None = None) -> dict[str, int]:
    where = "" if video_id is None else f" WHERE video_id = '{video_id}'"
    with wh.connect() as con:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}{where}").fetchall()[0][0]
            for t in ("videos", "shots", "scene_groups", "analyses", "group_analyses")
        }


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path / "wh")
    warehouse.init()
    return warehouse


def test_init_creates_every_table_and_is_idempotent(wh: Warehouse) -> None:
    with wh.connect() as con:
        snapshots = con.execute("SELECT count(*) FROM ducklake_snapshots('adref')").fetchall()
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    identity = wh.identity()
    wh.init()
    Warehouse(wh.root).init()
    assert tables == set(schema.TABLES)
    assert wh.identity() == identity and len(identity) == 32
    with wh.connect() as con:
        assert (
            con.execute("SELECT count(*) FROM ducklake_snapshots('adref')").fetchall() == snapshots
        )
        for table, columns in schema.TABLES.items():
            described = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            assert described == list(columns), table
    assert (wh.root / "data").is_dir() and (wh.root / "media" / "keyframes").is_dir()


def _init(root: str) -> str:
    wh = Warehouse(Path(root))
    wh.init()
    return wh.identity()


@pytest.mark.slow  # five spawned writer processes
def test_five_processes_initialising_at_once_make_one_warehouse(tmp_path: Path) -> None:
    root = str(tmp_path / "wh")
    with multiprocessing.get_context("spawn").Pool(WRITERS) as pool:
        identities = pool.map(_init, [root] * WRITERS)
    assert len(set(identities)) == 1
    with Warehouse(Path(root)).connect() as con:
        assert {r[0] for r in con.execute("SHOW TABLES").fetchall()} == set(schema.TABLES)
    assert not list(Path(root).glob(".catalog-*"))


def test_rewriting_a_video_replaces_its_rows(wh: Warehouse) -> None:
    wh.write_video(make_write("youtube:a1", shots=3))
    wh.write_video(make_write("youtube:b2", shots=2))
    wh.write_video(make_write("youtube:a1", shots=4, title="Second cut"))
    wh.write_video(make_write("youtube:a1", shots=4, title="Second cut"))
    assert counts(wh, "youtube:a1") == {
        "videos": 1,
        "shots": 4,
        "scene_groups": 4,
        "analyses": 1,
        "group_analyses": 4,
    }
    assert counts(wh, "youtube:b2")["shots"] == 2
    with wh.connect() as con:
        assert con.execute(
            "SELECT title, shot_count FROM videos WHERE video_id = 'youtube:a1'"
        ).fetchall() == [("An ad", 4)], "the rows are new, the title is the first source's"


def test_a_videos_screen_text_is_replaced_with_its_other_rows(wh: Warehouse) -> None:
    wh.write_video(make_write("youtube:t1", shots=2))
    wh.write_video(make_write("youtube:t2", shots=2))
    wh.write_video(make_write("youtube:t1", shots=1))
    wh.write_video(make_write("youtube:t1", shots=1))
    with wh.connect() as con:
        rows = con.execute(
            "SELECT video_id, shot_index, text, confidence, box, language FROM shot_texts "
            "ORDER BY video_id, shot_index"
        ).fetchall()
    assert rows == [
        ("youtube:t1", 0, "지금 구매하세요", 0.9, [100, 40, 300, 60], "kor"),
        ("youtube:t2", 0, "지금 구매하세요", 0.9, [100, 40, 300, 60], "kor"),
        ("youtube:t2", 1, "SUMMER SALE 50%", 0.9, [100, 40, 300, 60], "eng"),
    ]


def test_text_of_a_shot_that_does_not_exist_is_refused() -> None:
    good = make_write("youtube:t3", shots=1)
    stray = good.texts[0].model_copy(update={"shot_index": 5})
    with pytest.raises(ValueError, match="texts name shots that do not exist"):
        VideoWrite(**{**dict(good), "texts": [stray]})


def test_a_warehouse_made_before_shot_texts_gets_the_table(tmp_path: Path) -> None:
    root = tmp_path / "old"
    wh = Warehouse(root)
    wh.init()
    with wh.connect(read_only=False, fresh=True) as con:
        con.execute("DROP TABLE shot_texts")
        con.execute("ALTER TABLE runs DROP COLUMN text_s")
    wh._set_meta("schema", "made-by-an-older-adref")
    Warehouse(root).init()
    wh.write_video(make_write("youtube:old", shots=2))
    with wh.connect() as con:
        assert con.execute("SELECT count(*) FROM shot_texts").fetchone() == (2,)
        assert con.execute("SELECT count(text_s) FROM runs").fetchone() == (0,)


def test_another_providers_analysis_sits_beside_the_first(wh: Warehouse) -> None:
    wh.write_video(make_write("vimeo:7", provider="local"))
    wh.write_video(make_write("vimeo:7", provider="openai"))
    wh.write_video(make_write("vimeo:7", provider="openai"))
    assert counts(wh) == {
        "videos": 1,
        "shots": 3,
        "scene_groups": 3,
        "analyses": 2,
        "group_analyses": 6,
    }
    with wh.connect() as con:
        rows = con.execute("SELECT provider, summary FROM analyses ORDER BY provider").fetchall()
    assert rows == [("local", "local says hello"), ("openai", "openai says hello")]
    assert wh.has_video("vimeo:7", analysis_id("vimeo:7", "openai", "m-1", "p1"))
    assert not wh.has_video("vimeo:7", analysis_id("vimeo:7", "gemini", "m-1", "p1"))
    assert not wh.has_video("vimeo:8", analysis_id("vimeo:7", "local", "m-1", "p1"))


def test_rows_read_back_by_bare_table_names_with_their_types(wh: Warehouse) -> None:
    wh.write_video(make_write("youtube:c3", shots=2, user_tags=["pick"], owner="mina"))
    with wh.connect() as con:
        shot = con.execute(
            "SELECT palette, vector, keyframe_path, has_text, duration_s FROM shots "
            "WHERE shot_index = 0"
        ).fetchone()
        video = con.execute(
            "SELECT aspect, upload_date, site_tags, user_tags, owner, metadata->>'$.chapters[1]', "
            "ingested_at, typeof(ingested_at), shot_count, short_form FROM videos"
        ).fetchone()
        analysis = con.execute(
            "SELECT mood, features->>'colour', created_at, cost_usd FROM analyses"
        ).fetchone()
        group = con.execute(
            "SELECT shot_indices, keyframe_path, analysed FROM scene_groups ORDER BY group_index"
        ).fetchall()
    assert shot is not None and video is not None and analysis is not None
    assert shot[0] == [{"hex": "#c04020", "weight": 0.75}, {"hex": "#203040", "weight": 0.25}]
    assert shot[1] == pytest.approx([0.6, 0.8, 0.0, 0.0])
    assert shot[2:] == ("media/keyframes/x/0000.jpg", True, 1.0)
    assert video[0] == pytest.approx(640 / 360)
    assert video[1:6] == (date(2024, 5, 6), ["ads"], ["pick"], "mina", "2")
    assert video[6].utcoffset() is not None and video[7] == "TIMESTAMP WITH TIME ZONE"
    assert video[8:] == (2, True)
    assert analysis[:2] == (["bright", "playful"], "warm reds")
    assert analysis[2] == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert group == [
        ([0], "media/keyframes/x/0000.jpg", True),
        ([1], "media/keyframes/x/0001.jpg", False),
    ]


def test_a_rerun_keeps_what_people_added(wh: Warehouse) -> None:
    wh.write_video(make_write("youtube:d4", user_tags=["hero"], owner="jin"))
    with wh.connect() as con:
        first = con.execute("SELECT ingested_at FROM videos").fetchall()
    wh.write_video(make_write("youtube:d4", user_tags=["summer"]))
    with wh.connect() as con:
        row = con.execute("SELECT ingested_at, updated_at, user_tags, owner FROM videos").fetchall()
    assert row[0][0] == first[0][0] and row[0][1] > row[0][0]
    assert row[0][2:] == (["hero", "summer"], "jin")


def test_runs_are_appended_once_per_run_id(wh: Warehouse) -> None:
    started = datetime(2025, 3, 1, 9, 0, 0)  # naive: taken as UTC
    for run_id in ("r1", "r2", "r1"):
        wh.append_run(
            RunRecord(run_id=run_id, status="completed", started_at=started, total_s=1.5, tasks=5)
        )
    with wh.connect() as con:
        rows = con.execute("SELECT run_id, started_at, tasks FROM runs ORDER BY run_id").fetchall()
    assert rows == [
        ("r1", datetime(2025, 3, 1, 9, tzinfo=UTC), 5),
        ("r2", datetime(2025, 3, 1, 9, tzinfo=UTC), 5),
    ]


def test_each_source_of_a_video_is_one_row_and_fills_only_what_the_first_left_empty(
    wh: Warehouse,
) -> None:
    vid = "sha256:5eed"
    file = make_write(vid, title="Teaser final")
    wh.write_video(file)
    url_meta = VideoMeta(
        video_id=vid,
        source_url="https://cdn.example/launch.mp4?token=REDACTED",
        webpage_url="https://cdn.example/launch.mp4",
        title="Launch teaser",
        description="Spring launch",
        uploader="Brand",
        extractor="generic",
        metadata={"ext": "mp4"},
    )
    seen = [
        ("r1", Sighting(source="/clips/Teaser final.mp4", kind="file", meta=file.meta), 1),
        ("r2", Sighting(source=str(url_meta.source_url), kind="url", meta=url_meta), 2),
        ("r2", Sighting(source=str(url_meta.source_url), kind="url", meta=url_meta), 2),
        ("r3", Sighting(source=str(url_meta.source_url), kind="url", meta=url_meta), 3),
    ]
    for run_id, sighting, hour in seen:
        at = datetime(2025, 3, 1, hour, tzinfo=UTC)
        record = RunRecord(run_id=run_id, status="completed", started_at=at, finished_at=at)
        wh.append_run(record, sighting)
    with wh.connect() as con:
        sources = con.execute(
            "SELECT source, kind, title, description, hour(first_seen_at), hour(last_seen_at), "
            "seen_count FROM video_sources ORDER BY first_seen_at"
        ).fetchall()
        video = con.execute(
            "SELECT title, source_url, webpage_url, description, uploader, extractor, "
            "upload_date, metadata->>'$.ext', metadata->>'$.chapters[1]' FROM videos"
        ).fetchall()
    assert sources == [
        ("/clips/Teaser final.mp4", "file", "Teaser final", None, 1, 1, 1),
        (url_meta.source_url, "url", "Launch teaser", "Spring launch", 2, 3, 2),
    ]
    assert video == [
        (
            "Teaser final",
            url_meta.source_url,
            url_meta.webpage_url,
            "Spring launch",
            "Brand",
            "generic",
            date(2024, 5, 6),
            "mp4",
            "2",
        )
    ]
    wh.write_video(file.model_copy(update={"meta": url_meta.model_copy(update={"title": "New"})}))
    with wh.connect() as con:
        assert con.execute("SELECT title, description FROM videos").fetchall() == [
            ("Teaser final", "Spring launch")
        ], "a re-write keeps the video as first stored"


def test_a_transaction_that_fails_half_way_leaves_nothing(wh: Warehouse) -> None:
    def board(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("INSERT INTO moodboards (id, name) VALUES ('b1', 'Summer')")
        con.execute("INSERT INTO moodboard_items (moodboard_id, video_id) VALUES ('b1', 'v')")

    def half(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("INSERT INTO moodboards (id, name) VALUES ('b2', 'Winter')")
        raise RuntimeError("the viewer crashed")

    def bad_sql(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("INSERT INTO moodboards (id, name) VALUES ('b3', 'Autumn')")
        con.execute("INSERT INTO moodboards (nope) VALUES (1)")

    wh.transaction(board, "new board")
    with pytest.raises(RuntimeError):
        wh.transaction(half, "half a board")
    with pytest.raises(WarehouseError, match="nope"):
        wh.transaction(bad_sql, "bad board")
    with wh.connect() as con:
        assert con.execute("SELECT id, name FROM moodboards").fetchall() == [("b1", "Summer")]
        assert con.execute("SELECT count(*) FROM moodboard_items").fetchall() == [(1,)]
        messages = con.execute(
            "SELECT commit_message FROM ducklake_snapshots('adref') ORDER BY snapshot_id DESC"
        ).fetchall()
    assert messages[0] == ("new board",)


def test_read_only_connections_refuse_writes(wh: Warehouse) -> None:
    with wh.connect() as con, pytest.raises(duckdb.Error, match="read-only"):
        con.execute("DELETE FROM videos")


def test_the_attach_line_opens_the_warehouse_from_anywhere(wh: Warehouse, tmp_path: Path) -> None:
    wh.write_video(make_write("youtube:e5", shots=2))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import duckdb, sys; con = duckdb.connect(); con.execute(sys.argv[1]); "
        "print(con.execute('SELECT count(*) FROM shots').fetchall()[0][0]); "
        "con.execute(\"INSERT INTO runs (run_id) VALUES ('x')\")"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, wh.attach_line()],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip() == "2"
    assert "read-only" in done.stderr
    assert "\n" not in wh.attach_line()


def test_a_moved_warehouse_still_opens(wh: Warehouse, tmp_path: Path) -> None:
    wh.write_video(make_write("youtube:f6", shots=2))
    moved = tmp_path / "moved"
    shutil.copytree(wh.root, moved)
    shutil.rmtree(wh.root)
    assert counts(Warehouse(moved))["shots"] == 2


def test_a_recreated_warehouse_has_a_new_identity(wh: Warehouse) -> None:
    wh.write_video(make_write("youtube:g7"))
    aid = analysis_id("youtube:g7", "local", "m-1", "p1")
    first = wh.identity()
    assert wh.has_video("youtube:g7", aid)
    shutil.rmtree(wh.root)
    assert not wh.has_video("youtube:g7", aid)
    with pytest.raises(WarehouseError, match="no warehouse"):
        wh.identity()
    wh.init()
    assert wh.identity() != first
    assert not wh.has_video("youtube:g7", aid)


def test_compaction_keeps_every_row_in_fewer_files(wh: Warehouse) -> None:
    for n in (2, 3, 4):
        wh.write_video(make_write("youtube:h8", shots=n))
    wh.write_video(make_write("youtube:i9", shots=2))
    before, after = wh.compact(older_than_days=0)
    assert after < before
    assert counts(wh) == {
        "videos": 2,
        "shots": 6,
        "scene_groups": 6,
        "analyses": 2,
        "group_analyses": 6,
    }


KILLED_WRITER = """
import os, sys
from pathlib import Path
from adref.warehouse.catalog import Warehouse
con = Warehouse(Path(sys.argv[1])).connect(read_only=False)
con.execute("BEGIN TRANSACTION")
con.execute("INSERT INTO runs (run_id, status, started_at) VALUES ('killed', 'running', now())")
con.execute("INSERT INTO videos (video_id, title) VALUES ('site:killed', 'never committed')")
os._exit(0)  # as SIGKILL would: no rollback, no commit
"""


def test_compaction_removes_what_a_killed_writer_left_once_it_is_a_day_old(
    wh: Warehouse,
) -> None:
    wh.write_video(make_write("youtube:k1", shots=2))
    data = Path(wh.location.data_path)
    kept = set(data.rglob("*.parquet"))
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(wh.root)], check=True)
    left = set(data.rglob("*.parquet")) - kept
    assert left, "the killed writer wrote Parquet files before it died"
    half_keyframe = wh.root / "media/keyframes/youtube_k1/.0000.jpg.0123abcd.tmp"
    half_keyframe.parent.mkdir(parents=True, exist_ok=True)
    half_keyframe.write_bytes(b"half")
    left.add(half_keyframe)
    wh.compact(older_than_days=0)
    assert all(path.exists() for path in left), "a young file may be a commit in flight"
    for path in left:
        os.utime(path, (path.stat().st_atime - 2 * 86400, path.stat().st_mtime - 2 * 86400))
    wh.compact(older_than_days=0)
    assert not left & set(data.rglob("*.parquet"))
    assert not half_keyframe.exists()
    assert counts(wh) == {
        "videos": 1,
        "shots": 2,
        "scene_groups": 2,
        "analyses": 1,
        "group_analyses": 2,
    }


def test_inconsistent_writes_are_refused_before_they_reach_a_table() -> None:
    good = make_write("youtube:j1")
    with pytest.raises(ValidationError, match="analysis is of"):
        VideoWrite(**{**dict(good), "analysis": make_write("youtube:other").analysis})
    with pytest.raises(ValidationError, match="relative"):
        VideoWrite(**{**dict(good), "keyframe_paths": {0: "/abs/0000.jpg"}})
    with pytest.raises(ValidationError, match="do not exist"):
        VideoWrite(**{**dict(good), "keyframe_paths": {9: "media/k/0009.jpg"}})


def test_every_model_field_has_a_column() -> None:
    assert set(Shot.model_fields) - {"keyframe_jpeg"} <= set(schema.TABLES["shots"])
    assert set(Analysis.model_fields) - {"groups"} <= set(schema.TABLES["analyses"])
    assert set(GroupAnalysis.model_fields) <= set(schema.TABLES["group_analyses"])
    assert set(VideoMeta.model_fields) <= set(schema.TABLES["videos"])
    assert set(StreamInfo.model_fields) <= set(schema.TABLES["videos"])
    assert set(SceneGroup.model_fields) <= set(schema.TABLES["scene_groups"])
    assert set(ShotText.model_fields) | {"video_id"} == set(schema.TABLES["shot_texts"])
    assert set(RunRecord.model_fields) == set(schema.TABLES["runs"])


def _writer(root: str, writer: int, versions: int, local_lock: bool) -> None:
    wh = Warehouse(Path(root), local_lock=local_lock)
    for version in range(versions):
        video_id = f"site:w{writer}"
        wh.write_video(make_write(video_id, shots=2 + version))
        wh.append_run(
            RunRecord(
                run_id=f"{writer}-{version}",
                video_id=video_id,
                status="completed",
                started_at=datetime.now(UTC),
            ),
            Sighting(source="https://cdn.example/shared.mp4", kind="url", meta=SHARED),
        )


SHARED = VideoMeta(video_id="site:shared", title="Shared")


READER = """
import duckdb, json, os, sys, time
con = duckdb.connect()
con.execute(sys.argv[1])
stop = sys.argv[2]
while True:
    last = os.path.exists(stop)
    rows = con.execute(
        "SELECT v.video_id, v.shot_count,"
        " (SELECT count(*) FROM shots s WHERE s.video_id = v.video_id),"
        " (SELECT count(*) FROM scene_groups g WHERE g.video_id = v.video_id),"
        " (SELECT count(*) FROM group_analyses a WHERE a.video_id = v.video_id),"
        " (SELECT count(*) FROM analyses a WHERE a.video_id = v.video_id)"
        " FROM videos v"
    ).fetchall()
    print(json.dumps(rows), flush=True)
    if last:
        break
    time.sleep(0.05)
"""


@pytest.mark.slow  # writer processes at once
@pytest.mark.parametrize(
    ("writers", "versions", "local_lock"),
    [(WRITERS, VERSIONS, True), (3, 2, False)],
    ids=["queued", "optimistic"],
)
def test_writer_processes_lose_nothing_and_readers_see_whole_videos(
    wh: Warehouse, tmp_path: Path, writers: int, versions: int, local_lock: bool
) -> None:
    """Processes re-write their own video at once; a reader elsewhere watches throughout.

    ``optimistic`` turns the same-machine write queue off, so every commit races the others as
    writers on different machines would, and only the retry on conflict keeps the rows right.
    """
    elsewhere = tmp_path / "reader-cwd"
    elsewhere.mkdir()
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, wh.attach_line(), str(stop)],
        cwd=elsewhere,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ctx = multiprocessing.get_context("spawn")
        procs = [
            ctx.Process(target=_writer, args=(str(wh.root), i, versions, local_lock))
            for i in range(writers)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=240)
        assert [p.exitcode for p in procs] == [0] * writers
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    looks = [json.loads(line) for line in out.splitlines()]
    assert len(looks) >= 2
    for look in looks:
        for video_id, expected, shots, groups, group_analyses, analyses in look:
            assert (shots, groups, group_analyses, analyses) == (expected, expected, expected, 1), (
                video_id
            )
    final = {row[0]: row[1] for row in looks[-1]}
    assert final == {f"site:w{i}": 2 + versions - 1 for i in range(writers)}
    shots = writers * (1 + versions)
    assert counts(wh) == {
        "videos": writers,
        "shots": shots,
        "scene_groups": shots,
        "analyses": writers,
        "group_analyses": shots,
    }
    with wh.connect() as con:
        assert con.execute("SELECT count(DISTINCT run_id), count(*) FROM runs").fetchall() == [
            (writers * versions, writers * versions)
        ]
        assert con.execute("SELECT seen_count FROM video_sources").fetchall() == [
            (writers * versions,)
        ], "every writer's sighting of one source counted, in one row"


def test_a_writer_stuck_holding_the_local_queue_cannot_stop_others(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    from adref.warehouse import write

    monkeypatch.setattr(write, "LOCK_WAIT_S", 0.2)
    with open(wh.write_lock_path, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        wh.write_video(make_write("youtube:k1"))
    assert counts(wh, "youtube:k1")["shots"] == 3


def test_a_new_video_skips_the_deletes_and_a_deleted_one_comes_back_whole(tmp_path: Path) -> None:
    """A video with no ``videos`` row is inserted without deleting first (``write_video``): it
    holds only because a write or a delete covers all of a video's tables at once."""
    from adref.warehouse.delete import delete_rows

    wh = Warehouse(tmp_path / "wh")
    wh.write_video(make_write("site:back", shots=4))
    wh.write_video(make_write("site:back", shots=3))  # stored: replaced, not doubled
    delete_rows(wh, "site:back")
    wh.write_video(make_write("site:back", shots=2))  # new again: inserted alone
    with contextlib.closing(wh.connect()) as con:
        for table, key in (
            ("videos", 1),
            ("shots", 2),
            ("scene_groups", 2),
            ("analyses", 1),
            ("group_analyses", 2),
        ):
            got = con.execute(f"SELECT count(*) FROM {table} WHERE video_id = 'site:back'")
            assert got.fetchone() == (key,), table
