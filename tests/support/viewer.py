"""A real `adref viewer` in a subprocess and Debian's Chromium, for the browser tests."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Browser, sync_playwright

from tests.support.http import unused_port

ADREF = str(Path(sys.executable).with_name("adref"))
CHROMIUM = "/usr/bin/chromium"


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADREF_"))}
    return env | {"ADREF_HOME": str(home), "COLUMNS": "200", **extra}


@dataclass
class Viewer:
    url: str
    home: Path
    proc: subprocess.Popen[str]


def start_viewer(env: dict[str, str], *args: str) -> Viewer:
    port = unused_port()
    proc = subprocess.Popen(
        [ADREF, "viewer", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the viewer exited: {proc.stdout and proc.stdout.read()}")
        try:
            httpx.get(f"{url}/search", timeout=2)
            return Viewer(url, Path(env["ADREF_HOME"]), proc)
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.terminate()
    raise AssertionError("the viewer did not answer within 60 s")


def stop_viewer(viewer: Viewer) -> None:
    viewer.proc.terminate()
    try:
        viewer.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        viewer.proc.kill()


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET a path exactly as written (HTTP clients normalise ``..`` away)."""
    conn = http.client.HTTPConnection(httpx.URL(url).host, httpx.URL(url).port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
