"""Point Prefect at adref's home before Prefect is imported.

Prefect reads its settings when first imported, so every door (CLI, bench, tests) calls
``configure()`` first. A user's own PREFECT_* variables always win.
"""

from __future__ import annotations

import os

from adref.settings import Settings


def configure(settings: Settings) -> None:
    if "PREFECT_API_URL" not in os.environ:
        os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
        # Prefect's SQLite database cannot be created in a folder that does not exist yet.
        os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)
        os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
    os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "false")
    # A fresh home migrates its database on first start; give a busy 2-core machine time.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    # The embedded default has no UI to send telemetry for; keep it quiet and offline.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
