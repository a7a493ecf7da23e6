"""``adref sql`` against a real warehouse: three output formats, a prompt, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import adref.cli.sql  # noqa: F401  (registers the command)
from adref.cli.app import app
from adref.settings import reset_settings
from adref.warehouse.catalog import Warehouse
from tests.test_warehouse import make_write

runner = CliRunner()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """One warehouse for the module: nothing here can write to it (that is the point)."""
    wh = Warehouse(tmp_path_factory.mktemp("sql") / "wh")
    wh.init()
    wh.write_video(make_write("youtube:q1", shots=3, title="Sunny [day]"))
    wh.write_video(make_write("youtube:q2", shots=2, title="Rain"))
    return wh


@pytest.fixture
def warehouse(shared: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Iterator[Warehouse]:
    wh = shared
    monkeypatch.setenv("ADREF_WAREHOUSE_DIR", str(wh.root))
    reset_settings()
    yield wh
    reset_settings()


def sql(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["sql", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_table_output_shows_rows_and_a_count(warehouse: Warehouse) -> None:
    code, out, _ = sql("select video_id, title, shot_count from videos order by video_id")
    assert code == 0
    assert "youtube:q1" in out and "Sunny [day]" in out and "Rain" in out
    assert "2 rows" in out


def test_too_many_columns_for_the_width_are_shown_as_records(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``select * from shots`` at 80 columns: a table would give each 1-4 characters."""
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = sql("select * from shots where video_id = 'youtube:q1' order by shot_index")
    assert code == 0, out
    lines = out.splitlines()
    assert sum("── row" in line for line in lines) == 3 and "3 rows" in out
    (first,) = [line for line in lines if line.split()[:1] == ["video_id"]][:1]
    assert first.split() == ["video_id", "youtube:q1"]
    assert all(len(line) <= 80 for line in lines)
    code, out, _ = sql("select * from shots where false")
    assert code == 0 and "0 rows" in out and "columns: video_id, shot_index" in out
    code, out, _ = sql("select video_id, title from videos order by video_id")
    assert "── row" not in out and "2 rows" in out, "a narrow result stays a table"
    code, out, _ = sql("select 1 as n")
    assert "1 row" in out.splitlines()[-1], out  # on one line, however narrow the table


def test_csv_output_has_a_header_and_json_for_nested_values(warehouse: Warehouse) -> None:
    code, out, _ = sql(
        "select video_id, shot_index, palette, has_text from shots "
        "where video_id = 'youtube:q2' order by shot_index",
        "--format",
        "csv",
    )
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["video_id", "shot_index", "palette", "has_text"]
    assert [r[:2] for r in rows[1:]] == [["youtube:q2", "0"], ["youtube:q2", "1"]]
    assert json.loads(rows[1][2])[0] == {"hex": "#c04020", "weight": 0.75}
    assert rows[1][3] == "True"


def test_json_output_is_one_object_per_line(warehouse: Warehouse) -> None:
    code, out, _ = sql(
        "select video_id, upload_date, ingested_at, mood from videos join analyses "
        "using (video_id) order by video_id",
        "-f",
        "json",
    )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["video_id"] for r in records] == ["youtube:q1", "youtube:q2"]
    assert records[0]["upload_date"] == "2024-05-06"
    assert records[0]["ingested_at"].endswith("+00:00")
    assert records[0]["mood"] == ["bright", "playful"]


def test_bad_sql_is_one_clear_line(warehouse: Warehouse) -> None:
    code, out, err = sql("select nope from videos")
    assert code != 0 and out == ""
    assert err.startswith("error: query failed") and "nope" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = sql("selec 1")
    assert code != 0 and err.startswith("error: bad SQL") and "Traceback" not in err


@pytest.mark.parametrize(
    "statement",
    [
        "delete from videos",
        "insert into runs (run_id) values ('x')",
        "create table t (a int)",
        "drop table shots",
        "copy videos to '/tmp/adref-x.csv'",
        "attach ':memory:' as other",
        "detach adref",
        "set enable_external_access = true",
        "load 'json'",
        "checkpoint adref",
        "call ducklake_merge_adjacent_files('adref')",
        "select * from ducklake_cleanup_old_files('adref', cleanup_all => true)",
        "call adref.set_option('data_inlining_row_limit', 5)",
        "select * from query('delete from videos')",
    ],
)
def test_writes_and_escapes_are_refused(warehouse: Warehouse, statement: str) -> None:
    files = sorted(warehouse.data_dir.rglob("*"))
    code, out, err = sql(f"select 1; {statement}")
    assert code != 0 and out == "" and "not allowed" in err and "read-only" in err
    assert len(err.strip().splitlines()) == 1
    code, out, _ = sql("select count(*) as n from shots", "-f", "csv")
    assert out.splitlines()[1] == "5"
    assert sorted(warehouse.data_dir.rglob("*")) == files


@pytest.mark.parametrize("statement", ["install httpfs", "FORCE INSTALL httpfs", "load httpfs"])
def test_a_refused_statement_is_named_as_written(warehouse: Warehouse, statement: str) -> None:
    code, _, err = sql(statement)
    kind = "LOAD" if statement.startswith("load") else "INSTALL"
    assert code != 0 and f"{kind} statements not allowed" in err


def test_reads_outside_the_warehouse_are_refused(warehouse: Warehouse, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    code, _, err = sql(f"select * from read_csv('{outside}')")
    assert code != 0 and "disabled by configuration" in err


def test_a_missing_warehouse_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADREF_WAREHOUSE_DIR", str(tmp_path / "none"))
    reset_settings()
    try:
        code, _, err = sql("select 1")
        assert code != 0 and err.startswith("error: no warehouse at") and "adref analyze" in err
        code, _, err = sql("--attach-line")
        assert code != 0 and "no warehouse" in err
    finally:
        reset_settings()
    assert not (tmp_path / "none").exists()


def test_the_prompt_reads_statements_until_quit(warehouse: Warehouse) -> None:
    stdin = "select count(*) as n\n  from videos;\n.tables\nselect nope;\nselect 42 as x;\n.quit\n"
    code, out, err = sql("-f", "csv", stdin=stdin)
    assert out.splitlines()[:2] == ["n", "2"]
    assert "group_analyses" in out and "moodboard_items" in out
    assert out.splitlines()[-2:] == ["x", "42"]
    assert "nope" in err and "Traceback" not in err
    assert code == 1  # one statement failed, and stdin is not a terminal


def test_the_prompt_runs_what_is_left_at_end_of_input(warehouse: Warehouse) -> None:
    code, out, _ = sql("-f", "json", stdin="select 'last' as word")
    assert code == 0 and json.loads(out) == {"word": "last"}


def test_the_attach_line_works_in_another_duckdb(warehouse: Warehouse, tmp_path: Path) -> None:
    code, out, _ = sql("--attach-line")
    assert code == 0 and len(out.strip().splitlines()) == 1
    script = (
        "import duckdb, sys; con = duckdb.connect(); con.execute(sys.argv[1]); "
        "print(con.execute('select count(*) from videos').fetchall()[0][0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, out.strip()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip() == "2", done.stderr
