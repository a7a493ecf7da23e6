"""``adref up`` (a Prefect server, adref's deployments and a worker) and ``adref deploy``."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import FrameType

import typer
from rich.table import Table

from adref import prefect_env
from adref.cli.app import app, console, fail
from adref.cli.clean import settle_dead_runs
from adref.cli.plain import escape, link
from adref.deployments import idle, stack
from adref.deployments import up as ups
from adref.deployments.apply import Applied, apply_deployments
from adref.deployments.definitions import DEPLOYMENTS
from adref.deployments.prefect_yaml import render
from adref.errors import AdrefError
from adref.settings import Settings, get_settings


def _applied_to(api_url: str) -> Applied:
    with stack.against(api_url):
        return apply_deployments(get_settings())


def _crash_unfinished(api_url: str, why: str) -> None:
    with stack.against(api_url):
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
    table.add_row("Prefect UI", link(ui_url))
    table.add_row("API", escape(api_url))
    if viewer_url:
        table.add_row("viewer", link(viewer_url))
    created = ", created" if pool.created else ""
    table.add_row("work pool", f"{escape(pool.name)} ({limit}{created})")
    table.add_row("deployments", escape("\n".join(applied.deployments)))
    table.add_row("alerts", escape(applied.alerts.describe()))
    return table


def _stop_on_signals() -> None:
    """SIGTERM stops us as Ctrl-C does. A background shell starts us with SIGINT ignored, which
    children would inherit across exec (a worker deaf to Ctrl-C): a handler of our own is reset
    to the default in each child instead."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _shut_down(running: ups.Running, kind: str) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):  # a second signal must not cut this short
        signal.signal(signum, signal.SIG_IGN)
    settings = get_settings()
    ups.stop(running.viewer)
    done = stack.stop_stack(
        settings, running.stack(kind, ready=False), "adref up was stopped while it ran"
    )
    if done.crashed:
        console.print(
            f"[yellow]{done.crashed} unfinished run(s) marked crashed[/] "
            "(adref up was stopped while it ran); run them again from the UI"
        )
    for child in (running.worker, running.server):
        ups.stop(child)  # reaps them (stop_stack has ended them)
    prefect_env.withdraw(settings, os.getpid())


def _clear_the_way(settings: Settings) -> None:
    """A live server from the CLI in the background gives way; a live ``adref up`` is an error;
    what a killed one left behind is stopped, and said so."""
    found = prefect_env.read_stack(settings)
    if found is not None and found.alive("supervisor"):
        if found.kind != "background":
            raise ups.UpError(
                "adref up is already running",
                f"at {found.api_url.removesuffix('/api')}",
                "Use that one, or stop it with `adref down`",
            )
        stack.stop_running(settings)
        console.print("stopped the CLI's background Prefect server; adref up takes over")
        return
    left = stack.clear_leftovers(settings)
    if left is not None:
        console.print(
            f"[yellow]an earlier adref up was killed and left processes running:[/] "
            f"stopped {escape(left.describe())}",
            highlight=False,
        )


@app.command()
def up(
    port: int = typer.Option(
        None, "--port", min=1, max=65535, help="Default: ADREF_SERVER_PORT (4200)."
    ),
    worker: bool = typer.Option(True, "--worker/--no-worker", help="Start a worker too."),
    viewer: bool = typer.Option(
        True, "--viewer/--no-viewer", help="Start the viewer too (on ADREF_VIEWER_PORT)."
    ),
    detach: bool = typer.Option(
        False,
        "--detach",
        help="Run in the background (logs in ADREF_HOME/logs); `adref down` stops it.",
    ),
    idle_stop: float = typer.Option(
        None, "--idle-stop", hidden=True, help="The CLI's background server: stop when idle."
    ),
) -> None:
    """Start a Prefect server with adref's deployments, a worker and the viewer; Ctrl-C stops them."""
    from adref.viewer import serve  # lazy: Panel; keeps `adref --help` fast

    settings = get_settings()
    kind = "background" if idle_stop else "up"
    if port is None:
        port = ups.free_port(settings.server_port) if kind == "background" else settings.server_port
    viewer_url = None
    if viewer:
        try:
            viewer_url = serve.plan(settings).url
        except AdrefError as exc:
            raise fail(exc.one_line()) from None
    if detach:
        _clear_the_way(settings)
        args = ["--port", str(port), "--worker" if worker else "--no-worker"]
        args += ["--viewer" if viewer else "--no-viewer"]
        with console.status("starting adref up in the background…"):
            started = stack.start_detached(settings, args)
            applied = _applied_to(started.api_url)
        console.print(_table(applied, started.api_url, viewer_url))
        console.print(
            f"logs in {escape(str(stack.log_file(settings).parent))}\n"
            f"[green]adref is up in the background[/] (pid {started.processes['supervisor'][0]}); "
            "`adref down` stops it",
            highlight=False,
        )
        return
    _stop_on_signals()
    running: ups.Running | None = None
    try:
        _clear_the_way(settings)
        with console.status(f"starting the Prefect server on port {port}…"):
            server, api_url, logs = ups.start_server(settings, port)
            running = ups.Running(api_url, server, None, logs)
            prefect_env.advertise(settings, running.stack(kind, ready=False))
            if kind == "background":
                prefect_env.advertise(settings, running.stack(kind, ready=True))
                console.print(
                    f"Prefect server at {escape(api_url)}, stops after {idle_stop:.0f} s idle"
                )
                reason = ups.supervise(running, idle_stop, prefect_env.state_file(settings))
                if reason is not None:
                    raise fail(f"{reason}; see {logs}", code=1)
                console.print("idle: stopping")
                return
            applied = _applied_to(api_url)
            _crash_unfinished(api_url, "the adref up that ran it stopped before it finished")
            if worker:
                running.worker = ups.start_worker(settings, api_url, logs)
                prefect_env.advertise(settings, running.stack(kind, ready=False))
        if viewer_url:
            with console.status(f"starting the viewer at {escape(viewer_url)}…"):
                running.viewer = ups.start_viewer(settings, viewer_url, logs)
        prefect_env.advertise(settings, running.stack(kind, ready=True))
        console.print(_table(applied, api_url, viewer_url))
        console.print(
            f"logs in {escape(str(logs))}\n"
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
            _shut_down(running, kind)
    console.print("stopped")


@app.command()
def down(
    now: bool = typer.Option(
        False, "--now", help="Don't wait for runs on the CLI's background server (they fail)."
    ),
) -> None:
    """Stop what `adref up --detach` (or the CLI's background server) started; waits until gone."""
    settings = get_settings()
    found = prefect_env.read_stack(settings)
    if found is not None and found.kind == "background" and not now:
        _wait_for_runs(found)
    result = stack.stop_running(settings)
    if result is None:
        console.print("nothing running")
        return
    found, stopped = result
    what = "the CLI's background server" if found.kind == "background" else "adref up"
    where = found.api_url.removesuffix("/api")
    parts = stopped.describe()
    detail = "" if parts == "the server" else f": {escape(parts)}"  # its only part, named already
    console.print(f"stopped {what} at {escape(where)}{detail}")


def _wait_for_runs(found: prefect_env.Stack) -> None:
    """The background server's runs belong to commands in someone's terminal: stopping it under
    them would fail them half-way, so ``down`` lets them finish first."""
    import httpx  # lazy: keeps `adref --help` fast

    said = False
    while found.alive("supervisor"):
        try:
            count = idle.unfinished_runs(found.api_url)
        except (httpx.HTTPError, ValueError):
            return  # a server that does not answer has nothing to wait for
        if not count:
            return
        if not said:
            console.print(
                f"waiting for {count} run(s) on the CLI's background server to finish "
                "(`adref down --now` stops it at once, and they fail)"
            )
            said = True
        time.sleep(1.0)


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
        console.print(f"wrote {escape(str(write_yaml))} ({len(DEPLOYMENTS)} deployments)")
        return
    api_url = os.environ.get("PREFECT_API_URL") or prefect_env.running_api_url(get_settings())
    if not api_url:
        raise fail(
            "no Prefect server to deploy to: the embedded one lives only as long as a run. "
            "Start one with `adref up` (it deploys too), or set PREFECT_API_URL."
        )
    console.print(_table(_applied_to(api_url), api_url))
