"""``adref bench warehouse``: the warehouse beside plain Parquet, locally and on PostgreSQL + S3.

For each place (the embedded default: SQLite catalog and a local folder; then a PostgreSQL
catalog and a bucket, on loopback: Debian's PostgreSQL and moto's S3 server, see ``loopback``)
a synthetic library is built through the warehouse's own write path (``synthetic.build``: the
row builders and ``run_in_transaction``, ``batch_videos`` videos per commit), then, each beside a
floor measured in the same run and on the same storage:

- persisting one 100-shot video (``Warehouse.write_video``: delete + insert in one DuckLake
  transaction) against writing the same rows, built by the same row builders, as plain Parquet
  with pyarrow (one file per table, as DuckLake writes; no catalog);
- three analyst queries (cut rate by genre, tag counts by month, warm-palette share) on the lake,
  before and after compaction, against the same queries on one compacted Parquet file per table
  read directly by DuckDB; the answers must be the same;
- compaction itself (``Warehouse.compact(0)``): its time and the Parquet files before and after.

Rounds interleave the contenders (adref, then its floor) so a busy machine slows both alike; the
medians count. The library is built fresh each run (compaction changes it) in a temp folder.
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pydantic import BaseModel, SecretStr

from adref.bench import loopback, synthetic
from adref.models import utcnow
from adref.settings import Settings
from adref.warehouse import schema, write
from adref.warehouse.catalog import Warehouse
from adref.warehouse.engine import sql_str
from adref.warehouse.records import VideoWrite

PERSIST_TARGET = 3.0
BEFORE_TARGET = 1.5
AFTER_TARGET = 1.1
SHOTS_PER_VIDEO = 100

QUERIES = {
    "cut rate by genre": (
        "SELECT a.genre, count(*) AS shots, round(count(*) * 60.0 / sum(s.duration_s), 6) "
        "AS cuts_per_minute FROM {shots} s JOIN {analyses} a USING (video_id) "
        "GROUP BY a.genre ORDER BY a.genre"
    ),
    "tag counts by month": (
        "SELECT month, tag, count(*) AS n FROM (SELECT date_trunc('month', created_at) AS month, "
        "unnest(model_tags) AS tag FROM {analyses}) GROUP BY ALL ORDER BY ALL"
    ),
    "warm-palette share": (
        "SELECT a.genre, round(avg(list_sum(list_transform(s.palette, lambda c: CASE WHEN "
        "('0x' || substr(c.hex, 2, 2))::INT > ('0x' || substr(c.hex, 6, 2))::INT "
        "THEN c.weight ELSE 0.0 END))), 6) AS warm_share "
        "FROM {shots} s JOIN {analyses} a USING (video_id) GROUP BY a.genre ORDER BY a.genre"
    ),
}
FLOOR_TABLES = ("shots", "analyses")


class Pair(BaseModel):
    """adref's median beside its floor's, over the same interleaved rounds."""

    name: str
    adref_s: float
    floor_s: float
    rounds: int

    @property
    def ratio(self) -> float:
        return self.adref_s / self.floor_s if self.floor_s > 0 else float("inf")


class Compaction(BaseModel):
    seconds: float
    files_before: int
    files_after: int


class Site(BaseModel):
    name: str
    videos: int
    shots: int
    batch_videos: int
    built_s: float
    persist: Pair
    before: list[Pair]
    after: list[Pair]
    compaction: Compaction
    same_answers: bool


class WarehouseBench(BaseModel):
    sites: list[Site]
    skipped: str | None = None  # why the PostgreSQL + S3 part did not run


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _floor_tables(w: VideoWrite) -> dict[str, pa.Table]:
    """The rows ``write_video`` writes for ``w``, built by the same row builders."""
    analyses, group_analyses = write.analysis_rows(w)
    rows = {
        "videos": [write.video_row(w, None, utcnow())],
        "shots": write.shot_rows(w),
        "shot_texts": write.text_rows(w),
        "scene_groups": write.group_rows(w),
        "analyses": analyses,
        "group_analyses": group_analyses,
    }
    return {n: pa.Table.from_pylist(r, schema=schema.arrow_schema(n)) for n, r in rows.items() if r}


class _Place:
    """Where a site's lake and floor files live, and how to reach them."""

    def __init__(self, name: str, wh: Warehouse, floor: str, fs: pafs.FileSystem) -> None:
        self.name, self.wh, self.floor, self.fs = name, wh, floor.rstrip("/"), fs

    def floor_path(self, *parts: str) -> str:
        return "/".join([self.floor, *parts])

    def fs_path(self, uri: str) -> str:
        return uri.removeprefix("s3://")

    def write_floor(self, w: VideoWrite, i: int) -> None:
        for name, table in _floor_tables(w).items():
            path = self.fs_path(self.floor_path("persist", str(i), f"{name}.parquet"))
            if "://" not in self.floor:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, path, filesystem=self.fs)


def _persist(place: _Place, repeat: int, shots: int, on_step: Callable[[str], None]) -> Pair:
    lake, floor = [], []
    for i in range(repeat + 1):  # the first round warms both up and is left out
        on_step(f"{place.name}: persisting one video ({i}/{repeat}) ...")
        w = synthetic.one_more_video(i, shots)
        t = time.perf_counter()
        place.wh.write_video(w)
        lake_s = time.perf_counter() - t
        t = time.perf_counter()
        place.write_floor(w, i)
        floor_s = time.perf_counter() - t
        if i:
            lake.append(lake_s)
            floor.append(floor_s)
    return Pair(
        name="persist one video", adref_s=_median(lake), floor_s=_median(floor), rounds=repeat
    )


def _export_floor(place: _Place) -> dict[str, str]:
    """One compacted Parquet file per table the queries read, from the lake's current rows."""
    files = {}
    with contextlib.closing(place.wh.connect(read_only=True, fresh=True)) as con:
        for table in FLOOR_TABLES:
            path = place.floor_path("compacted", f"{table}.parquet")
            if "://" not in path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY (SELECT * FROM {table}) TO {sql_str(path)} (FORMAT parquet)")
            files[table] = f"read_parquet({sql_str(path)})"
    return files


def _queries(
    place: _Place, files: dict[str, str], repeat: int, when: str, on_step: Callable[[str], None]
) -> tuple[list[Pair], bool]:
    same = True
    pairs = []
    lake = place.wh.connect(read_only=True, fresh=True)
    floor = place.wh.location.open()  # the same extensions and bucket secret, no catalog
    try:
        for name, sql in QUERIES.items():
            on_step(f"{place.name}: {name} ({when}) ...")
            lake_sql = sql.format(shots="shots", analyses="analyses")
            floor_sql = sql.format(**files)
            same &= lake.execute(lake_sql).fetchall() == floor.execute(floor_sql).fetchall()
            lake_t: list[float] = []
            floor_t: list[float] = []
            for _ in range(repeat):
                for con, q, out in ((lake, lake_sql, lake_t), (floor, floor_sql, floor_t)):
                    t = time.perf_counter()
                    con.execute(q).fetchall()
                    out.append(time.perf_counter() - t)
            pairs.append(
                Pair(name=name, adref_s=_median(lake_t), floor_s=_median(floor_t), rounds=repeat)
            )
    finally:
        lake.close()
        floor.close()
    return pairs, same


def run_site(
    place: _Place,
    videos: int,
    shots_per_video: int,
    repeat: int,
    batch_videos: int,
    on_step: Callable[[str], None],
) -> Site:
    root = place.wh.root
    lib = synthetic.build(
        root, videos, shots_per_video, lambda s: on_step(f"{place.name}: {s}"),
        warehouse=place.wh, batch_videos=batch_videos,
    )  # fmt: skip
    persist = _persist(place, repeat, shots_per_video, on_step)
    on_step(f"{place.name}: writing the floor's compacted Parquet files ...")
    files = _export_floor(place)
    before, same_before = _queries(place, files, repeat, "before compaction", on_step)
    on_step(f"{place.name}: compacting ...")
    t = time.perf_counter()
    files_before, files_after = place.wh.compact(older_than_days=0)
    compaction = Compaction(
        seconds=time.perf_counter() - t, files_before=files_before, files_after=files_after
    )
    after, same_after = _queries(place, files, repeat, "after compaction", on_step)
    return Site(
        name=place.name,
        videos=videos + repeat + 1,
        shots=(videos + repeat + 1) * shots_per_video,
        batch_videos=batch_videos,
        built_s=lib.built_s,
        persist=persist,
        before=before,
        after=after,
        compaction=compaction,
        same_answers=same_before and same_after,
    )


@contextlib.contextmanager
def _loopback_place(folder: Path) -> Iterator[_Place]:
    """PostgreSQL and moto's S3 server on loopback, a database and a bucket for the lake."""
    pg_dir = Path(tempfile.mkdtemp(prefix="adref-bench-pg-"))  # the postgres user's, not ours
    pg = loopback.Postgres.create(pg_dir)
    try:
        s3 = loopback.S3Server.start(folder / "moto.log")
        try:
            s3.create_bucket("adref-bench")
            database = pg.new_database()
            settings = Settings(
                home=folder / "home",
                warehouse_dir=folder / "warehouse",
                warehouse_catalog=f"postgres:{pg.conninfo(database)}",
                warehouse_data_path="s3://adref-bench/warehouse/",
                s3_endpoint=s3.endpoint,
                s3_region=loopback.REGION,
                s3_access_key_id=SecretStr("bench"),
                s3_secret_access_key=SecretStr("bench"),
            )
            fs = pafs.S3FileSystem(
                endpoint_override=s3.endpoint, access_key="bench", secret_key="bench",
                region=loopback.REGION, scheme="http",
            )  # fmt: skip
            wh = Warehouse.of(settings)
            yield _Place("PostgreSQL + S3 (loopback)", wh, "s3://adref-bench/floor", fs)
        finally:
            s3.stop()
    finally:
        pg.stop()
        shutil.rmtree(pg_dir, ignore_errors=True)


def run_warehouse_bench(
    videos: int = 10_000,
    shots_per_video: int = SHOTS_PER_VIDEO,
    *,
    repeat: int = 5,
    batch_videos: int = synthetic.BATCH_VIDEOS,
    remote_videos: int | None = None,
    local: bool = True,
    remote: bool = True,
    folder: Path | None = None,
    on_step: Callable[[str], None] = print,
) -> WarehouseBench:
    """Both sites (``remote_videos`` for the loopback one; ``videos`` by default)."""
    own = folder is None
    work = folder or Path(tempfile.mkdtemp(prefix="adref-bench-warehouse-"))
    sites: list[Site] = []
    skipped = None
    kw: dict[str, Any] = {"repeat": repeat, "batch_videos": batch_videos, "on_step": on_step}
    try:
        if local:
            root = work / "local" / "warehouse"
            place = _Place(
                "local", Warehouse(root), str(work / "local" / "floor"), pafs.LocalFileSystem()
            )
            sites.append(run_site(place, videos, shots_per_video, **kw))
        if remote:
            skipped = loopback.why_unavailable()
            if skipped is None:
                (work / "remote").mkdir(parents=True, exist_ok=True)
                with _loopback_place(work / "remote") as place:
                    n = remote_videos or videos
                    sites.append(run_site(place, n, shots_per_video, **kw))
        else:
            skipped = "not asked for (--no-remote)"
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return WarehouseBench(sites=sites, skipped=skipped)
