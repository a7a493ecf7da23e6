"""A stop (Ctrl-C, a termination signal) that lands while DuckDB works is still the user's stop.

DuckDB ends the query with ``RuntimeError('Query interrupted')``; best-effort steps that catch
``Exception`` (the search refresh after a commit, the runs row, today's spend) took it for a
failure to log, and a run stopped in its last second went on to exit 0.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import duckdb
import pytest

from adref.errors import interruption
from adref.warehouse.catalog import Warehouse

# ~5 s here, against a signal sent after 0.3 s. Not endless: an interrupted query's worker
# threads may finish their share before the connection closes.
ENDLESS = "SELECT count(*) FROM range(30000000000)"


class Stop(BaseException):
    """What a termination handler raises (as Prefect's TerminationSignal is)."""


@contextmanager
def signal_during(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """SIGUSR1, handled by ``handler``, sent to this process a moment after the block starts."""
    previous = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGUSR1, previous)


def _raise(exc: BaseException) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise exc

    return handler


def test_a_handlers_stop_raised_mid_query_is_found_behind_duckdbs_error() -> None:
    stop = Stop("terminated")
    with (
        duckdb.connect() as con,
        signal_during(_raise(stop)),
        pytest.raises(RuntimeError) as caught,
    ):
        con.execute(ENDLESS)
    assert interruption(caught.value) is stop


def test_ctrl_c_mid_query_is_a_keyboard_interrupt_again() -> None:
    with (
        duckdb.connect() as con,
        signal_during(_raise(KeyboardInterrupt())),
        pytest.raises(RuntimeError) as caught,
    ):
        con.execute(ENDLESS)
    assert isinstance(interruption(caught.value), KeyboardInterrupt)


def test_a_failure_is_not_a_stop(tmp_path: Path) -> None:
    with pytest.raises(duckdb.Error) as caught:
        duckdb.connect().execute("SELECT * FROM no_such_table")
    assert interruption(caught.value) is None
    assert interruption(RuntimeError("something else")) is None


def test_a_stop_inside_a_warehouse_write_leaves_as_the_stop(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    wh.init()
    stop = Stop("terminated")

    def endless(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(ENDLESS)

    from adref.warehouse.write import run_in_transaction

    with signal_during(_raise(stop)), pytest.raises(Stop) as caught:
        run_in_transaction(wh, endless, "endless")
    assert caught.value is stop
