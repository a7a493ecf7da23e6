"""The warehouse on PostgreSQL + S3 (real PostgreSQL, moto's S3 server, on loopback).

One warehouse serves the module (creating DuckLake's tables in PostgreSQL takes ~10-20 s here);
each test writes its own video ids.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from adref.bench.loopback import unused_port
from adref.errors import WarehouseUnreachable
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from tests.support.scale import Postgres, S3Server, ScaleSetup, new_setup, postgres, s3_server
from tests.test_warehouse import make_write

__all__ = ["postgres", "s3_server"]

pytestmark = pytest.mark.slow
ADREF = str(Path(sys.executable).with_name("adref"))


@pytest.fixture(scope="module")
def lake(postgres: Postgres, s3_server: S3Server) -> ScaleSetup:
    return new_setup(postgres, s3_server)


def settings_of(setup: ScaleSetup, home: Path) -> Settings:
    env = setup.env()
    return Settings(
        home=home,
        warehouse_catalog=env["ADREF_WAREHOUSE_CATALOG"],
        warehouse_data_path=env["ADREF_WAREHOUSE_DATA_PATH"],
        s3_endpoint=env["ADREF_S3_ENDPOINT"],
        s3_access_key_id=env["AWS_ACCESS_KEY_ID"],
        s3_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def adref(
    setup: ScaleSetup, home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``adref ARGS`` in another process with its own HOME: another machine, as far as adref
    can tell (nothing on this one's disk is shared). ``env`` overrides the setup's."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ADREF_", "AWS_", "PG"))}
    base |= setup.env() | {"HOME": str(home), "ADREF_HOME": str(home / ".adref"), "COLUMNS": "1000"}
    env = base | (env or {})
    return subprocess.run(
        [ADREF, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "home"
    folder.mkdir()
    yield folder


def test_videos_land_in_postgres_and_the_bucket_and_another_home_reads_them(
    lake: ScaleSetup, tmp_path: Path, home: Path
) -> None:
    wh = Warehouse.of(settings_of(lake, tmp_path / "writer"))
    wh.write_video(make_write("site:one", shots=3))
    wh.write_video(make_write("site:two", shots=5))
    assert any(key.endswith(".parquet") for key in lake.objects())
    assert not (tmp_path / "writer" / "warehouse" / "data").exists()

    done = adref(
        lake,
        home,
        "sql",
        "-f",
        "json",
        "SELECT video_id, shot_count, (SELECT count(*) FROM shots s WHERE s.video_id = v.video_id) "
        "AS shots FROM videos v WHERE video_id IN ('site:one', 'site:two') ORDER BY 1",
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert rows == [
        {"video_id": "site:one", "shot_count": 3, "shots": 3},
        {"video_id": "site:two", "shot_count": 5, "shots": 5},
    ]
    refused = adref(
        lake, home, "sql", "SELECT * FROM postgres_query('__ducklake_metadata_adref', 'SELECT 1')"
    )
    assert refused.returncode != 0 and "not allowed" in refused.stderr


def test_the_attach_line_holds_no_secret_and_opens_the_lake_with_the_keys_from_the_environment(
    lake: ScaleSetup, tmp_path: Path, home: Path
) -> None:
    Warehouse.of(settings_of(lake, tmp_path / "writer")).write_video(make_write("site:attach"))
    done = adref(lake, home, "sql", "--attach-line")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert lake.secret not in line and lake.secret not in done.stderr
    assert "AWS_SECRET_ACCESS_KEY" in done.stderr  # says what the shell needs

    env = lake.env()
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    with contextlib.closing(con):
        # The DuckDB shell's getenv(), which Python's DuckDB lacks.
        con.create_function("getenv", lambda name: env.get(name, ""), [str], str)  # type: ignore[list-item]
        con.execute(line)
        (count,) = con.execute(
            "SELECT count(*) FROM shots WHERE video_id = 'site:attach'"
        ).fetchone() or (0,)
    assert count == 3


WRITER = """
import sys
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from tests.test_warehouse import make_write
wh = Warehouse.of(Settings())
wh.local_lock = False  # writers on other machines share no lock file
for version in range(int(sys.argv[2])):
    wh.write_video(make_write(sys.argv[1], shots=2 + version))
"""


def _writers(
    lake: ScaleSetup, tmp_path: Path, ids: list[str], versions: int
) -> list[subprocess.Popen[str]]:
    procs = []
    for i, video_id in enumerate(ids):
        home = tmp_path / f"machine{i}"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ADREF_", "AWS_"))}
        env |= lake.env() | {"ADREF_HOME": str(home), "PYTHONPATH": str(Path.cwd())}
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WRITER, video_id, str(versions)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return procs


def _finish(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]


def test_writers_on_several_machines_land_each_video_once_and_compaction_runs_beside_them(
    lake: ScaleSetup, tmp_path: Path
) -> None:
    ids = [f"site:m{i}" for i in range(3)]
    versions = 2
    wh = Warehouse.of(settings_of(lake, tmp_path / "upkeep"))
    wh.init()
    procs = _writers(lake, tmp_path, ids, versions)
    try:
        wh.compact(older_than_days=0)  # while they write
    finally:
        _finish(procs)
    with contextlib.closing(wh.connect()) as con:
        rows = con.execute(
            "SELECT video_id, count(*), any_value(shot_count) FROM videos "
            "WHERE video_id LIKE 'site:m%' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        shots = con.execute(
            "SELECT video_id, count(*) FROM shots WHERE video_id LIKE 'site:m%' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    last = 2 + versions - 1
    assert rows == [(v, 1, last) for v in ids]
    assert shots == [(v, last) for v in ids]
    before, after = wh.compact(older_than_days=0)
    assert after < before
    with contextlib.closing(wh.connect()) as con:
        assert con.execute(
            "SELECT count(*) FROM shots WHERE video_id LIKE 'site:m%'"
        ).fetchone() == (len(ids) * last,)


def test_the_secret_is_in_no_output_catalog_or_error_and_a_stopped_catalog_is_one_line(
    lake: ScaleSetup, tmp_path: Path, home: Path
) -> None:
    Warehouse.of(settings_of(lake, tmp_path / "writer")).write_video(make_write("site:secret"))
    assert lake.secret not in lake.postgres.dump(lake.database)
    for key in lake.objects():
        assert lake.secret.encode() not in lake.s3.object(lake.bucket, key)

    bad_bucket = adref(
        lake, home, "sql", "SELECT count(*) FROM read_parquet('s3://nowhere/x.parquet')"
    )
    assert bad_bucket.returncode != 0
    assert lake.secret not in bad_bucket.stdout + bad_bucket.stderr

    lake.postgres.stop()
    try:
        down = adref(lake, home, "sql", "SELECT count(*) FROM videos")
    finally:
        lake.postgres.start()
    assert down.returncode != 0
    lines = [line for line in down.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, down.stderr
    assert "cannot reach the warehouse catalog" in lines[0]
    assert lake.secret not in down.stdout + down.stderr
    assert "Traceback" not in down.stderr


def test_an_unreachable_bucket_fails_in_one_line_and_commits_nothing(
    lake: ScaleSetup, tmp_path: Path, home: Path
) -> None:
    """The catalog answers, the bucket does not (its endpoint a port nothing listens on)."""
    up = Warehouse.of(settings_of(lake, tmp_path / "writer"))
    up.write_video(make_write("site:bucket-up"))
    dead = f"http://127.0.0.1:{unused_port()}"
    cut_off = settings_of(lake, tmp_path / "cut-off").model_copy(update={"s3_endpoint": dead})
    with pytest.raises(WarehouseUnreachable) as failed:
        Warehouse.of(cut_off).write_video(make_write("site:bucket-down"))
    line = str(failed.value)
    assert line.startswith(f"cannot reach the warehouse bucket {lake.data_path} at {dead}")
    assert "Nothing was committed" in line and "\n" not in line
    assert failed.value.retryable

    read = adref(
        lake, home, "sql", "SELECT sum(shot_count) FROM videos", env={"ADREF_S3_ENDPOINT": dead}
    )
    lines = [line for line in read.stderr.splitlines() if line.strip()]
    assert read.returncode == 2 and len(lines) == 1, read.stderr
    assert "Could not connect" in lines[0] and "Traceback" not in read.stderr
    assert lake.secret not in read.stdout + read.stderr + line

    def stored(video_id: str) -> tuple[int, int]:
        with contextlib.closing(up.connect()) as con:
            row = con.execute(
                "SELECT (SELECT count(*) FROM videos WHERE video_id = $v),"
                " (SELECT count(*) FROM shots WHERE video_id = $v)",
                {"v": video_id},
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    assert stored("site:bucket-down") == (0, 0)
    up.write_video(make_write("site:bucket-down"))  # the bucket answers again: the same write
    assert stored("site:bucket-down") == (1, 3)
