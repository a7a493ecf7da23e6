"""``adref worker``: this machine's worker for adref's pool, on a Prefect server elsewhere.

With workers on several machines (docs/scale-out.md) each one runs this. It becomes Prefect's
own process worker, started with what adref's runs need in their environment and an operator
could forget: the heartbeat frequency the zombie automation judges runs by, and adref's Prefect
defaults. Before that it checks, in one line each, that the server answers and holds the pool
(``adref deploy`` makes it), since a worker that cannot reach its server only logs retries.
"""

from __future__ import annotations

import base64
import os
import socket
import sys

import typer

from adref import prefect_env
from adref.cli.app import app, console, fail
from adref.cli.plain import escape
from adref.deployments.zombies import heartbeat_env
from adref.settings import get_settings


@app.command()
def worker(
    name: str = typer.Option(
        None, "--name", help="The worker's name in the Prefect UI. Default: this machine's name."
    ),
    limit: int = typer.Option(
        None,
        "--limit",
        min=1,
        help="Videos this machine analyses at once. Default: none of its own (the pool's "
        "limit, ADREF_MAX_CONCURRENT_VIDEOS, caps all machines together).",
    ),
) -> None:
    """Run a worker for adref's pool here, against the server PREFECT_API_URL names."""
    import httpx  # lazy: keeps `adref --help` fast

    settings = get_settings()
    api_url = os.environ.get("PREFECT_API_URL", "").rstrip("/")
    if not api_url:
        raise fail(
            "adref worker needs the Prefect server's address: set PREFECT_API_URL "
            "(e.g. http://prefect.internal:4200/api). On one machine `adref up` starts a "
            "worker itself."
        )
    pool = settings.work_pool
    try:
        answer = httpx.get(f"{api_url}/work_pools/{pool}", headers=_auth(), timeout=10)
    except httpx.HTTPError as exc:
        raise fail(
            f"the Prefect server at {api_url} does not answer ({type(exc).__name__}): start "
            "it, or correct PREFECT_API_URL"
        ) from None
    if answer.status_code == 404:
        raise fail(
            f"the Prefect server at {api_url} has no work pool {pool!r}: run "
            "`adref deploy` against it first"
        )
    if answer.status_code >= 400:
        raise fail(f"the Prefect server at {api_url} answered {answer.status_code} for the pool")
    name = name or socket.gethostname()
    env = {**prefect_env.defaults(settings), **os.environ, **heartbeat_env(settings)}
    args = ["worker", "start", "--pool", pool, "--type", "process", "--name", name]
    if limit:
        args += ["--limit", str(limit)]
    console.print(
        f"worker {escape(repr(name))} for pool {escape(repr(pool))} at {escape(api_url)}"
        f"{f', {limit} at once' if limit else ''}; heartbeats every {settings.heartbeat_s} s. "
        "Ctrl-C stops it.",
        highlight=False,
    )
    sys.stdout.flush()
    # Prefect's worker in this process's place: its signals, its exit status.
    os.execve(sys.executable, [sys.executable, "-m", "prefect", *args], env)


def _auth() -> dict[str, str]:
    """The credentials Prefect's own client would send (Prefect Cloud's key, or a server's
    basic-auth string); never printed."""
    if key := os.environ.get("PREFECT_API_KEY"):
        return {"Authorization": f"Bearer {key}"}
    if basic := os.environ.get("PREFECT_API_AUTH_STRING"):
        return {"Authorization": "Basic " + base64.b64encode(basic.encode()).decode()}
    return {}
