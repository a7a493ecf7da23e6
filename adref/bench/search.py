"""``adref bench search``: server time of each kind of search on a synthetic library.

The library (default 10,000 videos x 100 shots) is built once under a folder and reused. Each
kind of search runs over a spread of queries, warm (the first call of each kind, which opens the
index and maps its files, is left out and reported apart); p50 and p95 are of the timed calls.
The refresh after one more video is timed as the persist task runs it, after a real
``write_video`` of a 100-shot video, beside a whole rebuild (the baseline it avoids).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from statistics import quantiles

import numpy as np
from pydantic import BaseModel

from adref.bench import synthetic
from adref.categories import GENRES
from adref.search.index import SearchQuery, refresh, search
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse

TARGET_MS = 100.0
REFRESH_TARGET_S = 1.0


class Timing(BaseModel):
    name: str
    first_ms: float
    p50_ms: float
    p95_ms: float
    runs: int
    results: int  # median hits total, to see the queries did find things


class SearchBench(BaseModel):
    videos: int
    shots: int
    built_s: float
    rebuild_s: float
    timings: list[Timing]
    refresh_p50_s: float
    refresh_p95_s: float
    refreshes: int


def _p(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[q - 1]


def _time(name: str, settings: Settings, queries: list[SearchQuery]) -> Timing:
    t = time.perf_counter()
    search(settings, queries[0])
    first = (time.perf_counter() - t) * 1000
    times, totals = [], []
    for q in queries[1:]:
        t = time.perf_counter()
        page = search(settings, q)
        times.append((time.perf_counter() - t) * 1000)
        totals.append(page.total)
    return Timing(
        name=name,
        first_ms=first,
        p50_ms=_p(times, 50),
        p95_ms=_p(times, 95),
        runs=len(times),
        results=int(np.median(totals)),
    )


def run_search_bench(
    settings: Settings,
    videos: int,
    shots_per_video: int,
    runs: int = 40,
    refreshes: int = 5,
    on_step: Callable[[str], None] = print,
) -> SearchBench:
    root = settings.warehouse
    lib = synthetic.build(root, videos, shots_per_video, on_step)
    on_step("building the whole index (the baseline a refresh avoids) ...")
    whole = refresh(settings)
    rng = np.random.default_rng(5)
    words = synthetic.WORDS

    def pick(values: tuple[str, ...] | list[str]) -> str:
        return str(values[int(rng.integers(0, len(values)))])

    n = runs + 1
    genres = list(GENRES)
    texts = [SearchQuery(text=" ".join(pick(words) for _ in range(1 + i % 2))) for i in range(n)]
    facets = [
        SearchQuery(genres=(pick(genres),), aspects=(pick(["vertical", "square", "landscape"]),))  # type: ignore[arg-type]
        for _ in range(n)
    ]
    both = [
        SearchQuery(
            text=pick(words), moods=(pick(synthetic.MOODS),), owners=(pick(synthetic.OWNERS),)
        )
        for _ in range(n)
    ]
    colours = [
        SearchQuery(colour="#{:02x}{:02x}{:02x}".format(*rng.integers(0, 256, 3))) for _ in range(n)
    ]
    likes = [
        SearchQuery(
            like=(
                f"bench:{int(rng.integers(0, videos)):06d}",
                int(rng.integers(0, shots_per_video)),
            )
        )
        for _ in range(n)
    ]
    timings = []
    for name, queries in (
        ("text", texts),
        ("facet filter", facets),
        ("text + facets", both),
        ("colour", colours),
        ("more like this", likes),
    ):
        on_step(f"timing {name} ...")
        timings.append(_time(name, settings, queries))

    wh = Warehouse(root)
    seconds = []
    for i in range(refreshes):
        on_step(f"refresh after one more video ({i + 1}/{refreshes}) ...")
        wh.write_video(synthetic.one_more_video(i, shots_per_video))
        t = time.perf_counter()
        refresh(settings, [f"bench:extra-{i}"])
        seconds.append(time.perf_counter() - t)
    return SearchBench(
        videos=videos,
        shots=videos * shots_per_video,
        built_s=lib.built_s,
        rebuild_s=whole.seconds,
        timings=timings,
        refresh_p50_s=_p(seconds, 50),
        refresh_p95_s=_p(seconds, 95),
        refreshes=len(seconds),
    )
