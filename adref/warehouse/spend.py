"""What model calls cost today, summed from the append-only ``runs`` table (UTC day).

The providers' daily cap needs it; the task that runs a chain reads it here and hands it to
``adref.providers.chain.run_chain``, so providers never import the warehouse.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from adref.errors import interruption
from adref.warehouse.catalog import Warehouse

log = logging.getLogger(__name__)


def spent_today(wh: Warehouse) -> float:
    if not wh.exists():
        return 0.0
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        with contextlib.closing(wh.connect(read_only=True)) as con:
            row = con.execute(
                "SELECT coalesce(sum(cost_usd), 0) FROM runs WHERE started_at >= ?", [midnight]
            ).fetchone()
    except Exception as exc:  # a reader problem must not stop analysis: the run cap still holds
        if (stop := interruption(exc)) is not None:
            raise stop from None
        log.warning("could not read today's model spend: %s", exc)
        return 0.0
    return float(row[0]) if row else 0.0
