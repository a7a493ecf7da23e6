"""A synthetic library for ``adref bench search``: N videos x M shots, written in batches through
the warehouse's own row builders (``write.video_row``, ``group_rows``, ``analysis_rows``) and
its transaction function, with the shots' columns made as arrays (a million pydantic shots with
136-float vectors would take longer to build than the index they test).

Text mixes English and Korean words, genres and formats from the category lists, moods, tags,
owners and three aspect shapes; palettes come from a pool of colours, vectors from clusters (as
real shots of one look are near each other). Seeded: the same arguments give the same library.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from adref.analysis import Analysis, GroupAnalysis
from adref.categories import FORMATS, GENRES
from adref.models import (
    Grouping,
    PaletteColor,
    SceneGroup,
    Shot,
    StreamInfo,
    VideoMeta,
    analysis_id,
)
from adref.video.features import VECTOR_LENGTH
from adref.warehouse import schema, write
from adref.warehouse.catalog import Warehouse
from adref.warehouse.records import VideoWrite

WORDS = [
    "summer",
    "coffee",
    "beauty",
    "running",
    "shoes",
    "car",
    "family",
    "travel",
    "phone",
    "bank",
    "game",
    "music",
    "city",
    "night",
    "ocean",
    "kitchen",
    "fashion",
    "sport",
    "dance",
    "launch",
    "discount",
    "festival",
    "winter",
    "smile",
    "friend",
    "robot",
    "cloud",
    "green",
    "여름",
    "화장품",
    "커피",
    "아이스커피",
    "자동차",
    "가족",
    "여행",
    "휴대폰",
    "은행",
    "게임",
    "음악",
    "도시",
    "바다",
    "주방",
    "패션",
    "스포츠",
    "댄스",
    "출시",
    "할인",
    "축제",
    "겨울",
    "미소",
    "친구",
    "로봇",
    "신제품",
    "브랜드",
    "광고",
    "이벤트",
]
MOODS = ("bright", "calm", "energetic", "warm", "playful", "serious", "emotional", "luxurious")
OWNERS = ("mina", "jun", "sora", "alex", "kim")
SIZES = ((1920, 1080), (1080, 1920), (1080, 1080))
BATCH_VIDEOS = 250
POOL = 4096
PALETTE = 5
CLUSTERS = 256
DONE = "bench-complete.json"


@dataclass(frozen=True)
class Library:
    root: Path
    videos: int
    shots_per_video: int
    built_s: float  # 0 when reused


def _sentence(rng: np.random.Generator, n: int) -> str:
    return " ".join(WORDS[int(i)] for i in rng.integers(0, len(WORDS), n))


def _write(rng: np.random.Generator, i: int, shots: int, vid: str | None = None) -> VideoWrite:
    """One video's rows but its shots (made apart as arrays): unvalidated, built fast."""
    vid = vid or f"bench:{i:06d}"
    w, h = SIZES[int(rng.integers(0, len(SIZES)))]
    groups = max(1, shots // 10)
    per = shots // groups
    aid = analysis_id(vid, "local", "bench", "p1")
    genre = list(GENRES)[int(rng.integers(0, len(GENRES)))]
    analysis = Analysis.model_construct(
        analysis_id=aid,
        video_id=vid,
        provider="local",
        model="bench",
        prompt_version="p1",
        output_language="ko",
        created_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=i % 730),  # two years
        genre=genre,
        genre_reason=_sentence(rng, 12),
        expression_format=list(FORMATS)[int(rng.integers(0, len(FORMATS)))],
        mood=sorted({MOODS[int(j)] for j in rng.integers(0, len(MOODS), 2)}),
        model_tags=sorted({WORDS[int(j)] for j in rng.integers(0, len(WORDS), 4)}),
        summary=_sentence(rng, 30),
        groups=[
            GroupAnalysis(group_index=g, description=_sentence(rng, 10)) for g in range(groups)
        ],
    )
    grouping = Grouping(
        groups=[
            SceneGroup(
                group_index=g,
                shot_indices=list(range(g * per, shots if g == groups - 1 else (g + 1) * per)),
                start_s=g * per * 2.0,
                end_s=(shots if g == groups - 1 else (g + 1) * per) * 2.0,
                representative_shot=g * per,
            )
            for g in range(groups)
        ],
        analysis_groups=list(range(groups)),
        granularity=5,
        short_form=False,
    )
    vw = VideoWrite.model_construct(
        meta=VideoMeta(
            video_id=vid, title=_sentence(rng, 4), description=_sentence(rng, 20), site_tags=[]
        ),
        content_hash=f"{i:064x}",
        stream=StreamInfo(
            width=w,
            height=h,
            fps=25.0,
            duration_s=shots * 2.0,
            frame_count=shots * 50,
            codec="h264",
        ),
        shots=[],
        keyframe_paths={
            g.representative_shot: _keyframe(vid, g.representative_shot) for g in grouping.groups
        },
        grouping=grouping,
        analysis=analysis,
        media_path=None,
        owner=OWNERS[int(rng.integers(0, len(OWNERS)))],
        user_tags=[],
        source_path=None,
    )
    return vw


def _keyframe(video_id: str, shot: int) -> str:
    return f"media/keyframes/{video_id.replace(':', '_')}/{shot:04d}.jpg"


def _shots(
    rng: np.random.Generator, ids: list[str], shots: int, pool: pa.Array, centres: np.ndarray
) -> pa.Table:
    n = len(ids) * shots
    index = np.tile(np.arange(shots, dtype=np.int32), len(ids))
    start = index.astype(np.float64) * 2.0
    video_col = np.repeat(np.array(ids, dtype=object), shots)
    cluster = rng.integers(0, CLUSTERS, n)
    vectors = centres[cluster] + rng.normal(0, 0.05, (n, centres.shape[1])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    weights = rng.dirichlet(np.ones(PALETTE), n).astype(np.float64).ravel()
    colours = pool.take(pa.array(rng.integers(0, POOL, n * PALETTE)))
    offsets5 = pa.array(np.arange(0, n * PALETTE + 1, PALETTE, dtype=np.int32))
    palette = pa.ListArray.from_arrays(
        offsets5, pa.StructArray.from_arrays([colours, pa.array(weights)], names=["hex", "weight"])
    )
    offsets_v = pa.array(np.arange(0, n * VECTOR_LENGTH + 1, VECTOR_LENGTH, dtype=np.int32))
    vector = pa.ListArray.from_arrays(offsets_v, pa.array(vectors.ravel()))
    keyframes = [_keyframe(v, int(s)) for v, s in zip(video_col, index, strict=True)]
    columns = {
        "video_id": pa.array(video_col, pa.string()),
        "shot_index": pa.array(index),
        "start_s": pa.array(start),
        "end_s": pa.array(start + 2.0),
        "duration_s": pa.array(np.full(n, 2.0)),
        "keyframe_path": pa.array(keyframes, pa.string()),
        "palette": palette,
        "vector": vector,
    }
    target = schema.arrow_schema("shots")
    return pa.table({f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in target}).cast(target)


def build(
    root: Path,
    videos: int,
    shots_per_video: int,
    on_step: Callable[[str], None] = print,
    *,
    warehouse: Warehouse | None = None,
    batch_videos: int = BATCH_VIDEOS,
) -> Library:
    """The library at ``root``, built once (a marker says it is complete) and reused after.

    ``warehouse``: the one to fill (its catalog and data may be elsewhere, e.g. PostgreSQL and
    a bucket); by default the embedded one at ``root``. ``batch_videos`` videos per commit.
    """
    import time

    marker = root / DONE
    wanted = {"videos": videos, "shots_per_video": shots_per_video, "version": 2}
    if batch_videos != BATCH_VIDEOS:
        wanted["batch_videos"] = batch_videos
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        return Library(root, videos, shots_per_video, 0.0)
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} holds something else; give another --dir or remove it")
    started = time.perf_counter()
    wh = warehouse or Warehouse(root)
    wh.init()
    rng = np.random.default_rng(11)
    pool_rgb = rng.integers(0, 256, (POOL, 3))
    pool = pa.array([f"#{r:02x}{g:02x}{b:02x}" for r, g, b in pool_rgb], pa.string())
    centres = rng.random((CLUSTERS, VECTOR_LENGTH)).astype(np.float32)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    for first in range(0, videos, batch_videos):
        count = min(batch_videos, videos - first)
        writes = [_write(rng, first + j, shots_per_video) for j in range(count)]
        tables: dict[str, list[dict[str, object]]] = {
            n: [] for n in ("videos", "scene_groups", "analyses", "group_analyses")
        }
        for j, w in enumerate(writes):
            row = write.video_row(w, None, now + timedelta(minutes=first + j))
            row["shot_count"] = shots_per_video
            tables["videos"].append(row)
            tables["scene_groups"] += write.group_rows(w)
            a_rows, g_rows = write.analysis_rows(w)
            tables["analyses"] += a_rows
            tables["group_analyses"] += g_rows
        batch = {
            n: pa.Table.from_pylist(r, schema=schema.arrow_schema(n)) for n, r in tables.items()
        }
        batch["shots"] = _shots(
            rng, [w.meta.video_id for w in writes], shots_per_video, pool, centres
        )

        def txn(con: duckdb.DuckDBPyConnection, batch: dict[str, pa.Table] = batch) -> None:
            for name, table in batch.items():
                con.register("_bench_batch", table)
                try:
                    con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _bench_batch")
                finally:
                    con.unregister("_bench_batch")

        write.run_in_transaction(wh, txn, f"bench videos {first}..{first + count - 1}")
        on_step(f"synthetic library: {first + count:,}/{videos:,} videos written")
    marker.write_text(json.dumps(wanted))
    return Library(root, videos, shots_per_video, time.perf_counter() - started)


def one_more_video(i: int, shots: int) -> VideoWrite:
    """A real, validated ``VideoWrite`` (pydantic shots) as a flow would persist it."""
    rng = np.random.default_rng(1000 + i)
    vw = _write(rng, 10_000_000 + i, shots, vid=f"bench:extra-{i}")
    rows = []
    for k in range(shots):
        vec = rng.random(VECTOR_LENGTH)
        colours = rng.integers(0, 256, (PALETTE, 3))
        rows.append(
            Shot(
                shot_index=k,
                start_s=k * 2.0,
                end_s=k * 2.0 + 2.0,
                start_frame=k * 50,
                end_frame=k * 50 + 50,
                keyframe_s=k * 2.0 + 1.0,
                keyframe_jpeg=b"",
                palette=[
                    PaletteColor(hex=f"#{r:02x}{g:02x}{b:02x}", weight=1 / PALETTE)
                    for r, g, b in colours
                ],
                brightness=0.5,
                saturation=0.5,
                warmth=0.0,
                colourfulness=0.5,
                motion=0.1,
                vector=(vec / np.linalg.norm(vec)).tolist(),
            )
        )
    data = vw.__dict__ | {"shots": rows, "analysis": Analysis.model_validate(vw.analysis.__dict__)}
    return VideoWrite.model_validate(data)
