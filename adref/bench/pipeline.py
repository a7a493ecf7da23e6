"""``adref bench pipeline``: the whole local flow beside decoding alone, in one process.

Everything is measured in the same run against baselines measured in that run, because these
machines are shared and noisy: ratios, not absolute times, are what the targets are about.
Prefect's server start is measured apart (a trivial flow run first), so the flow figures are
the steady state a worker sees.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

from pydantic import BaseModel

from adref import prefect_env
from adref.analysis import AnalysisRequest
from adref.bench.detect import decode_opencv, decode_pyav
from adref.ocr.params import TextParams
from adref.settings import get_settings, reset_settings
from adref.video.params import DetectParams

SETTLE_S = 1.0
FLOW_TASKS = (
    8  # the analyze flow's: resolve, download, detect, text, speech, group, analyze, persist
)


class PipelineBench(BaseModel):
    video: str
    decode_s: float
    server_start_s: float
    cold_s: float  # the first flow run of a fresh process: one-time imports and loads included
    steady_s: float  # every stage recomputed in a warm process, as a worker does for each new video
    # (decode only, flow) measured back to back, so each ratio sees the same machine load
    steady_pairs: list[tuple[float, float]] = []
    stages: dict[str, float]  # of the best steady run
    plain_s: float  # the same stages as plain function calls, no Prefect
    warm_cache_hits: int
    warm_tasks: int
    # (empty flow, warm re-run) measured back to back, alternating
    warm_pairs: list[tuple[float, float]]

    @property
    def cold_ratio(self) -> float:
        return self.cold_s / self.decode_s

    @property
    def steady_ratios(self) -> list[float]:
        return [flow / decode for decode, flow in self.steady_pairs]

    @property
    def steady_ratio(self) -> float:
        """The median of the paired ratios: robust to a neighbour's burst during one run."""
        if not self.steady_pairs:
            return self.steady_s / self.decode_s
        return median(self.steady_ratios)

    @property
    def warm_ratios(self) -> list[float]:
        return [warm / empty for empty, warm in self.warm_pairs]

    @property
    def warm_ratio(self) -> float:
        """The median of the paired ratios. Both runs last a few tenths of a second, mostly
        waiting on the Prefect server, so one pair's ratio swings by ±0.3 with the server's
        backlog; the best of each side would pick two unrelated lucky moments."""
        return median(self.warm_ratios)

    @property
    def warm_s(self) -> float:
        return median(warm for _, warm in self.warm_pairs)

    @property
    def empty_s(self) -> float:
        return median(empty for empty, _ in self.warm_pairs)

    @property
    def prefect_overhead_s(self) -> float:
        return max(0.0, self.steady_s - self.plain_s)


def _best(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _plain_pipeline(video: Path, home: Path) -> float:
    """The stages as their tasks' own functions (``Task.fn``), for Prefect's overhead by
    difference: the same work the flow's tasks do, search refresh included."""
    # lazy: the tasks import Prefect, which reads its settings when imported (configured first)
    from adref.speech.params import SpeechParams
    from adref.tasks import analyze, detect, download, group, persist, speech, text

    settings = get_settings().model_copy(update={"warehouse_dir": home / "plain-warehouse"})
    started = time.perf_counter()
    resolved = download.resolve.fn(str(video), settings)
    got = download.fetch.fn(resolved, home / "plain-work", settings)
    params = DetectParams.from_settings(settings)
    detected = detect.detect.fn(got.path, got.content_hash, params)
    texts = text.read_text.fn(got.path, detected, TextParams.from_settings(settings))
    heard = speech.transcribe.fn(
        got.path,
        got.content_hash,
        SpeechParams.from_settings(settings),
        home / "plain-work",
        settings,
    )
    grouping = group.group.fn(detected, settings.granularity, 10)
    request = AnalysisRequest(
        meta=got.meta,
        stream=detected.stream,
        shots=detected.shots,
        grouping=grouping,
        texts=texts.texts,
    )
    analysis = analyze.analyze.fn("local", request, settings).analysis
    persist.persist.fn(
        got.meta, got, detected, texts, heard, grouping, analysis, None, [], settings
    )
    return time.perf_counter() - started


def bench_pipeline(
    video: Path, repeat: int = 3, start_prefect: Callable[[], None] | None = None
) -> PipelineBench:
    """``start_prefect`` points Prefect at the bench's own temporary home, so it must not have
    run before: Prefect's database and cached results would go to the user's home."""
    video = video.resolve()
    decode_s = min(
        _best(lambda: decode_pyav(video), repeat), _best(lambda: decode_opencv(video), repeat)
    )
    with tempfile.TemporaryDirectory(prefix="adref-bench-") as tmp:
        home = Path(tmp)
        os.environ["ADREF_HOME"] = str(home)
        os.environ.pop("ADREF_WAREHOUSE_DIR", None)
        reset_settings()
        (start_prefect or (lambda: prefect_env.configure(get_settings())))()
        # lazy: Prefect reads its settings when imported, so only after they are set above
        from prefect import flow, task

        from adref.flows.analyze_video import analyze_video

        # The warm re-run's tasks are all cache hits, so the empty flow's are too: what is
        # left between the two is adref's own work, not Prefect's cache lookups.
        @task(
            name="noop", cache_key_fn=lambda _, p: f"adref-bench-noop-{p['i']}", persist_result=True
        )
        def noop(i: int) -> int:
            return i

        @flow(name="adref-bench-empty")
        def empty_flow() -> None:
            for i in range(FLOW_TASKS):
                noop(i)

        try:
            with prefect_env.in_process_run():
                return _measure(video, home, decode_s, empty_flow, analyze_video, repeat)
        finally:
            reset_settings()


def _measure(
    video: Path,
    home: Path,
    decode_s: float,
    empty_flow: Callable[[], None],
    analyze_video: Callable[..., Any],
    repeat: int,
) -> PipelineBench:
    server_start_s = _best(empty_flow, 1)
    plain_s = _plain_pipeline(video, home)
    started = time.perf_counter()
    cold = analyze_video(source=str(video))
    cold_s = time.perf_counter() - started

    steady_s, steady = float("inf"), cold
    pairs: list[tuple[float, float]] = []
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        decode_pyav(video)
        decoded = time.perf_counter() - started
        started = time.perf_counter()
        run = analyze_video(source=str(video), refresh=True)
        pairs.append((decoded, took := time.perf_counter() - started))
        if took < steady_s:
            steady_s, steady = took, run
    plain_s = min(plain_s, _plain_pipeline(video, home))
    # Warm runs and empty flows are short and noisy: take more of them.
    warm = cold

    def rerun() -> float:
        nonlocal warm
        # A run starting while the server still writes the last one's events can meet SQLite's
        # "database is locked" (a 503 and a ~2 s client retry): start each on a settled server.
        time.sleep(SETTLE_S)
        started = time.perf_counter()
        warm = analyze_video(source=str(video))
        return time.perf_counter() - started

    def empty() -> float:
        time.sleep(SETTLE_S)
        return _best(empty_flow, 1)

    warm_pairs: list[tuple[float, float]] = []
    for i in range(quick_runs(repeat)):
        # Interleaved, so both see the same conditions; which goes first alternates, so
        # neither always meets the other's backlog.
        if i % 2:
            empty_s = empty()
            warm_s = rerun()
        else:
            warm_s = rerun()
            empty_s = empty()
        warm_pairs.append((empty_s, warm_s))
    return PipelineBench(
        video=str(video),
        decode_s=decode_s,
        server_start_s=server_start_s,
        cold_s=cold_s,
        steady_s=steady_s,
        steady_pairs=pairs,
        stages={s.stage: s.seconds for s in steady.stages},
        plain_s=plain_s,
        warm_cache_hits=warm.cache_hits,
        warm_tasks=warm.tasks,
        warm_pairs=warm_pairs,
    )


def quick_runs(repeat: int) -> int:
    """How many (warm re-run, empty flow) pairs go with ``repeat`` new-video runs."""
    return 4 * max(1, repeat) + 1
