"""Spending caps: a model call is made only if its planned cost fits the run's and the day's cap.

The day's spend is summed from the append-only ``runs`` table (UTC day), so it survives
processes and re-runs. Runs in flight at the same moment do not see each other's spend yet: the
cap can be overshot by at most the calls those runs are making, never by a whole channel.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from adref.settings import Settings
from adref.warehouse.catalog import Warehouse

log = logging.getLogger(__name__)


def spent_today(settings: Settings) -> float:
    wh = Warehouse(settings.warehouse)
    if not wh.exists():
        return 0.0
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        with contextlib.closing(wh.connect(read_only=True)) as con:
            row = con.execute(
                "SELECT coalesce(sum(cost_usd), 0) FROM runs WHERE started_at >= ?", [midnight]
            ).fetchone()
    except Exception as exc:  # a reader problem must not stop analysis: the run cap still holds
        log.warning("could not read today's model spend: %s", exc)
        return 0.0
    return float(row[0]) if row else 0.0


def over_cap(planned_usd: float, run_spent: float, settings: Settings) -> str | None:
    """Why this call may not be made, or None when it fits both caps."""
    if planned_usd <= 0:
        return None
    if run_spent + planned_usd > settings.max_cost_per_run_usd:
        return (
            f"the run's spending cap (ADREF_MAX_COST_PER_RUN_USD={settings.max_cost_per_run_usd:g})"
            f" would be passed: {run_spent:.4f} spent, {planned_usd:.4f} planned"
        )
    today = spent_today(settings) + run_spent
    if today + planned_usd > settings.max_cost_per_day_usd:
        return (
            f"the day's spending cap (ADREF_MAX_COST_PER_DAY_USD={settings.max_cost_per_day_usd:g})"
            f" would be passed: {today:.4f} spent today, {planned_usd:.4f} planned"
        )
    return None
