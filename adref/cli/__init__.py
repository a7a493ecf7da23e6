"""The ``adref`` command line. Each command lives in its own module and registers on ``app``."""

from __future__ import annotations

from adref.cli import (
    analyze,
    bench,
    bench_viewer,
    clean,
    doctor,
    index,
    ingest,
    notion,
    reanalyze,
    sql,
    up,
    viewer,
    warehouse,
    worker,
)
from adref.cli.app import app, main

__all__ = [
    "analyze",
    "app",
    "bench",
    "bench_viewer",
    "clean",
    "doctor",
    "index",
    "ingest",
    "main",
    "notion",
    "reanalyze",
    "sql",
    "up",
    "viewer",
    "warehouse",
    "worker",
]
