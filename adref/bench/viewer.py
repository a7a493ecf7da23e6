"""``adref bench viewer``: from Enter in the search box to the first page of results on screen.

A real ``adref viewer`` in a subprocess, Debian's Chromium driven by Playwright, the warehouse
the settings name (the demo's, after ``make demo``). Each round types a word from the library
and presses Enter, then the word that matches nothing, and times each until the result count
shown changes; beside it, the server time of the same ``search()`` in this process (the floor:
what is left is Panel's round trip and the browser's drawing). Medians of rounds count.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from statistics import median, quantiles

from pydantic import BaseModel

from adref.errors import InputError
from adref.search.index import SearchQuery, search
from adref.settings import Settings

TARGET_MS = 300.0
CHROMIUM = "/usr/bin/chromium"
NOTHING = "zzqxnothingmatches"
PLACEHOLDER = "words, tags, moods… (Enter)"


class ViewerBench(BaseModel):
    word: str
    results: int
    rounds: int
    browser_p50_ms: float
    browser_p95_ms: float
    server_p50_ms: float
    server_p95_ms: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _viewer(settings: Settings) -> Iterator[str]:
    import httpx

    port = _free_port()
    env = dict(os.environ) | {"ADREF_WAREHOUSE_DIR": str(settings.warehouse)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "adref", "viewer", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/search", timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise InputError(
                        "the viewer did not start", hint="run `adref viewer`"
                    ) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _p95(values: list[float]) -> float:
    return quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def pick_word(settings: Settings) -> tuple[str, int]:
    """A tag of the library that finds something, and how many videos it finds."""
    everything = search(settings, SearchQuery())
    if everything.total == 0:
        raise InputError(
            f"no videos in the warehouse at {settings.warehouse}",
            hint="run `make demo` (or `adref analyze FILE`) first",
        )
    tags = [tag for tag, _ in everything.facets.get("tag", ()) if tag.isalnum()]
    for word in tags or [h.title or "" for h in everything.hits]:
        found = search(settings, SearchQuery(text=word)).total
        if found:
            return word, found
    raise InputError("no word of the library finds it", hint="run `adref index`")


def run_viewer_bench(settings: Settings, rounds: int) -> ViewerBench:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise InputError("no Chromium at /usr/bin/chromium", hint="apt-get install chromium")
    word, results = pick_word(settings)
    server: list[float] = []
    for _ in range(rounds):
        for text in (word, NOTHING):
            start = time.perf_counter()
            search(settings, SearchQuery(text=text))
            server.append((time.perf_counter() - start) * 1000)
    browser_ms: list[float] = []
    with _viewer(settings) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{url}/search")
        box = page.get_by_placeholder(PLACEHOLDER)
        box.wait_for(timeout=30_000)
        count = page.locator("b", has_text=" result").first
        for _ in range(rounds + 1):  # the first round warms the session up and is left out
            times = []
            for text, shown in ((word, f"{results} result"), (NOTHING, "0 results")):
                box.fill(text)
                start = time.perf_counter()
                box.press("Enter")
                count.filter(has_text=shown).wait_for(timeout=10_000)
                times.append((time.perf_counter() - start) * 1000)
            browser_ms += times
        browser_ms = browser_ms[2:]
        browser.close()
    return ViewerBench(
        word=word,
        results=results,
        rounds=rounds,
        browser_p50_ms=median(browser_ms),
        browser_p95_ms=_p95(browser_ms),
        server_p50_ms=median(server),
        server_p95_ms=_p95(server),
    )
