"""The concurrency benchmark's CPU accounting: the floor it prints must be what the machine
spent, read from the processes themselves."""

from __future__ import annotations

import os
import subprocess
import sys

from adref.bench.concurrency import ConcurrencyBench, RunTimes, cpu_s

BURN = "import time\nwhile time.process_time() < 0.3: pass"


def test_cpu_of_a_process_counts_the_children_it_waited_for() -> None:
    before = cpu_s(os.getpid())
    subprocess.run([sys.executable, "-c", BURN], check=True)
    after = cpu_s(os.getpid())
    assert before is not None and after is not None
    # /proc counts whole clock ticks, sampled: 0.3 s of the child's CPU may read a tick short
    # (and 15.54 - 15.25 is 0.2899... in floating point).
    tick = 1 / os.sysconf("SC_CLK_TCK")
    assert after - before >= 0.3 - 2 * tick


def test_cpu_of_a_process_that_is_gone_is_unknown() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert cpu_s(child.pid) is None


def _bench(run_cpu: float | None, server_cpu: float | None, cores: int) -> ConcurrencyBench:
    run = RunTimes(wall_s=10.0, inside_s=8.0, ok=True)
    return ConcurrencyBench(
        latency_s=5.0,
        model_calls=10,
        one_by_one_s=50.0,
        at_once_s=20.0,
        one_by_one=[run] * 5,
        at_once=[run] * 5,
        cores=cores,
        run_cpu_s=run_cpu,
        server_cpu_s=server_cpu,
    )


def test_the_floor_spreads_five_runs_cpu_over_the_cores() -> None:
    # five runs of 3 + 1 CPU seconds on 2 cores: 10 s busy, one run took 10 s
    assert _bench(3.0, 1.0, cores=2).cpu_floor_ratio == 1.0
    assert _bench(3.0, 1.0, cores=4).cpu_floor_ratio == 0.5
    assert _bench(None, 1.0, cores=2).cpu_floor_ratio is None
