"""``adref up`` (a Prefect server, adref's deployments and a worker) and ``adref deploy``."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import typer
from rich.table import Table

from adref import prefect_env
from adref.cli.app import app, console, err_console, fail
from adref.cli.clean import settle_dead_runs
from adref.deployments import up as ups
from adref.deployments.apply import Applied, apply_deployments
from adref.deployments.definitions import DEPLOYMENTS
from adref.deployments.prefect_yaml import render
from adref.errors import AdrefError
from adref.settings import get_settings


@contextmanager
def _against(api_url: str) -> Iterator[None]:
    """Prefect's client talks to this server (Prefect was imported before its URL was known)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield


def _applied_to(api_url: str) -> Applied:
    with _against(api_url):
        return apply_deployments(get_settings())


def _crash_unfinished(api_url: str, why: str) -> None:
    with _against(api_url):
        count = ups.crash_unfinished(get_settings(), why)
        settle_dead_runs()
    if count:
        console.print(
            f"[yellow]{count} unfinished run(s) marked crashed[/] ({why}); "
            "run them again from the UI"
        )


def _table(applied: Applied, api_url: str, viewer_url: str | None = None) -> Table:
    ui_url = api_url.removesuffix("/api")
    pool = applied.pool
    limit = "no limit" if pool.concurrency_limit is None else f"{pool.concurrency_limit} at once"
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Prefect UI", f"[link={ui_url}]{ui_url}[/link]")
    table.add_row("API", api_url)
    if viewer_url:
        table.add_row("viewer", f"[link={viewer_url}]{viewer_url}[/link]")
    table.add_row("work pool", f"{pool.name} ({limit}{', created' if pool.created else ''})")
    table.add_row("deployments", "\n".join(applied.deployments))
    table.add_row("alerts", applied.alerts.describe())
    return table


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _shut_down(running: ups.Running) -> None:
    ups.stop(running.viewer)
    ups.stop(running.worker)
    try:
        if running.worker is not None and running.server.poll() is None:
            _crash_unfinished(running.api_url, "adref up was stopped while it ran")
    except Exception as exc:  # the server must still be stopped
        err_console.print(f"[yellow]could not mark unfinished runs:[/] {exc}")
    ups.stop(running.server)


@app.command()
def up(
    port: int = typer.Option(None, "--port", help="Default: ADREF_SERVER_PORT (4200)."),
    worker: bool = typer.Option(True, "--worker/--no-worker", help="Start a worker too."),
    viewer: bool = typer.Option(
        True, "--viewer/--no-viewer", help="Start the viewer too (on ADREF_VIEWER_PORT)."
    ),
) -> None:
    """Start a Prefect server with adref's deployments, a worker and the viewer; Ctrl-C stops them."""
    from adref.viewer import serve  # lazy: Panel; keeps `adref --help` fast

    settings = get_settings()
    port = port or settings.server_port
    viewer_url = None
    if viewer:
        try:
            viewer_url = serve.plan(settings).url
        except AdrefError as exc:
            raise fail(exc.one_line()) from None
    _stop_on_sigterm()
    running: ups.Running | None = None
    try:
        with console.status(f"starting the Prefect server on port {port}…"):
            server, api_url, logs = ups.start_server(settings, port)
            running = ups.Running(api_url, server, None, logs)
            applied = _applied_to(api_url)
            _crash_unfinished(api_url, "the adref up that ran it stopped before it finished")
            if worker:
                running.worker = ups.start_worker(settings, api_url, logs)
        if viewer_url:
            with console.status(f"starting the viewer at {viewer_url}…"):
                running.viewer = ups.start_viewer(settings, viewer_url, logs)
        with prefect_env.advertised(settings, api_url):
            console.print(_table(applied, api_url, viewer_url))
            console.print(
                f"logs in {logs}\n"
                "Run a deployment from the UI, or from here: "
                "[bold]adref analyze URL[/] runs in this terminal and shows in the UI.\n"
                + ("" if worker else "[yellow]no worker: deployment runs wait for one[/]\n")
                + "Ctrl-C stops the viewer, the worker and the server.\n"
                "[green]adref is up[/]",
                highlight=False,
            )
            reason = ups.supervise(running)
            raise fail(f"{reason}; see {logs}", code=1)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        if running is not None:
            _shut_down(running)
    console.print("stopped")


@app.command()
def deploy(
    write_yaml: Path | None = typer.Option(
        None,
        "--write-yaml",
        dir_okay=False,
        help="Write the deployments as a prefect.yaml to this file instead (no server needed).",
    ),
) -> None:
    """Register adref's work pool and deployments on a running Prefect server."""
    if write_yaml is not None:
        write_yaml.write_text(render(DEPLOYMENTS, get_settings().work_pool), encoding="utf-8")
        console.print(f"wrote {write_yaml} ({len(DEPLOYMENTS)} deployments)")
        return
    api_url = os.environ.get("PREFECT_API_URL") or prefect_env.running_api_url(get_settings())
    if not api_url:
        raise fail(
            "no Prefect server to deploy to: the embedded one lives only as long as a run. "
            "Start one with `adref up` (it deploys too), or set PREFECT_API_URL."
        )
    console.print(_table(_applied_to(api_url), api_url))
