"""Work a flow hands over to Prefect's completion: done while the run's final state is set.

A flow's last writes (its ``runs`` row, its summary artifact) need not hold up Prefect's own
end-of-run API calls. The flow registers a callable here before returning; the flow's state
hooks run it, in the same process, before the flow call returns. Without a flow run (a plain
call) it runs at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
_PENDING: dict[str, Callable[[], None]] = {}
_LOCK = threading.Lock()


def later(flow_run_id: str | None, fn: Callable[[], None]) -> None:
    if flow_run_id is None:
        fn()
        return
    with _LOCK:
        _PENDING[flow_run_id] = fn


def hook(flow: Any, flow_run: Any, state: Any) -> None:
    """A Prefect state hook: run what the flow left for its end."""
    with _LOCK:
        fn = _PENDING.pop(str(flow_run.id), None)
    if fn is not None:
        try:
            fn()
        except Exception as exc:  # the run's outcome is already decided; say what was lost
            log.warning("finishing flow run %s failed: %s", flow_run.id, exc)
