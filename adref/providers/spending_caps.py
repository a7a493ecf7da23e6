"""Spending caps: a model call is made only if its planned cost fits the run's and the day's cap.

The day's spend lives in the warehouse's append-only ``runs`` table, which providers do not
read themselves (they sit beside the warehouse, not above it): the caller passes a function that
returns it (``adref.warehouse.spend.spent_today``), asked only when a paid call is planned. Runs
in flight at the same moment do not see each other's spend yet: the cap can be overshot by at
most the calls those runs are making, never by a whole channel.
"""

from __future__ import annotations

from collections.abc import Callable

from adref.settings import Settings

SpentToday = Callable[[], float]


def over_cap(
    planned_usd: float, run_spent: float, settings: Settings, spent_today: SpentToday
) -> str | None:
    """Why this call may not be made, or None when it fits both caps."""
    if planned_usd <= 0:
        return None
    if run_spent + planned_usd > settings.max_cost_per_run_usd:
        return (
            f"the run's spending cap (ADREF_MAX_COST_PER_RUN_USD={settings.max_cost_per_run_usd:g})"
            f" would be passed: {run_spent:.4f} spent, {planned_usd:.4f} planned"
        )
    today = spent_today() + run_spent
    if today + planned_usd > settings.max_cost_per_day_usd:
        return (
            f"the day's spending cap (ADREF_MAX_COST_PER_DAY_USD={settings.max_cost_per_day_usd:g})"
            f" would be passed: {today:.4f} spent today, {planned_usd:.4f} planned"
        )
    return None
