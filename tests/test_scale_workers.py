"""Workers on two "machines" that share nothing but PostgreSQL and the bucket.

Real parts on loopback: Debian's PostgreSQL (holding both the warehouse's catalog and the Prefect
server's own database), moto's S3 server (the warehouse's Parquet files), a Prefect server started
as ``adref up`` starts it, adref's deployments applied to it, and two ``prefect worker`` processes
with homes of their own. The videos sit in one folder both can read (a shared mount, in life).
A third home reads the warehouse with ``adref sql``. Flow-run processes take 15-20 s to start
here: timeouts are generous, nothing is timed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adref.deployments import up as ups
from adref.deployments.apply import apply_deployments
from adref.runcard import process_identity, read_cards
from adref.settings import Settings, get_settings, reset_settings
from adref.video.testclips import make_clip
from adref.warehouse.catalog import Warehouse
from tests.support.http import unused_port
from tests.support.prefect_api import against, client_of
from tests.support.scale import (
    HALF_VIDEOS,
    Postgres,
    S3Server,
    ScaleSetup,
    SnapshotHold,
    new_setup,
    postgres,
    s3_server,
)

__all__ = ["postgres", "s3_server"]

pytestmark = pytest.mark.slow  # PostgreSQL, S3, a Prefect server and two workers

SAFETY_S = 600.0  # only reached when something is broken
WORKER_LIMIT = 3  # each machine's capacity: six runs cannot all go to one


@dataclass
class Machine:
    name: str
    env: dict[str, str]
    logs: Path
    worker: subprocess.Popen[bytes] | None = None

    @property
    def log_text(self) -> str:
        path = self.logs / "prefect-worker.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def ran(self, run_id: UUID) -> bool:
        """Whether the run's own process ran here (it logs its page's address when it starts);
        both workers may try to submit a run, and the one that loses says so and moves on."""
        return f"/runs/flow-run/{run_id}" in self.log_text


@dataclass
class Cluster:
    setup: ScaleSetup
    api_url: str
    inbox: Path
    base_env: dict[str, str]
    root: Path
    machines: dict[str, Machine] = field(default_factory=dict)

    def home_env(self, name: str) -> dict[str, str]:
        """The environment of one machine: its own home, the shared catalog, bucket and inbox."""
        home = self.root / name
        return {
            **self.base_env,
            "HOME": str(home),
            "ADREF_HOME": str(home / "adref"),
            "PREFECT_HOME": str(home / "prefect"),
            "PREFECT_API_URL": self.api_url,
        }

    def settings_of(self, env: dict[str, str]) -> Settings:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in env.items():
                mp.setenv(name, value)
            reset_settings()
            settings = get_settings()
        reset_settings()
        return settings


def _clean_environment() -> dict[str, str]:
    """This process's environment without anyone's adref, Prefect or vendor settings."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "ADREF_", "AWS_")) and not name.endswith("_API_KEY")
    }


@pytest.fixture(scope="module")
def cluster(
    postgres: Postgres, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    setup = new_setup(postgres, s3_server)
    root = tmp_path_factory.mktemp("machines")
    inbox = root / "shared-inbox"
    inbox.mkdir()
    base_env = {
        **_clean_environment(),
        **setup.env(),
        "ADREF_INPUT_DIRS": str(inbox),
        "ADREF_PROVIDER": "local",
        "ADREF_RETRY_DELAY_S": "0.1",
        "ADREF_SERVER": "embedded",
        # Cached stage results in the bucket: a run retried on another machine reuses them.
        "ADREF_RESULTS_PATH": f"s3://{setup.bucket}/results/",
    }
    prefect_db = postgres.new_database()
    server_env = {
        **base_env,
        "HOME": str(root / "server"),
        "ADREF_HOME": str(root / "server" / "adref"),
        # Prefect's own database on the same PostgreSQL: the server keeps no state on its disk.
        "PREFECT_API_DATABASE_CONNECTION_URL": (
            f"postgresql+asyncpg://postgres@127.0.0.1:{postgres.port}/{prefect_db}"
        ),
    }
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            mp.delenv(name)
        for name, value in server_env.items():
            mp.setenv(name, value)
        reset_settings()
        settings = get_settings()
        server, api_url, _ = ups.start_server(settings, unused_port())
        try:
            with against(api_url):
                apply_deployments(settings)
            Warehouse.of(settings).init()  # a reader may look before the first video lands
            mp.delenv("PREFECT_API_DATABASE_CONNECTION_URL")
            yield Cluster(setup, api_url, inbox, base_env, root)
        finally:
            ups.stop(server)
            reset_settings()


def _client(cluster: Cluster) -> AbstractContextManager[Any]:
    return client_of(cluster.api_url)


def start_machine(cluster: Cluster, name: str, **extra: str) -> Machine:
    """A worker with its own home, started as docs/scale-out.md says for another machine:
    ``adref worker`` with the shared settings and the server's address in the environment."""
    env = cluster.home_env(name) | extra
    logs = Path(env["HOME"]) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    machine = Machine(name, env, logs)
    with (logs / "prefect-worker.log").open("ab") as log:
        machine.worker = subprocess.Popen(
            [sys.executable, "-m", "adref", "worker", "--name", name, "--limit", str(WORKER_LIMIT)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    cluster.machines[name] = machine
    return machine


@contextmanager
def machines(cluster: Cluster, *names: str, **extra: str) -> Iterator[list[Machine]]:
    started = [start_machine(cluster, name, **extra) for name in names]
    try:
        yield started
    finally:
        for machine in started:
            ups.stop(machine.worker)


def adref_sql(cluster: Cluster, query: str) -> list[str]:
    """``adref sql`` from a third home that never ran anything: CSV lines after the header."""
    env = cluster.home_env("reader")
    done = subprocess.run(
        [sys.executable, "-m", "adref", "sql", query, "--format", "csv"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[1:]


def clips(cluster: Cluster, prefix: str, count: int, first: int = 0) -> list[Path]:
    """Tiny distinct videos in the shared folder: a size of their own makes each one new (the
    same pixels under another name are the same video, stored once)."""
    return [
        make_clip(
            "ad",
            cluster.inbox / f"{prefix}-{i}.mp4",
            width=160 + 16 * (first + i),
            height=96 + 8 * (first + i),
            duration_s=4.0,
        ).path
        for i in range(count)
    ]


def start_runs(client: Any, sources: list[Path]) -> list[UUID]:
    deployment = client.read_deployment_by_name("analyze-video/analyze-video")
    return [
        client.create_flow_run_from_deployment(
            deployment.id, parameters={"source": str(source), "provider": "local"}
        ).id
        for source in sources
    ]


def wait_for(what: str, ready: Callable[[], Any], cluster: Cluster) -> Any:
    deadline = time.monotonic() + SAFETY_S
    while time.monotonic() < deadline:
        if found := ready():
            return found
        time.sleep(1)
    logs = "\n".join(f"--- {m.name}\n{m.log_text[-3000:]}" for m in cluster.machines.values())
    raise AssertionError(f"{what}: not within {SAFETY_S} s; worker logs:\n{logs}")


def final_runs(client: Any, ids: list[UUID], cluster: Cluster) -> dict[UUID, Any]:
    def runs() -> dict[UUID, Any] | None:
        found = {i: client.read_flow_run(i) for i in ids}
        return found if all(r.state and r.state.is_final() for r in found.values()) else None

    result: dict[UUID, Any] = wait_for("every run final", runs, cluster)
    return result


def rows_written(cluster: Cluster, ids: list[UUID]) -> None:
    """Wait, workers still up, for each completed run's ``runs`` row: it is written while
    Prefect records the final state (``runbook.row_written``), so it can trail the state the
    API shows, and stopping the worker then would stop the run's process before it."""
    listed = ", ".join(f"'{i}'" for i in ids)
    query = f"select count(*) from runs where flow_run_id in ({listed})"
    wait_for(
        "every run's row written", lambda: adref_sql(cluster, query) == [str(len(ids))], cluster
    )


class Reader(threading.Thread):
    """Reads the warehouse from the third home over and over while the workers write: every
    read must see each video whole (its shots and analysis with it) or not at all."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.stop = threading.Event()
        self.reads: list[tuple[int, int]] = []  # (videos seen, half videos seen)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with Warehouse.of(self.settings).connect(read_only=True) as con:
                    (videos,) = con.execute("select count(*) from videos").fetchone() or (0,)
                    (half,) = con.execute(HALF_VIDEOS).fetchone() or (0,)
                self.reads.append((int(videos), int(half)))
                time.sleep(0.5)
        except BaseException as exc:
            self.error = exc


def test_six_videos_through_the_deployment_land_once_split_across_two_workers(
    cluster: Cluster,
) -> None:
    sources = clips(cluster, "six", 6)
    reader = Reader(cluster.settings_of(cluster.home_env("reader")))
    with _client(cluster) as client, machines(cluster, "machine-a", "machine-b") as (a, b):
        reader.start()
        ids = start_runs(client, sources)
        runs = final_runs(client, ids, cluster)
        rows_written(cluster, ids)
        reader.stop.set()
        reader.join(timeout=60)

    assert all(r.state.is_completed() for r in runs.values()), {
        str(i): (r.state.type, r.state.message)
        for i, r in runs.items()
        if not r.state.is_completed()
    }
    took = {m.name: [i for i in ids if m.ran(i)] for m in (a, b)}
    assert all(took.values()), f"runs by worker: {took}"
    assert set(took["machine-a"]) | set(took["machine-b"]) == set(ids)
    assert not set(took["machine-a"]) & set(took["machine-b"]), took

    titles = adref_sql(cluster, "select title, count(*) from videos group by title order by 1")
    assert titles == [f"six-{i},1" for i in range(6)], titles
    per_run = adref_sql(
        cluster,
        "select count(*), count(distinct flow_run_id) from runs where status = 'completed'",
    )
    assert per_run == ["6,6"], per_run

    assert reader.error is None, reader.error
    assert reader.reads, "the reader never read"
    assert all(half == 0 for _, half in reader.reads), reader.reads
    print(
        f"\nruns by worker: { {k: len(v) for k, v in took.items()} }; "
        f"{len(reader.reads)} reads saw {sorted({v for v, _ in reader.reads})} videos"
    )


def test_a_worker_killed_mid_persist_leaves_nothing_and_the_other_worker_completes_it(
    cluster: Cluster,
) -> None:
    from prefect.states import Crashed, Scheduled

    (source,) = clips(cluster, "killed", 1, first=6)
    postgres, database = cluster.setup.postgres, cluster.setup.database
    hold = SnapshotHold(postgres, database)
    try:
        before = set(cluster.setup.objects())
        with _client(cluster) as client:
            with machines(cluster, "machine-a") as (a,):
                (run_id,) = start_runs(client, [source])
                (writer,) = wait_for("persist waiting to commit", hold.waiting, cluster)
                uploaded = set(cluster.setup.objects()) - before
                assert any(k.endswith(".parquet") for k in uploaded), uploaded
                settings_a = cluster.settings_of(a.env)
                (card,) = [
                    c for c in read_cards(settings_a.work_dir) if c.flow_run_id == str(run_id)
                ]
                # A lost machine: the worker and the run's process die at once, saying nothing.
                assert a.worker is not None
                os.killpg(a.worker.pid, signal.SIGKILL)
                os.kill(card.pid, signal.SIGKILL)
                a.worker.wait()
                wait_for(
                    "the run's process gone", lambda: process_identity(card.pid) is None, cluster
                )
            hold.release()
            # The killed writer's session ends without its commit once it gets the table.
            wait_for(
                "the killed writer's session gone",
                lambda: (
                    not postgres.psql(
                        f"select pid from pg_stat_activity where pid = {writer}", database
                    ).strip()
                ),
                cluster,
            )
            seen = adref_sql(cluster, "select count(*) from videos where title = 'killed-0'")
            assert seen == ["0"], "no part of the killed run's video is visible"
            assert adref_sql(cluster, HALF_VIDEOS) == ["0"]

            # What the zombie automation does after the heartbeats stop (test_pool_limit.py
            # waits for it), then the UI's Retry: the run is for the next worker to take.
            client.set_flow_run_state(run_id, Crashed(message="no heartbeat"), force=True)
            retried = client.set_flow_run_state(
                run_id, Scheduled(name="AwaitingRetry", message="Retry from the UI")
            )
            assert retried.status.value == "ACCEPT", retried
            with machines(cluster, "machine-b") as (b,):
                (run,) = final_runs(client, [run_id], cluster).values()
                rows_written(cluster, [run_id])
            assert b.ran(run_id)
    finally:
        hold.release()

    assert run.state.is_completed(), (run.state.type, run.state.message)
    assert adref_sql(cluster, "select count(*) from videos where title = 'killed-0'") == ["1"]
    assert adref_sql(cluster, HALF_VIDEOS) == ["0"]
    (row,) = adref_sql(
        cluster,
        f"select status, tasks, cache_hits, persist_s > 0 from runs where flow_run_id = '{run_id}'",
    )
    status, tasks, hits, persisted = row.split(",")
    # Every stage before persist comes from machine A's results in the bucket; persist runs.
    assert (status, int(hits), persisted) == ("completed", int(tasks) - 1, "True"), row
    print(f"\nretried on machine B: {row}")


@pytest.mark.parametrize("retries", ["2", "0"], ids=["retried", "no-retries"])
def test_postgres_briefly_down_under_a_deployment_run(cluster: Cluster, retries: str) -> None:
    """PostgreSQL holds the catalog and the Prefect server's own database. It stops while a
    deployment run waits to commit, and starts again at once. Retried, persist stores the video
    once and the run completes; without retries the run fails with the catalog's one line, and
    the server, back on its database, records that."""
    (source,) = clips(cluster, f"blip{retries}", 1, first=7 + int(retries))
    postgres, database = cluster.setup.postgres, cluster.setup.database
    hold = SnapshotHold(postgres, database)
    try:
        with _client(cluster) as client:
            env = {"ADREF_RETRY_DELAY_S": "5", "ADREF_TASK_RETRIES": retries}
            with machines(cluster, f"machine-{retries}", **env) as (machine,):
                (run_id,) = start_runs(client, [source])
                wait_for("persist waiting to commit", hold.waiting, cluster)
                postgres.stop()  # fast: the held session, the writer's, the server's, all end
                postgres.start()
                hold.release()
                (run,) = final_runs(client, [run_id], cluster).values()
                attempts = sum(
                    t.run_count
                    for t in client.read_task_runs()
                    if t.flow_run_id == run_id and t.name.startswith("persist")
                )
    finally:
        hold.release()
        if not postgres.running():
            postgres.start()

    assert machine.ran(run_id)
    title = f"select count(*) from videos where title = 'blip{retries}-0'"
    if retries == "0":
        assert run.state.is_failed(), (run.state.type, run.state.message)
        assert "cannot reach the warehouse catalog" in (run.state.message or "")
        assert "Nothing was committed" in (run.state.message or "")
        assert attempts == 1 and adref_sql(cluster, title) == ["0"]
    else:
        assert run.state.is_completed(), (run.state.type, run.state.message)
        assert attempts == 2 and adref_sql(cluster, title) == ["1"]
    assert adref_sql(cluster, HALF_VIDEOS) == ["0"]
