"""``adref doctor``: what is ready, what is not, and what to do about it, one check at a time.

Every check is a plain function returning ``Check`` rows, so tests call them without the CLI
and the CLI only draws the table. A check never raises: a broken part is a row saying so.
"""

from __future__ import annotations

import os
import time

from adref.doctor import environment, services, storage
from adref.doctor.check import Check, Status
from adref.doctor.notion import notion_checks
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse

__all__ = ["Check", "Status", "exit_code", "run_checks"]


def run_checks(settings: Settings, *, online: bool = False, fix: bool = False) -> list[Check]:
    """Every check, in the order a reader fixes things: the install, then storage, then services."""
    return [
        environment.python_check(),
        *environment.package_checks(),
        environment.opencv_check(),
        environment.ffmpeg_check(),
        environment.tesseract_check(settings),
        environment.speech_check(settings),
        storage.warehouse_check(Warehouse.of(settings)),
        *storage.media_checks(Warehouse.of(settings)),
        *storage.disk_checks(settings),
        *services.prefect_checks(settings),
        *services.provider_checks(settings, online=online),
        *notion_checks(settings, online=online),
        *storage.leftover_checks(settings, fix=fix),
        storage.cache_check(settings, time.time(), os.environ.get("PREFECT_HOME")),
    ]


def exit_code(checks: list[Check]) -> int:
    """1 when anything is an error (a run would fail), else 0: warnings do not stop a run."""
    return 1 if any(c.status == "error" for c in checks) else 0
