"""The Typer app every command module registers on, and the one place errors become one line."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from dataclasses import dataclass

import typer
from rich.console import Console

from adref import prefect_env
from adref.errors import AdrefError
from adref.settings import get_settings

app = typer.Typer(
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


def start_prefect() -> None:
    """Configure Prefect before it is imported. Its console logs (tracebacks included) would
    drown the bars and the one-line error; they still reach the Prefect API, and `--debug`
    shows them."""
    prefect_env.configure(get_settings())
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
    except AdrefError as exc:
        if state.debug:  # the traceback, then the same line and exit code as without --debug
            traceback.print_exc()
        raise SystemExit(fail(exc.one_line()).exit_code) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug or an environment problem: still one line unless --debug
        if state.debug:
            raise
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise SystemExit(
            fail(
                f"unexpected {type(exc).__name__}: {first}. Run again with --debug for the traceback.",
                code=1,
            ).exit_code
        ) from None
