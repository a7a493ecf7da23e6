"""Merge the warehouse's small Parquet files: one transaction, safe beside running flows."""

from __future__ import annotations

from prefect import task
from pydantic import BaseModel

from adref.settings import Settings


class Compacted(BaseModel):
    warehouse: str
    files_before: int
    files_after: int


@task(name="compact")
def compact(settings: Settings, keep_days: float) -> Compacted:
    """Nothing to do without a warehouse yet (0 files before and after)."""
    from adref.warehouse.catalog import Warehouse  # lazy: DuckDB

    warehouse = Warehouse.of(settings)
    before, after = warehouse.compact(older_than_days=keep_days) if warehouse.exists() else (0, 0)
    return Compacted(warehouse=warehouse.where, files_before=before, files_after=after)
