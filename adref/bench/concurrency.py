"""``adref bench concurrency``: 5 videos one after another, then 5 at once through the pool.

Both halves go the way production runs go: a Prefect server and a process worker started as
``adref up`` starts them, the deployments applied, ``run_deployment`` per video, the model a
local stand-in with a fixed latency. Each half has videos of its own (same drawing, another
encoding), so neither reuses the other's cached stages.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

from pydantic import BaseModel

from adref.bench.fake_model import FakeModelServer
from adref.deployments import up as ups
from adref.deployments.apply import apply_deployments
from adref.settings import get_settings, reset_settings
from adref.video.decode import usable_cores
from adref.video.testclips import make_clip

VIDEOS = 5


class RunTimes(BaseModel):
    wall_s: float  # from asking for the run until Prefect records its end
    inside_s: float  # the run's time in Running (the flow itself)
    ok: bool


class ConcurrencyBench(BaseModel):
    latency_s: float
    model_calls: int
    one_by_one_s: float
    at_once_s: float
    one_by_one: list[RunTimes]
    at_once: list[RunTimes]
    cores: int
    run_cpu_s: float | None = None  # per run, one after another: its process and the worker
    server_cpu_s: float | None = None  # per run: the Prefect server answering it

    @property
    def one_s(self) -> float:
        return self.one_by_one_s / len(self.one_by_one)

    @property
    def ratio(self) -> float:
        """Five at once against one run alone (target: <= 1.3)."""
        return self.at_once_s / self.one_s

    @property
    def overhead_s(self) -> float:
        return median(r.wall_s - r.inside_s for r in self.one_by_one + self.at_once)

    @property
    def cpu_floor_ratio(self) -> float | None:
        """Five runs' CPU time spread over every core, against one run's wall time: no
        scheduling can take five at once below this on this machine."""
        if self.run_cpu_s is None or self.server_cpu_s is None:
            return None
        busy = len(self.at_once) * (self.run_cpu_s + self.server_cpu_s) / self.cores
        return busy / self.one_s


def cpu_s(pid: int) -> float | None:
    """CPU seconds of a process and of its children it has waited for (Linux's /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return sum(int(t) for t in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(client: Any, ids: list[Any]) -> list[RunTimes]:
    while True:
        runs = [client.read_flow_run(i) for i in ids]
        if all(r.state and r.state.is_final() for r in runs):
            break
        time.sleep(0.25)
    return [
        RunTimes(
            wall_s=(r.end_time - r.created).total_seconds(),
            inside_s=r.total_run_time.total_seconds(),
            ok=bool(r.state and r.state.is_completed()),
        )
        for r in runs
    ]


def run_concurrency_bench(
    latency_s: float = 5.0, on_step: Callable[[str], None] = lambda _: None
) -> ConcurrencyBench:
    home = Path(tempfile.mkdtemp(prefix="adref-bench-concurrency-"))
    inbox = home / "inbox"
    inbox.mkdir()
    on_step(f"making {2 * VIDEOS} videos ...")
    videos = [inbox / f"ad{i}.mp4" for i in range(2 * VIDEOS)]
    for i, path in enumerate(videos):
        make_clip("ad", path, crf=18 + i)
    with FakeModelServer(latency_s) as fake:
        os.environ.update(
            ADREF_HOME=str(home),
            ADREF_PROVIDER="openai",
            ADREF_OPENAI_API_KEY="sk-bench",
            ADREF_OPENAI_BASE_URL=fake.base_url,
            ADREF_PROVIDER_CONCURRENCY=str(VIDEOS),  # the model limit must not be the bottleneck
            ADREF_MAX_COST_PER_RUN_USD="1000",
            ADREF_MAX_COST_PER_DAY_USD="100000",
            ADREF_INPUT_DIRS=str(inbox),
        )
        os.environ.pop("ADREF_ALERT_WEBHOOK_URL", None)
        reset_settings()
        settings = get_settings()
        on_step("starting a Prefect server and a worker ...")
        server, api_url, logs = ups.start_server(settings, _free_port())
        worker = None
        try:
            # lazy: Prefect reads its settings when imported
            from prefect.client.orchestration import get_client
            from prefect.deployments import run_deployment
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings(updates={PREFECT_API_URL: api_url}):
                apply_deployments(settings)
                worker = ups.start_worker(settings, api_url, logs)

                def start(video: Path) -> Any:
                    run = run_deployment(
                        "analyze-video/analyze-video",
                        parameters={"source": str(video), "provider": "openai"},
                        timeout=0,
                    )
                    return run.id  # type: ignore[union-attr]

                with get_client(sync_client=True) as client:
                    one_by_one: list[RunTimes] = []
                    cpu_before = cpu_s(worker.pid), cpu_s(server.pid)
                    began = time.perf_counter()
                    for n, video in enumerate(videos[:VIDEOS], 1):
                        on_step(f"one after another: run {n} of {VIDEOS} ...")
                        one_by_one += _wait(client, [start(video)])
                    one_by_one_s = time.perf_counter() - began
                    cpu_after = cpu_s(worker.pid), cpu_s(server.pid)
                    on_step(f"{VIDEOS} at once ...")
                    began = time.perf_counter()
                    ids = [start(video) for video in videos[VIDEOS:]]
                    at_once = _wait(client, ids)
                    at_once_s = time.perf_counter() - began
        finally:
            ups.stop(worker)
            ups.stop(server)
        return ConcurrencyBench(
            latency_s=latency_s,
            model_calls=fake.calls,
            one_by_one_s=one_by_one_s,
            at_once_s=at_once_s,
            one_by_one=one_by_one,
            at_once=at_once,
            cores=usable_cores(),
            run_cpu_s=_per_run(cpu_before[0], cpu_after[0]),
            server_cpu_s=_per_run(cpu_before[1], cpu_after[1]),
        )


def _per_run(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else (after - before) / VIDEOS
