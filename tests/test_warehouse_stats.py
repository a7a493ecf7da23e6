"""The Stats page's figures, from runs appended the way flows append them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from adref.warehouse.catalog import Warehouse
from adref.warehouse.records import RunRecord
from adref.warehouse.stats import (
    DaySpend,
    FailureCause,
    ProviderSpend,
    StageTime,
    failure_cause,
    load_stats,
    run_outcome,
)
from tests.test_warehouse import make_write

SEOUL = timezone(timedelta(hours=9))


def _run(run_id: str, at: datetime, status: str = "completed", **kw: Any) -> RunRecord:
    return RunRecord(run_id=run_id, status=status, started_at=at, **kw)


def _timed(d: float, det: float, g: float, a: float, p: float) -> dict[str, float]:
    return {"download_s": d, "detect_s": det, "group_s": g, "analyze_s": a, "persist_s": p}


RUNS = [
    _run(
        "r1", datetime(2025, 3, 1, 9), video_id="youtube:a", provider="local", tasks=6,
        flow_run_id="f-1", **_timed(2, 4, 1, 3, 1),
    ),
    _run(
        "r2", datetime(2025, 3, 1, 10), video_id="youtube:b", provider="openai", tasks=6,
        tokens_in=1000, tokens_out=200, cost_usd=0.02, **_timed(1, 2, 0.5, 10, 1),
    ),
    _run(
        "r3", datetime(2025, 3, 1, 11), "failed", provider="local",
        error="not a video: /inbox/notes.txt is text. Give a video file.",
    ),
    # Day 2: the first video again, all from cache; then re-analysed with openai.
    _run(
        "r4", datetime(2025, 3, 2, 8), video_id="youtube:a", provider="local", tasks=6,
        cache_hits=6, **_timed(0.01, 0.01, 0.01, 0.01, 0.01),
    ),
    _run(
        "r5", datetime(2025, 3, 3, 7, tzinfo=SEOUL),  # 2025-03-02 22:00 UTC
        video_id="youtube:a", provider="openai", tasks=2, tokens_in=800, tokens_out=150,
        cost_usd=0.015, **_timed(0, 0, 0, 8, 0.5),
    ),
    _run(
        "r6", datetime(2025, 3, 2, 9), "failed", provider="local",
        error="not a video: 'clip 2.mov' is a still image. Give a video file.",
    ),
    _run("r7", datetime(2025, 3, 2, 10), "failed", error="ValueError: bad frame 42"),
    _run("r8", datetime(2025, 3, 2, 11), "cancelled"),
]  # fmt: skip


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = Warehouse(tmp_path_factory.mktemp("stats") / "wh")
    warehouse.init()
    warehouse.write_video(make_write("youtube:a"))
    warehouse.write_video(make_write("youtube:b", provider="openai"))
    warehouse.write_video(make_write("youtube:a", provider="openai"))
    for run in RUNS:
        warehouse.append_run(run)
    return warehouse


def test_videos_runs_and_cache_hits_per_utc_day(wh: Warehouse) -> None:
    stats = load_stats(wh)
    assert [(d.day, d.runs, d.completed, d.failed, d.videos) for d in stats.days] == [
        (date(2025, 3, 1), 3, 2, 1, 2),
        (date(2025, 3, 2), 5, 2, 3, 1),
    ]
    assert stats.runs == 8
    assert stats.cache_hit_rate == pytest.approx(6 / 20)


def test_median_time_per_stage_over_runs_that_ran_it(wh: Warehouse) -> None:
    stages = {s.stage: s for s in load_stats(wh).stages}
    assert list(stages) == ["download", "detect", "text", "speech", "group", "analyze", "persist"]
    # r5 is a re-analysis: no download, so it does not pull the median to 0.
    assert stages["download"] == StageTime("download", 1.0, 3, 1.5, 2)
    assert stages["analyze"] == StageTime("analyze", 5.5, 4, 8.0, 3)
    assert stages["persist"].median_s == pytest.approx(0.75)


def test_tokens_and_cost_by_provider_and_by_day(wh: Warehouse) -> None:
    stats = load_stats(wh)
    assert stats.providers == [
        ProviderSpend("openai", 2, 2, 1800, 350, pytest.approx(0.035)),  # type: ignore[arg-type]
        ProviderSpend("local", 4, 1, 0, 0, 0.0),
        ProviderSpend("(none)", 2, 0, 0, 0, 0.0),
    ]
    assert stats.cost_usd == pytest.approx(0.035)
    openai_days = [s for s in stats.spend_by_day if s.provider == "openai"]
    assert openai_days == [
        DaySpend(date(2025, 3, 1), "openai", 1000, 200, 0.02),
        DaySpend(date(2025, 3, 2), "openai", 800, 150, 0.015),
    ]


def test_failures_are_grouped_by_cause(wh: Warehouse) -> None:
    failures = load_stats(wh).failures
    assert [(f.cause, f.runs) for f in failures] == [
        ("not a video", 2),
        ("ValueError", 1),
        ("cancelled (no error recorded)", 1),
    ]
    assert failures[0] == FailureCause(
        "not a video",
        2,
        "not a video: 'clip 2.mov' is a still image. Give a video file.",
        datetime(2025, 3, 2, 9, tzinfo=UTC),
    )


def test_since_keeps_only_later_runs(wh: Warehouse) -> None:
    stats = load_stats(wh, since=date(2025, 3, 2))
    assert [d.day for d in stats.days] == [date(2025, 3, 2)]
    # The analyses were made before that day: runs count, analyses do not.
    assert [(p.provider, p.runs, p.analyses) for p in stats.providers] == [
        ("openai", 1, 0),
        ("(none)", 2, 0),
        ("local", 2, 0),
    ]
    assert sum(f.runs for f in stats.failures) == 3


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        ("cannot read /home/mina/inbox/ad.mp4: deployment runs read files only…", "cannot read <path>"),
        ("cannot read ad final.mp4: no such file", "cannot read ad <path>"),
        ("no video youtube:dQw4w9WgXcQ in the warehouse. List them with adref sql.", "no video <id> in the warehouse"),
        ("download failed: HTTP 404 at https://example.com/v?id=1", "download failed"),
        ("unknown provider 'gpt': available: local", "unknown provider <name>"),
        ("the video is 3600 s long, over the 1800 s limit", "the video is N s long, over the N s limit"),
        ("openai rejected the API key (HTTP 401). Set OPENAI_API_KEY.", "openai rejected the API key (HTTP N)"),
        ("", "failed (no error recorded)"),
    ],
)  # fmt: skip
def test_a_cause_is_the_first_clause_without_the_details(error: str, cause: str) -> None:
    assert failure_cause(error, "failed") == cause


def test_no_warehouse_means_empty_stats(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "none")
    stats = load_stats(wh)
    assert (stats.runs, stats.cache_hit_rate, stats.failures) == (0, None, [])
    assert run_outcome(wh, "f-1") is None
    assert not wh.exists(), "reading stats creates nothing"


def test_a_flow_runs_outcome_names_its_video(wh: Warehouse) -> None:
    outcome = run_outcome(wh, "f-1")
    assert outcome is not None and (outcome.status, outcome.video_id) == ("completed", "youtube:a")
    assert run_outcome(wh, "f-unknown") is None
