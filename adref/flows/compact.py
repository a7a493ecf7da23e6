"""Warehouse upkeep: every run commits a few small Parquet files; this merges them.

Scheduled daily by the ``compact-warehouse`` deployment, so a library that ingests all day
stays quick to query. Safe beside running flows: it is one more warehouse transaction.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from adref.settings import get_settings
from adref.tasks.compact import Compacted, compact


@flow(name="compact-warehouse", log_prints=True)
def compact_warehouse(keep_days: float = 7.0) -> Compacted:
    """Merge the warehouse's small Parquet files and drop the ones only old snapshots use.

    Args:
        keep_days: Snapshots younger than this stay readable (DuckDB time travel).
    """
    done = compact(get_settings(), keep_days)
    get_run_logger().info(
        "%s: %d Parquet files -> %d", done.warehouse, done.files_before, done.files_after
    )
    return done
