"""The Typer app every command module registers on, and the one place errors become one line."""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import typer
from pydantic import AliasChoices, ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from typer.core import TyperGroup

from adref import prefect_env
from adref.cli.plain import escape
from adref.errors import AdrefError, Stopped, interruption
from adref.settings import Settings, get_settings


class _OneLineErrors(TyperGroup):
    """Errors become one line inside the command, where a test's ``CliRunner`` sees them as a
    user does; ``main`` only adds what needs the real process (Ctrl-C)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # Typer's own: exit codes, usage errors, a declined confirmation
        except AdrefError as exc:
            if state.debug:  # the traceback, then the same line and exit code as without --debug
                traceback.print_exc()
            raise fail(exc.one_line()) from None
        except Exception as exc:  # a bug or an environment problem: one line unless --debug
            bad_setting = (
                setting_problem(exc) if isinstance(exc, ValidationError | SettingsError) else None
            )
            if bad_setting is not None:
                raise fail(bad_setting) from None
            if state.debug:
                raise
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            message = f"unexpected {type(exc).__name__}: {first}. "
            raise fail(message + "Run again with --debug for the traceback.", code=1) from None


def setting_problem(exc: ValidationError | SettingsError) -> str | None:
    """A bad ``ADREF_...`` value as the variable and the rule it breaks (never the value: it
    may be a key), or None for an error that is not about the settings."""
    if isinstance(exc, SettingsError):
        found = re.search(r'field "(\w+)"', str(exc))
        if found is None:
            return None
        name = _variable(found.group(1))
        return f"{name} is not valid JSON (a list or an object): fix or unset it"
    if exc.title != Settings.__name__:
        return None
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = error.get("loc") or ("?",)
        parts.append(f"{_variable(str(loc[0]))}: {error.get('msg', 'not valid')}")
    return "; ".join(parts) + " (fix or unset it; the README's Configuration lists each setting)"


def _variable(field: str) -> str:
    """The environment variable that sets a field (its first alias, else ADREF_ + its name)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices) and alias.choices and isinstance(alias.choices[0], str):
        return alias.choices[0].upper()
    if isinstance(alias, str):
        return alias.upper()
    return field.upper() if field.upper().startswith("ADREF_") else f"ADREF_{field.upper()}"


app = typer.Typer(
    cls=_OneLineErrors,
    name="adref",
    help="Turn advertising videos into a searchable reference library.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
bench_app = typer.Typer(
    help="Measure speed against a baseline run side by side.", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")

# No emoji codes: a title such as "Sale :fire: now" is printed as it was written.
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)


@dataclass
class _State:
    debug: bool = False


state = _State()


def start_prefect(background_server: bool = False) -> None:
    """Configure Prefect before it is imported. Its console logs (tracebacks included) would
    drown the bars and the one-line error; they still reach the Prefect API, and `--debug`
    shows them.

    ``background_server``: a command that runs flows starts a Prefect server that outlives it
    when none runs (ADREF_SERVER=background), so the next command does not wait for one.
    """
    settings = get_settings()
    if (
        background_server
        and settings.server == "background"
        and "PREFECT_API_URL" not in os.environ
        and not prefect_env.running_api_url(settings)
    ):
        from adref.deployments.background import ensure_server  # lazy: only when none runs

        api_url, started = ensure_server(settings)
        if started:
            idle = settings.server_idle_s
            after = f"{idle / 60:.0f} min" if idle >= 120 else f"{idle:.0f} s"
            err_console.print(
                f"started a Prefect server in the background at "
                f"{escape(api_url.removesuffix('/api'))} "
                f"(stops after {after} idle; `adref down` stops it now)",
                highlight=False,
                soft_wrap=True,
            )
    prefect_env.configure(settings)
    quiet_prefect()


def quiet_prefect() -> None:
    """Prefect's console logs off unless --debug. Prefect reads the level once, when first
    imported: a command that imports it before ``start_prefect`` calls this first."""
    if not state.debug:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    logging.getLogger("adref").setLevel(logging.DEBUG if state.debug else logging.WARNING)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and Prefect's logs."),
) -> None:
    state.debug = debug or os.environ.get("ADREF_DEBUG", "") not in ("", "0")
    settings = get_settings()
    folders = [("ADREF_HOME", settings.home)]
    if ctx.invoked_subcommand != "doctor":  # its table reports the warehouse, with the rest
        folders.append(("ADREF_WAREHOUSE_DIR", settings.warehouse))
    for variable, folder in folders:
        if (blocked := _file_in_the_way(folder)) is not None:
            raise fail(
                f"{variable} is {folder}, but {blocked} is a file, not a folder: "
                f"point {variable} at a folder (made if missing)"
            )


def _file_in_the_way(folder: Path) -> Path | None:
    """The folder, or the nearest of its parents that exists, if that is not a folder."""
    for path in (folder, *folder.parents):
        if path.exists():
            return None if path.is_dir() else path
    return None


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear red line and return the Exit to raise. ``message`` is plain text (it
    quotes paths, addresses and errors), never markup."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
    except SystemExit as done:  # Typer ends Ctrl-C with a silent exit 130
        # SystemExit <- typer's Exit(130) <- the interrupt
        stop = interruption(done.__context__) if done.__context__ is not None else None
        if not isinstance(stop, KeyboardInterrupt):
            raise
        _stopped(stop)
    except KeyboardInterrupt as stop:
        _stopped(stop)


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


def _stopped(stop: BaseException) -> None:
    """Say so in one line; exit as a shell reports a process the signal ended (128 + it)."""
    if isinstance(stop, Stopped):
        err_console.print(f"stopped ({stop.name})")
        sys.exit(128 + stop.signum)
    err_console.print("interrupted")
    sys.exit(130)
