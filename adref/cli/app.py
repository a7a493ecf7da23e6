"""The Typer app every command module registers on, and the one place errors become one line."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from adref import prefect_env
from adref.errors import AdrefError
from adref.settings import get_settings


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
            if state.debug:
                raise
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            message = f"unexpected {type(exc).__name__}: {first}. "
            raise fail(message + "Run again with --debug for the traceback.", code=1) from None


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

console = Console()
err_console = Console(stderr=True)


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
                f"started a Prefect server in the background at {api_url.removesuffix('/api')} "
                f"(stops after {after} idle; `adref down` stops it now)",
                highlight=False,
                soft_wrap=True,
            )
    prefect_env.configure(settings)
    if not state.debug:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    logging.getLogger("adref").setLevel(logging.DEBUG if state.debug else logging.WARNING)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and Prefect's logs."),
) -> None:
    state.debug = debug or os.environ.get("ADREF_DEBUG", "") not in ("", "0")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear red line and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
