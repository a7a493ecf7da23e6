"""``adref warehouse migrate``: a local warehouse copied whole into another catalog and data path.

The fast tests migrate into a second local location (a SQLite catalog elsewhere, another data
folder: the same code as PostgreSQL + S3, which the slow test runs on loopback).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adref.errors import WarehouseError
from adref.warehouse.catalog import Warehouse
from adref.warehouse.location import Location
from adref.warehouse.migrate import counts, migrate
from tests.support.cli import invoke
from tests.support.scale import Postgres, S3Server, new_setup, postgres, s3_server
from tests.test_warehouse import make_write

__all__ = ["postgres", "s3_server"]
ADREF = str(Path(sys.executable).with_name("adref"))


def local_with_videos(root: Path, prefix: str = "site") -> Warehouse:
    wh = Warehouse(root)
    wh.write_video(make_write(f"{prefix}:one", shots=3))
    wh.write_video(make_write(f"{prefix}:two", shots=5, owner="mina", user_tags=["summer"]))
    return wh


def elsewhere(tmp_path: Path) -> Warehouse:
    other = tmp_path / "other"
    other.mkdir(parents=True)
    location = Location(catalog=f"sqlite:{other / 'catalog.sqlite'}", data_path=f"{other}/data/")
    return Warehouse(tmp_path / "other-root", location=location)


def rows(wh: Warehouse) -> dict[str, list[tuple[object, ...]]]:
    with contextlib.closing(wh.connect(fresh=True)) as con:
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("videos", "shots", "analyses", "group_analyses", "scene_groups")
        }


def test_every_row_moves_once_and_a_second_run_is_done(tmp_path: Path) -> None:
    source = local_with_videos(tmp_path / "local")
    target = elsewhere(tmp_path)
    m = migrate(source, target)
    assert m.ok and not m.already_done
    got = {t.table: (t.source, t.target_before, t.target_after) for t in m.tables}
    assert got["videos"] == (2, 0, 2) and got["shots"] == (8, 0, 8)
    assert rows(target) == rows(source)

    again = migrate(source, target)
    assert again.already_done and again.ok
    assert rows(target) == rows(source)  # nothing written twice

    source.write_video(make_write("site:later"))
    with pytest.raises(WarehouseError, match="changed since"):
        migrate(source, target)


def test_a_target_with_rows_or_the_source_itself_is_refused(tmp_path: Path) -> None:
    target = elsewhere(tmp_path)
    target.write_video(make_write("site:there"))
    source = local_with_videos(tmp_path / "local")
    with pytest.raises(WarehouseError, match="not empty"):
        migrate(source, target)
    with pytest.raises(WarehouseError, match="target is the source"):
        migrate(source, Warehouse(tmp_path / "local"))
    with pytest.raises(WarehouseError, match="no warehouse"):
        migrate(Warehouse(tmp_path / "nothing"), elsewhere(tmp_path / "x"))


def test_a_failure_midway_leaves_the_target_without_a_row(tmp_path: Path) -> None:
    source = local_with_videos(tmp_path / "local")
    target = elsewhere(tmp_path)
    # The source's shots files are gone: the copy fails after earlier tables were inserted.
    for file in (source.data_dir / "main" / "shots").rglob("*.parquet"):
        file.unlink()
    with pytest.raises(WarehouseError, match="no row of it"):
        migrate(source, target)
    with contextlib.closing(target.connect(fresh=True)) as con:
        assert not any(counts(con, "adref").values())


def test_the_command_prints_counts_and_refuses_without_a_new_location(tmp_path: Path) -> None:
    local_with_videos(tmp_path / "home" / "warehouse")
    done = invoke(["warehouse", "migrate"], {"ADREF_HOME": str(tmp_path / "home")}, alone=True)
    assert done.exit_code == 2
    assert "target is the source" in done.output


@pytest.mark.slow
def test_migrate_into_postgres_and_s3_then_adref_sql_reads_the_same_rows(
    postgres: Postgres, s3_server: S3Server, tmp_path: Path
) -> None:
    lake = new_setup(postgres, s3_server)
    home = tmp_path / "home"
    source = local_with_videos(home / ".adref" / "warehouse")

    def adref(
        *args: str, home: Path = home, media: bool = False
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ADREF_", "AWS_", "PG"))}
        env |= lake.env() | {"ADREF_HOME": str(home / ".adref"), "COLUMNS": "1000"}
        if media:
            env["ADREF_MEDIA_PATH"] = f"s3://{lake.bucket}/media/"
        return subprocess.run(
            [ADREF, *args], capture_output=True, text=True, env=env, timeout=300, check=False
        )

    done = adref("warehouse", "migrate")
    assert done.returncode == 0, done.stderr
    assert "migrated " in done.stdout and "counts match" in done.stdout, done.stdout
    assert "Media" in done.stdout and lake.secret not in done.stdout + done.stderr
    assert any(key.endswith(".parquet") for key in lake.objects())

    query = "SELECT video_id, owner, user_tags, shot_count FROM videos ORDER BY 1"
    read = adref("sql", "-f", "json", query, home=tmp_path / "elsewhere")
    assert read.returncode == 0, read.stderr
    with contextlib.closing(source.connect(fresh=True)) as con:
        expected = con.execute(query).fetchall()
    got = [tuple(json.loads(line).values()) for line in read.stdout.splitlines()]
    assert got == [tuple(r) for r in expected]
    shots = adref("sql", "-f", "csv", "SELECT count(*) FROM shots", home=tmp_path / "elsewhere")
    assert shots.stdout.splitlines()[-1] == "8"

    again = adref("warehouse", "migrate")
    assert again.returncode == 0, again.stderr
    assert "already migrated" in again.stdout
    assert "stay local" in again.stdout and "ADREF_MEDIA_PATH" in again.stdout

    # Media later: the rows are there already, the local media are uploaded under their names.
    source.media.put_bytes("media/keyframes/site_one/0000.jpg", b"\xff\xd8one")
    with_media = adref("warehouse", "migrate", media=True)
    assert with_media.returncode == 0, with_media.stderr
    assert "already migrated" in with_media.stdout
    assert f"1 file in s3://{lake.bucket}/media/ (1 uploaded" in with_media.stdout
    assert lake.s3.object(lake.bucket, "media/media/keyframes/site_one/0000.jpg") == b"\xff\xd8one"

    other = tmp_path / "other"
    local_with_videos(other / ".adref" / "warehouse", prefix="other")
    refused = adref("warehouse", "migrate", home=other)
    assert refused.returncode == 2
    assert "not empty" in refused.stderr
