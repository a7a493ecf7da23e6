"""The monitoring figures the viewer's Stats page shows, read from ``runs`` and ``analyses``.

Plain functions returning plain data, so the page only draws. Days are UTC days of a run's
start. Spend comes from ``runs`` (what each run's calls cost, failed runs included, cached ones
at 0), so a call is counted once; ``analyses`` says how many analyses each provider made.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from adref.progress import STAGES
from adref.warehouse.catalog import Warehouse


@dataclass(frozen=True)
class Day:
    day: date
    runs: int
    completed: int
    failed: int  # failed, crashed or cancelled
    videos: int  # distinct videos a completed run analysed that day
    tasks: int
    cache_hits: int


@dataclass(frozen=True)
class StageTime:
    """Median seconds of a stage over the completed runs that ran it (its time above 0), and
    over those of them with no cache hit: what the stage costs when it really works."""

    stage: str
    median_s: float | None
    runs: int
    median_uncached_s: float | None
    uncached_runs: int


@dataclass(frozen=True)
class ProviderSpend:
    provider: str
    runs: int
    analyses: int  # rows in ``analyses`` made by this provider
    tokens_in: int
    tokens_out: int
    cost_usd: float


@dataclass(frozen=True)
class DaySpend:
    day: date
    provider: str
    tokens_in: int
    tokens_out: int
    cost_usd: float


@dataclass(frozen=True)
class FailureCause:
    cause: str
    runs: int
    last_error: str  # the newest full error line of this cause, as an example
    last_at: Any  # datetime (UTC) of that run


@dataclass
class Stats:
    days: list[Day] = field(default_factory=list)
    stages: list[StageTime] = field(default_factory=list)
    providers: list[ProviderSpend] = field(default_factory=list)
    spend_by_day: list[DaySpend] = field(default_factory=list)
    failures: list[FailureCause] = field(default_factory=list)

    @property
    def runs(self) -> int:
        return sum(d.runs for d in self.days)

    @property
    def cache_hit_rate(self) -> float | None:
        """Share of all tasks run that were served from Prefect's cache."""
        tasks = sum(d.tasks for d in self.days)
        return sum(d.cache_hits for d in self.days) / tasks if tasks else None

    @property
    def cost_usd(self) -> float:
        return sum(p.cost_usd for p in self.providers)


_DAY = "CAST(timezone('UTC', started_at) AS DATE)"
_SINCE = "($since IS NULL OR started_at >= CAST($since AS DATE))"

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_PATH = re.compile(r"(?<![\w.])(?:~|\.{1,2})?/\S*|\b[\w.-]+\.(?:mp4|mov|mkv|webm|avi|m4v|gif)\b")
_ID = re.compile(r"\b[a-z][\w-]*:[\w-]{4,}\b", re.IGNORECASE)  # youtube:xyz, sha256:abc
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def failure_cause(error: str | None, status: str) -> str:
    """The kind of failure an error line reports, without the details of one run.

    adref's error lines read ``what: why. hint.`` and an unexpected error ``ClassName:
    message``; the cause is the first clause (up to the first ``: `` or sentence end), with
    quoted names, URLs, paths, video ids and numbers replaced by placeholders, so runs that
    failed the same way on different videos count together. A run with no error line is
    counted by its status (``crashed``, ``cancelled``).
    """
    if not error or not error.strip():
        return f"{status} (no error recorded)"
    text = " ".join(error.split())
    text = _URL.sub("<url>", text)
    text = _QUOTED.sub("<name>", text)
    head = re.split(r": |\. |\.$", text, maxsplit=1)[0]
    head = _PATH.sub("<path>", head)
    head = _ID.sub("<id>", head)
    head = _NUMBER.sub("N", head)
    return head.strip() or text[:80]


def load_stats(wh: Warehouse, since: date | None = None) -> Stats:
    """Every figure of the Stats page, for runs started on or after ``since`` (all when None);
    empty when there is no warehouse yet."""
    if not wh.exists():
        return Stats()
    params = {"since": since}
    with contextlib.closing(wh.connect(read_only=True)) as con:
        return Stats(
            days=_days(con, params),
            stages=_stages(con, params),
            providers=_providers(con, params),
            spend_by_day=_spend_by_day(con, params),
            failures=_failures(con, params),
        )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[Any]:
    return con.execute(sql, params).fetchall()


def _days(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[Day]:
    rows = _rows(
        con,
        f"""
        SELECT {_DAY} AS day, count(*),
               count(*) FILTER (WHERE status = 'completed'),
               count(*) FILTER (WHERE status <> 'completed'),
               count(DISTINCT video_id) FILTER (WHERE status = 'completed'),
               coalesce(sum(tasks), 0), coalesce(sum(cache_hits), 0)
        FROM runs WHERE {_SINCE} GROUP BY day ORDER BY day
        """,
        params,
    )
    return [Day(*(r[0], *(int(v) for v in r[1:]))) for r in rows]


def _stages(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[StageTime]:
    out = []
    for stage in STAGES:
        col = f"{stage}_s"  # from adref's own stage list, never from input
        row = con.execute(
            f"""
            SELECT median({col}), count({col}),
                   median({col}) FILTER (WHERE cache_hits = 0),
                   count({col}) FILTER (WHERE cache_hits = 0)
            FROM runs WHERE status = 'completed' AND {col} > 0 AND {_SINCE}
            """,
            params,
        ).fetchone()
        assert row is not None
        out.append(StageTime(stage, _float(row[0]), int(row[1]), _float(row[2]), int(row[3])))
    return out


def _providers(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[ProviderSpend]:
    rows = _rows(
        con,
        f"""
        WITH spent AS (
            SELECT coalesce(provider, '(none)') AS provider, count(*) AS runs,
                   sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out,
                   sum(cost_usd) AS cost_usd
            FROM runs WHERE {_SINCE} GROUP BY 1
        ), made AS (
            SELECT provider, count(*) AS analyses FROM analyses
            WHERE $since IS NULL OR created_at >= CAST($since AS DATE) GROUP BY 1
        )
        SELECT coalesce(spent.provider, made.provider), coalesce(runs, 0),
               coalesce(analyses, 0), coalesce(tokens_in, 0), coalesce(tokens_out, 0),
               coalesce(cost_usd, 0)
        FROM spent FULL OUTER JOIN made ON spent.provider = made.provider
        ORDER BY 6 DESC, 2 DESC, 1
        """,
        params,
    )
    return [
        ProviderSpend(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), float(r[5])) for r in rows
    ]


def _spend_by_day(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[DaySpend]:
    rows = _rows(
        con,
        f"""
        SELECT {_DAY} AS day, coalesce(provider, '(none)') AS provider,
               coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0),
               coalesce(sum(cost_usd), 0)
        FROM runs WHERE {_SINCE} GROUP BY day, provider ORDER BY day, provider
        """,
        params,
    )
    return [DaySpend(r[0], r[1], int(r[2]), int(r[3]), float(r[4])) for r in rows]


def _failures(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> list[FailureCause]:
    rows = _rows(
        con,
        f"""
        SELECT error, status, started_at FROM runs
        WHERE status <> 'completed' AND {_SINCE} ORDER BY started_at
        """,
        params,
    )
    causes: dict[str, FailureCause] = {}
    for error, status, at in rows:
        cause = failure_cause(error, status)
        seen = causes.get(cause)
        causes[cause] = FailureCause(
            cause, (seen.runs if seen else 0) + 1, error or f"({status})", at
        )
    return sorted(causes.values(), key=lambda c: (-c.runs, c.cause))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class RunOutcome:
    status: str
    video_id: str | None
    error: str | None


def run_outcome(wh: Warehouse, flow_run_id: str) -> RunOutcome | None:
    """What a flow run recorded in ``runs`` (its video, for a link), or None before it has."""
    if not wh.exists():
        return None
    with contextlib.closing(wh.connect(read_only=True)) as con:
        row = con.execute(
            "SELECT status, video_id, error FROM runs WHERE flow_run_id = $id "
            "ORDER BY started_at DESC LIMIT 1",
            {"id": flow_run_id},
        ).fetchone()
    return RunOutcome(*row) if row else None
