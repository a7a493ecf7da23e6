"""Small warehouses for the search tests, built through the warehouse's own write functions."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from adref.analysis import Analysis, GroupAnalysis
from adref.models import (
    Grouping,
    SceneGroup,
    ShotText,
    SpeechResult,
    TranscriptSegment,
    VideoMeta,
    analysis_id,
)
from adref.search.index import refresh
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from adref.warehouse.records import VideoWrite
from adref.warehouse.write import run_in_transaction
from tests.factories import make_shots, make_stream

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def video(
    video_id: str,
    *,
    title: str = "an ad",
    description: str = "",
    looks: tuple[str, ...] = ("warm", "cool"),
    genre: str | None = "tvc",
    fmt: str | None = "live_action",
    mood: tuple[str, ...] = ("bright",),
    tags: tuple[str, ...] = (),
    site_tags: tuple[str, ...] = (),
    summary: str = "",
    reason: str = "",
    groups: tuple[str, ...] = (),
    provider: str = "local",
    owner: str | None = None,
    size: tuple[int, int] = (1920, 1080),
    seed: int = 0,
    screen: tuple[tuple[int, str], ...] = (),
    said: tuple[tuple[float, float, str], ...] = (),
) -> VideoWrite:
    """``screen``: lines read on screen, as (shot index, text); ``said``: the voice-over, as
    (start_s, end_s, text) (each shot lasts 2 s)."""
    shots = make_shots([(look, 2.0) for look in looks], jitter=0.01, seed=seed)
    aid = analysis_id(video_id, provider, "m", "p1")
    descriptions = list(groups) or ["" for _ in shots]
    return VideoWrite(
        meta=VideoMeta(
            video_id=video_id, title=title, description=description, site_tags=list(site_tags)
        ),
        content_hash=uuid.uuid4().hex,
        stream=make_stream(2.0 * len(shots), size[0], size[1], fps=25.0),
        shots=shots,
        texts=[
            ShotText(
                shot_index=i,
                start_s=shots[i].start_s,
                text=text,
                confidence=0.9,
                box=(10, 10 + 30 * n, 200, 24),
            )
            for n, (i, text) in enumerate(screen)
        ],
        transcript=SpeechResult(
            status="done",
            segments=[TranscriptSegment(start_s=a, end_s=b, text=text) for a, b, text in said],
            language="en",
            provider="local",
            model="tiny.en",
        )
        if said
        else None,
        keyframe_paths={
            s.shot_index: f"media/keyframes/{video_id}/{s.shot_index:04d}.jpg" for s in shots
        },
        grouping=Grouping(
            groups=[
                SceneGroup(
                    group_index=i,
                    shot_indices=[i],
                    start_s=s.start_s,
                    end_s=s.end_s,
                    representative_shot=i,
                )
                for i, s in enumerate(shots)
            ],
            analysis_groups=list(range(len(shots))),
            granularity=5,
            short_form=True,
        ),
        analysis=Analysis(
            analysis_id=aid,
            video_id=video_id,
            provider=provider,
            model="m",
            prompt_version="p1",
            output_language="en",
            created_at=NOW,
            genre=genre,
            genre_reason=reason or None,
            expression_format=fmt,
            mood=list(mood),
            model_tags=list(tags),
            summary=summary or None,
            groups=[
                GroupAnalysis(group_index=i, description=d or None)
                for i, d in enumerate(descriptions[: len(shots)])
            ],
        ),
        owner=owner,
    )


def settings_for(root: Path) -> Settings:
    return Settings(home=root.parent / "home", warehouse_dir=root)


def indexed(root: Path, *writes: VideoWrite) -> tuple[Warehouse, Settings]:
    """A warehouse at ``root`` holding ``writes``, and its settings, with the index built."""
    wh = Warehouse(root)
    for w in writes:
        wh.write_video(w)
    settings = settings_for(root)
    refresh(settings)
    return wh, settings


def correct(wh: Warehouse, video_id: str, field: str, value: Any, at: datetime = NOW) -> None:
    def txn(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "INSERT INTO corrections (id, video_id, field, new_value, author, created_at)"
            " VALUES (?, ?, ?, ?, 'tester', ?)",
            [uuid.uuid4().hex, video_id, field, json.dumps(value, ensure_ascii=False), at],
        )

    run_in_transaction(wh, txn, f"correct {video_id}")


def table_counts(wh: Warehouse) -> dict[str, int]:
    con = wh.connect(read_only=True)
    try:
        return {
            t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t in ("videos", "shots", "analyses", "group_analyses", "corrections")
        }
    finally:
        con.close()
