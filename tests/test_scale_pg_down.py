"""PostgreSQL stopped in the middle of a run (issue 16): the run fails with one clear line, and a
later run, PostgreSQL back, stores the video once with nothing of the failed run left.

The warehouse's catalog is on Debian's PostgreSQL started on loopback; its Parquet files are in
the home's warehouse folder (the bucket is not what this test is about; moto would only add
start-up). The
Prefect server stays on its own SQLite, as it would on another machine, so it can record the
failure. PostgreSQL is stopped at a named point, not after a sleep: a psql session holds DuckLake's
snapshot table, the run's persist writes its Parquet files and then waits there to commit, and the
test stops PostgreSQL (``pg_ctl stop -m fast``) once PostgreSQL shows that writer waiting.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import Result

from adref.settings import Settings
from adref.video.testclips import make_clip
from adref.warehouse.catalog import Warehouse
from tests.support.cli import invoke
from tests.support.scale import HALF_VIDEOS, Postgres, SnapshotHold, postgres
from tests.support.stopper import StopWhen

__all__ = ["postgres"]

pytestmark = pytest.mark.slow
SAFETY_S = 300.0  # reached only when the test is broken: the run never got to its commit
DOWN = "cannot reach the warehouse catalog"


def _errors(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def _count(settings: Settings, sql: str) -> int:
    with contextlib.closing(Warehouse.of(settings).connect(read_only=True)) as con:
        row = con.execute(sql).fetchone()
    return int(row[0]) if row else -1


def _final_states(api_since: datetime) -> list[tuple[str, str]]:
    """Each analyze-video flow run's final state since then: its type and message."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                expected_start_time=FlowRunFilterExpectedStartTime(after_=api_since)
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        )
    return [(r.state.type.value, r.state.message or "") for r in runs if r.state is not None]


@pytest.fixture
def database(postgres: Postgres) -> Iterator[str]:
    """A new database on the session's cluster, and the cluster running again after the test
    whatever happened (the other tests share it)."""
    yield postgres.new_database()
    if not postgres.running():
        postgres.start()


@pytest.mark.expected_error_log  # the failed run: Prefect and the flow log it
def test_postgres_stopped_mid_persist_fails_in_one_line_and_a_later_run_stores_the_video_once(
    prefect_api: str, postgres: Postgres, database: str, tmp_path: Path
) -> None:
    catalog = f"postgres:{postgres.conninfo(database)}"
    clip = make_clip("single", tmp_path / "pg-down.mp4", duration_s=2.0)
    secret = f"pg-{uuid.uuid4().hex}"  # libpq's password: trust auth never asks for it
    env = {
        "ADREF_HOME": str(tmp_path / "home"),
        "ADREF_WAREHOUSE_DIR": None,
        "ADREF_WAREHOUSE_CATALOG": catalog,
        "ADREF_TASK_RETRIES": "0",
        "PGPASSWORD": secret,
        "PREFECT_API_URL": prefect_api,
    }
    settings = Settings(home=tmp_path / "home", warehouse_catalog=catalog)
    Warehouse.of(settings).init()  # its tables commit a snapshot: made before the hold
    since = datetime.now(UTC)

    hold = SnapshotHold(postgres, database)
    try:
        # Stops PostgreSQL once a writer waits behind the held snapshot table: the writer's
        # session first, while the hold still holds (a fast shutdown ends every session at
        # once, and a writer whose lock came free as the hold's session ended could commit
        # first: seen once on a loaded machine), then the server.
        def stop_writer_then_server() -> None:
            for pid in hold.waiting():
                postgres.psql(f"select pg_terminate_backend({int(pid)})", database)
            postgres.stop()

        stopper = StopWhen(hold.waiting, stop_writer_then_server, safety_s=SAFETY_S)
        failed = invoke(["analyze", str(clip.path)], env)
        stopper.join()
        assert stopper.stopped.is_set(), "the run never waited to commit:\n" + failed.output
        # Still down: the next run does its stages from cache and fails at persist, in one line.
        again = invoke(["analyze", str(clip.path)], env)
    finally:
        hold.release()
        if not postgres.running():
            postgres.start()

    for result in (failed, again):
        assert result.exit_code == 2, result.output
        (line,) = _errors(result)
        assert DOWN in line, result.stderr
        assert "Traceback" not in result.output
        assert secret not in result.output
    states = _final_states(since)
    assert [kind for kind, _ in states] == ["FAILED", "FAILED"], states
    for _, message in states:
        assert DOWN in message and "\n" not in message and secret not in message, message

    # Back up: the failed run left nothing a reader can see (any Parquet file it wrote before the
    # commit is named by no snapshot; whether it wrote one yet depends on where the lock held it).
    assert _count(settings, "select count(*) from videos") == 0
    assert _count(settings, HALF_VIDEOS) == 0

    done = invoke(["analyze", str(clip.path)], env)
    assert done.exit_code == 0, done.output
    assert "7/8 tasks served from cache" in done.stdout, "only persist is done again"
    assert _count(settings, "select count(*) from videos") == 1
    assert _count(settings, "select count(*) from shots") == clip.shot_count
    assert _count(settings, HALF_VIDEOS) == 0
    # The failed runs' rows could not be written either: Prefect's states are their record.
    assert _count(settings, "select count(*) from runs") == 1
    assert _count(settings, "select count(*) from runs where status = 'completed'") == 1
    assert [kind for kind, _ in _final_states(since)][-1] == "COMPLETED"
    print(f"\nthe line a user sees: {_errors(failed)[0]}\nstill down: {_errors(again)[0]}")
    print(f"the flow runs' final states: {states}")
