"""The CLI's background Prefect server: started once, found by later commands, idle-stopped.

It is ``adref up --no-worker --no-viewer --idle-stop S`` detached, so ``adref down``, the state
file and the clean-up after a kill are the same as for ``adref up``. A lock keeps two commands
started at once from starting two servers on one database.
"""

from __future__ import annotations

import fcntl

from adref import prefect_env
from adref.deployments import stack
from adref.deployments.up import free_port
from adref.settings import Settings, resolved


def ensure_server(settings: Settings) -> tuple[str, bool]:
    """The API URL of a running server, starting one if none runs; and whether it started one."""
    home = resolved(settings.home)
    home.mkdir(parents=True, exist_ok=True)
    with (home / "up.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if api_url := prefect_env.running_api_url(settings):
            return api_url, False
        stack.clear_leftovers(settings)
        port = free_port(settings.server_port)
        args = ["--port", str(port), "--no-worker", "--no-viewer"]
        started = stack.start_detached(
            settings, [*args, "--idle-stop", str(settings.server_idle_s)]
        )
        return started.api_url, True
