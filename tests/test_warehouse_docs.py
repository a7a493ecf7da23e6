"""docs/warehouse.md is tested against a fresh warehouse: every column documented, examples run."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from adref.warehouse.catalog import Warehouse
from tests.test_warehouse import make_write

DOC = (Path(__file__).parent.parent / "docs" / "warehouse.md").read_text()


def sections() -> dict[str, str]:
    parts = re.split(r"^### `(\w+)`$", DOC, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def documented(section: str) -> dict[str, str]:
    """column -> documented type, from the section's table rows."""
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| (.+) \|$", section, flags=re.MULTILINE)
    return {name: type_.strip() for name, type_, meaning in rows if meaning.strip()}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    wh = Warehouse(tmp_path_factory.mktemp("docs") / "wh")
    wh.init()
    wh.write_video(make_write("youtube:abc", shots=4))
    return wh


def test_every_column_of_every_table_is_documented_with_its_type(warehouse: Warehouse) -> None:
    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = 'adref' ORDER BY table_name, column_index"
        ).fetchall()
    docs = sections()
    actual: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        short = data_type.replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
        actual.setdefault(table, {})[column] = short
    assert set(docs) == set(actual), "a table is missing from docs/warehouse.md, or is extra"
    for table, columns in actual.items():
        assert documented(docs[table]) == columns, f"docs/warehouse.md, table {table}"


def test_the_examples_run(warehouse: Warehouse) -> None:
    block = DOC.split("## Examples", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    statements = duckdb.extract_statements(block)
    assert len(statements) == 5
    with warehouse.connect() as con:
        results = [con.execute(s.query).fetchall() for s in statements]
    assert results[1][0][:2] == ("youtube:abc", 3) and results[1][0][2] == pytest.approx(1.0)
    assert ("local", "tvc", "bright", 1) in results[2]
    assert results[4] == [("youtube:abc", 1, "SUMMER SALE 50%", "media/keyframes/x/0001.jpg")]
