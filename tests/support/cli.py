"""Run an ``adref`` command inside the test process, as a user would see it.

Typer's ``CliRunner`` gives the command its own stdin, stdout, stderr and environment; what the
command itself changes for the rest of a process is put back afterwards: the variables Prefect's
configuration sets (``prefect_env.configure``), the ``adref`` logger's level, the cached settings.
A subprocess is still the right tool for what only a process shows (signals, start-up, a server).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from typer.testing import CliRunner, Result

import adref.cli  # noqa: F401  (registers every command)
from adref.cli.app import app
from adref.settings import reset_settings

# Variables a test process may carry that would change what a command does: a user's adref and
# Prefect settings, model and S3 keys. ``alone`` drops them all.
_PREFIXES = ("ADREF_", "PREFECT_")
_KEYS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)


@contextmanager
def restored_process() -> Iterator[None]:
    saved = dict(os.environ)
    logger = logging.getLogger("adref")
    level = logger.level
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        logger.setLevel(level)
        reset_settings()


def invoke(
    args: list[str],
    env: Mapping[str, str | None] | None = None,
    *,
    alone: bool = False,
    input: str | None = None,
) -> Result:
    """``adref ARGS`` with ``env`` on top of this process's environment (None unsets a
    variable); with ``alone``, on top of it without any ADREF_/PREFECT_ variable or model key."""
    with restored_process():
        if alone:
            for name in [n for n in os.environ if n.startswith(_PREFIXES) or n in _KEYS]:
                del os.environ[name]
        os.environ.update({"COLUMNS": "250"})
        for name, value in (env or {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings()
        return CliRunner().invoke(app, args, input=input)
