"""Point Prefect at adref's home before Prefect is imported.

Prefect reads its settings when first imported, so every door (CLI, bench, tests) calls
``configure()`` first. A user's own PREFECT_* variables always win; next comes the server of an
``adref up`` running on this machine; else the embedded server starts with the first run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from adref.settings import Settings


def configure(settings: Settings) -> None:
    if "PREFECT_API_URL" not in os.environ:
        from adref.deployments.up import running_api_url

        # `adref up` in another terminal: run there, so the run shows in its UI.
        if api_url := running_api_url(settings):
            os.environ["PREFECT_API_URL"] = api_url
    if "PREFECT_API_URL" not in os.environ:
        os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
        # Prefect's SQLite database cannot be created in a folder that does not exist yet.
        os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)
        os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
    for name, value in defaults(settings).items():
        os.environ.setdefault(name, value)


def defaults(settings: Settings) -> dict[str, str]:
    """Prefect settings every adref process gets unless the user set them: this one, and the
    server and worker ``adref up`` starts."""
    return {
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        # Cached task results belong to adref's home whichever server records the runs, so a
        # run from the CLI and one from a worker of `adref up` reuse each other's work.
        "PREFECT_LOCAL_STORAGE_PATH": str(settings.prefect_home / "storage"),
        # A fresh home migrates its database on first start; give a busy 2-core machine time.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        # Nothing here may reach the internet; keep the server quiet and offline.
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


@contextmanager
def in_process_run() -> Iterator[None]:
    """Settings for a flow run inside this process (``adref analyze``, the bench).

    With the embedded server nothing outlives the process to watch flow-run heartbeats (no
    zombie automation, the server stops with us), yet Prefect's heartbeat thread costs up to a
    second at the end of every run while it finishes a one-second sleep. So heartbeats are off
    for in-process runs on the embedded server; against a real server they stay on.
    """
    if "PREFECT_API_URL" in os.environ:
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
