"""Warehouse upkeep: every run commits a few small Parquet files; this merges them.

Scheduled daily by the ``compact-warehouse`` deployment, so a library that ingests all day
stays quick to query. Safe beside running flows: it is one more warehouse transaction.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from pydantic import BaseModel

from adref.settings import get_settings
from adref.warehouse.catalog import Warehouse


class Compacted(BaseModel):
    warehouse: str
    files_before: int
    files_after: int


@flow(name="compact-warehouse", log_prints=True)
def compact_warehouse(keep_days: float = 7.0) -> Compacted:
    """Merge the warehouse's small Parquet files and drop the ones only old snapshots use.

    Args:
        keep_days: Snapshots younger than this stay readable (DuckDB time travel).
    """
    settings = get_settings()
    warehouse = Warehouse(settings.warehouse)
    logger = get_run_logger()
    if not warehouse.exists():
        logger.info("no warehouse at %s yet: nothing to compact", settings.warehouse)
        return Compacted(warehouse=str(settings.warehouse), files_before=0, files_after=0)
    before, after = warehouse.compact(older_than_days=keep_days)
    logger.info("%s: %d Parquet files -> %d", settings.warehouse, before, after)
    return Compacted(warehouse=str(settings.warehouse), files_before=before, files_after=after)
