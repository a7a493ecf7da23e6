"""Stage progress, reported by the pipeline and shown by whoever listens (the CLI's bars).

A module-level listener keeps the stage functions free of any UI: they call ``report`` and the
door that started the run decides what to draw. With no listener, reporting costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

STAGES = ("download", "detect", "text", "speech", "group", "analyze", "persist")
Status = Literal["start", "progress", "done", "cached", "failed"]


@dataclass(frozen=True)
class Event:
    stage: str
    status: Status
    fraction: float = 0.0
    detail: str = ""


Listener = Callable[[Event], None]
_listener: Listener | None = None


def set_listener(listener: Listener | None) -> None:
    global _listener
    _listener = listener


def report(stage: str, status: Status, fraction: float = 0.0, detail: str = "") -> None:
    if _listener is not None:
        _listener(Event(stage, status, fraction, detail))


def fraction_reporter(stage: str) -> Callable[[float], None]:
    """A ``progress(fraction)`` callback for a plain stage function."""

    def _report(fraction: float) -> None:
        report(stage, "progress", max(0.0, min(1.0, fraction)))

    return _report
