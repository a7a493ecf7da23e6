"""When the CLI's background Prefect server has nothing to do, so it can stop itself.

Idle means: no flow run pending, running or cancelling; the last run ended long enough ago; and
no adref command has looked the server up since (``prefect_env.running_api_url`` touches the
state file). All three are read from outside the server's code: its API and a file's time.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime
from pathlib import Path

_UNFINISHED = ["PENDING", "RUNNING", "CANCELLING"]


def unfinished_runs(api_url: str) -> int:
    """Flow runs pending, running or cancelling on the server."""
    import httpx  # lazy: ~30 ms; the CLI imports this module to start, only asking a server needs it

    running = httpx.post(
        f"{api_url}/flow_runs/count",
        json={"flow_runs": {"state": {"type": {"any_": _UNFINISHED}}}},
        timeout=10,
    )
    running.raise_for_status()
    return int(running.json())


def _last_run_activity(api_url: str) -> float | None:
    """Now if a run is unfinished; else when the last run ended (epoch seconds), if any did."""
    import httpx  # lazy: as above

    if unfinished_runs(api_url):
        return time.time()
    last = httpx.post(
        f"{api_url}/flow_runs/filter", json={"sort": "END_TIME_DESC", "limit": 1}, timeout=10
    )
    last.raise_for_status()
    ended = [run.get("end_time") for run in last.json()]
    return datetime.fromisoformat(ended[0]).timestamp() if ended and ended[0] else None


class IdleWatch:
    """Polls now and then; ``expired()`` once idle for ``idle_s`` seconds."""

    def __init__(self, api_url: str, idle_s: float, state_file: Path | None = None) -> None:
        self.api_url = api_url
        self.idle_s = idle_s
        self.state_file = state_file
        self.active = time.time()
        self.every = min(15.0, max(idle_s / 4, 0.5))
        self.next_look = time.monotonic()

    def expired(self) -> bool:
        import httpx  # lazy: as above

        if time.monotonic() < self.next_look:
            return False
        self.next_look = time.monotonic() + self.every
        try:
            seen = _last_run_activity(self.api_url)
        except (httpx.HTTPError, ValueError):
            seen = time.time()  # a busy or starting server is not idle
        if self.state_file is not None:
            with contextlib.suppress(OSError):
                seen = max(seen or 0.0, self.state_file.stat().st_mtime)
        self.active = max(self.active, seen or 0.0)
        return time.time() - self.active >= self.idle_s
