"""The pool's limit of five, proven with real processes, and a worker killed mid-run.

One Prefect server process for the module, started, deployed and given workers by the same
functions ``adref up`` uses. Deployment runs analyse with the ``openai`` provider pointed at a
local fake whose gate holds their model calls: five runs are held there together while the other
three wait for a slot, and a run is killed while its call is held (a named point, not a sleep).
Flow-run processes take 15-20 s to start here: timeouts are generous, nothing is timed.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adref.crashed import crash_dead_runs
from adref.deployments import up as ups
from adref.deployments.apply import apply_deployments
from adref.deployments.zombies import NAME as ZOMBIE_AUTOMATION
from adref.runcard import process_identity, read_cards
from adref.settings import Settings, get_settings, reset_settings
from adref.video.testclips import make_clip
from adref.warehouse.catalog import Warehouse
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_vendor import Reply, sample_answer
from tests.support.gate import Gate
from tests.support.http import unused_port
from tests.support.prefect_api import against, client_of

pytestmark = pytest.mark.slow  # a Prefect server process, process workers, SIGKILL

SAFETY_S = 900.0  # only reached when something is broken
HEARTBEAT_S = 30  # Prefect's shortest
ZOMBIE_AFTER_S = 60


@dataclass
class Stack:
    api_url: str
    settings: Settings
    home: Path
    logs: Path
    fake: FakeOpenAI


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("pool-limit") / "home"
    with FakeOpenAI() as fake, pytest.MonkeyPatch.context() as mp:
        fake.script.default = Reply.json(sample_answer(groups=3))
        # The server, the workers and their runs inherit this process's environment.
        for name in list(os.environ):
            if name.startswith(("PREFECT_", "ADREF_")) or name.endswith("_API_KEY"):
                mp.delenv(name)
        for name, value in {
            "ADREF_HOME": str(home),
            "ADREF_ALLOW_PRIVATE_URLS": "true",  # the fake is on loopback
            "ADREF_RETRY_DELAY_S": "0.1",
            "ADREF_PROVIDER": "openai",
            "ADREF_OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": "sk-test-pool-limit",
            "ADREF_PROVIDER_TIMEOUT_S": str(SAFETY_S),  # a held call is not a slow vendor
            "ADREF_PROVIDER_CONCURRENCY": "8",  # the pool's limit is what is measured
            "ADREF_HEARTBEAT_S": str(HEARTBEAT_S),
            "ADREF_ZOMBIE_AFTER_S": str(ZOMBIE_AFTER_S),
        }.items():
            mp.setenv(name, value)
        reset_settings()
        settings = get_settings()
        server, api_url, logs = ups.start_server(settings, unused_port())
        try:
            with against(api_url):
                applied = apply_deployments(settings)
            assert applied.pool.concurrency_limit == 5
            yield Stack(api_url, settings, home, logs, fake)
        finally:
            if fake.gate is not None:
                fake.gate.open()
            ups.stop(server)
            reset_settings()


def _client(stack: Stack) -> AbstractContextManager[Any]:
    return client_of(stack.api_url)


@contextmanager
def _worker(stack: Stack) -> Iterator[subprocess.Popen[bytes]]:
    worker = ups.start_worker(stack.settings, stack.api_url, stack.logs)
    try:
        yield worker
    finally:
        ups.stop(worker)


def _inbox_clip(stack: Stack, name: str, kind: str, width: int, height: int) -> Path:
    inbox = stack.settings.input_folders[0]
    return make_clip(kind, inbox / f"{name}.mp4", width=width, height=height).path


def _start(client: Any, sources: list[Path]) -> list[UUID]:
    deployment = client.read_deployment_by_name("analyze-video/analyze-video")
    return [
        client.create_flow_run_from_deployment(
            deployment.id, parameters={"source": str(source), "provider": "openai"}
        ).id
        for source in sources
    ]


def _wait(what: str, ready: Any, stack: Stack, timeout: float = SAFETY_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := ready():
            return found
        time.sleep(1)
    log = (stack.logs / "prefect-worker.log").read_text()[-4000:]
    raise AssertionError(f"{what}: not within {timeout} s; worker log:\n{log}")


def _final(client: Any, ids: list[UUID], stack: Stack) -> dict[UUID, Any]:
    def runs() -> dict[UUID, Any] | None:
        found = {i: client.read_flow_run(i) for i in ids}
        return found if all(r.state and r.state.is_final() for r in found.values()) else None

    result: dict[UUID, Any] = _wait("every run final", runs, stack)
    return result


def _state_at(states: list[Any], moment: datetime) -> Any:
    before = [s for s in states if s.timestamp <= moment]
    return before[-1] if before else None


def _running_spans(states: list[Any]) -> list[tuple[datetime, datetime]]:
    """When a run was Running, from its state history (each span ends at the next state)."""
    ordered = sorted(states, key=lambda s: s.timestamp)
    return [
        (state.timestamp, after.timestamp)
        for state, after in itertools.pairwise(ordered)
        if state.is_running()
    ]


def _query(stack: Stack, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with Warehouse(stack.settings.warehouse).connect(read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_five_run_at_once_and_the_others_wait(stack: Stack) -> None:
    shapes = [("single", 256, 144), ("rapid", 256, 144), ("vfr", 256, 144), ("ad", 256, 144)]
    sources = [
        _inbox_clip(stack, f"limit-{i}", kind, width + 32 * (i // 4), height + 18 * (i // 4))
        for i, (kind, width, height) in enumerate(shapes * 2)
    ]
    stack.fake.gate = gate = Gate(open_at=5)
    with _client(stack) as client, _worker(stack):
        began = time.monotonic()
        ids = _start(client, sources)
        runs = _final(client, ids, stack)
        took = time.monotonic() - began
        histories = {i: client.read_flow_run_states(i) for i in ids}

    assert all(r.state.is_completed() for r in runs.values()), {
        str(i): (r.state.type, r.state.message) for i, r in runs.items()
    }
    spans = {i: _running_spans(states) for i, states in histories.items()}
    assert all(len(s) == 1 for s in spans.values()), spans
    moments = sorted(
        [(start, 1) for ((start, _),) in spans.values()]
        + [(end, -1) for ((_, end),) in spans.values()],
        key=lambda m: (m[0], m[1]),  # a run ending at the instant another starts is not both
    )
    running, peak, peak_at = 0, 0, None
    for moment, step in moments:
        running += step
        if running > peak:
            peak, peak_at = running, moment
    assert peak == 5, f"at most {peak} Running at once"
    assert peak_at is not None
    waiting = {
        i: _state_at(states, peak_at)
        for i, states in histories.items()
        if not spans[i][0][0] <= peak_at < spans[i][0][1]
    }
    assert len(waiting) == 3
    assert {s.type.value for s in waiting.values()} <= {"SCHEDULED", "PENDING"}, {
        str(i): s.name for i, s in waiting.items()
    }
    assert gate.most_waiting == 5, "five model calls were held at the fake together"
    assert gate.arrived == 8
    assert _query(stack, "select count(*) from videos") == [(8,)]
    names = sorted(s.name for s in waiting.values())
    print(
        f"\n8 runs through the pool of 5 in {took:.0f} s; peak {peak} Running; "
        f"waiting at the peak: {names}"
    )


def test_a_killed_worker_s_run_is_crashed_then_retried_from_cache(stack: Stack) -> None:
    from prefect.states import Scheduled

    source = _inbox_clip(stack, "killed", "ad", 320, 180)
    stack.fake.gate = gate = Gate()  # holds every call until the test opens it
    with _client(stack) as client:
        assert [a.name for a in client.read_automations_by_name(ZOMBIE_AUTOMATION)] == [
            ZOMBIE_AUTOMATION
        ]
        with _worker(stack) as worker:
            (run_id,) = _start(client, [source])
            assert gate.wait_arrived(1, SAFETY_S), "the run's model call never came"
            (card,) = [
                c for c in read_cards(stack.settings.work_dir) if c.flow_run_id == str(run_id)
            ]
            assert client.read_flow_run(run_id).state.is_running()
            # A lost machine: the worker and the run's process die at once, saying nothing.
            os.killpg(worker.pid, signal.SIGKILL)
            os.kill(card.pid, signal.SIGKILL)
            worker.wait()
            _wait("the run's process gone", lambda: process_identity(card.pid) is None, stack)

        crashed = _wait(
            "the run marked crashed",
            lambda: (r := client.read_flow_run(run_id)).state.is_crashed() and r,
            stack,
        )
        assert "no heartbeat" in (crashed.state.message or ""), crashed.state.message

        # The UI's Retry: the run is scheduled again, for the next worker to take.
        retried = client.set_flow_run_state(
            run_id, Scheduled(name="AwaitingRetry", message="Retry from the UI")
        )
        assert retried.status.value == "ACCEPT", retried
        with _worker(stack):
            assert gate.wait_arrived(2, SAFETY_S), "the retried run's model call never came"
            # Any adref command settles dead runs' cards first: the dead attempt's card must not
            # crash the live retry of the same flow run.
            assert crash_dead_runs(stack.settings) == []
            assert client.read_flow_run(run_id).state.is_running()
            gate.open()
            (run,) = _final(client, [run_id], stack).values()
        tasks = client.read_task_runs()

    assert run.state.is_completed(), (run.state.type, run.state.message)
    ((video_id,),) = _query(stack, "select video_id from videos where title = 'killed'")
    assert _query(stack, "select count(*) from videos where video_id = ?", video_id) == [(1,)]
    assert _query(stack, "select count(*) from analyses where video_id = ?", video_id) == [(1,)]
    rows = _query(
        stack,
        "select status, tasks, cache_hits from runs where flow_run_id = ?",
        str(run_id),
    )
    # resolve, fetch, detect, text, speech and group come from the killed attempt's cache; analyze
    # and persist run.
    assert rows == [("completed", 8, 6)], rows
    ours = sorted(
        (t for t in tasks if t.flow_run_id == run_id), key=lambda t: t.expected_start_time
    )
    stages = {t.name.split("-")[0] for t in ours}
    assert {"detect", "group"} <= stages, stages
    second = [t for t in ours if t.name.startswith(("detect-", "group-"))][-2:]
    assert [t.state.name for t in second] == ["Cached", "Cached"], [
        (t.name, t.state.name) for t in ours
    ]
