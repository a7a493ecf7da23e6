"""The ``adref`` command line. Each command lives in its own module and registers on ``app``."""

from __future__ import annotations

import importlib

from adref.cli.app import app, main

for _module in ("analyze", "sql", "bench", "clean"):
    try:
        importlib.import_module(f"adref.cli.{_module}")
    except ModuleNotFoundError as exc:  # a command module not written yet must not break the rest
        if exc.name != f"adref.cli.{_module}":
            raise

__all__ = ["app", "main"]
