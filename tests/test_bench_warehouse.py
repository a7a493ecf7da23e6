"""``adref bench warehouse`` on a tiny library, locally: the report's structure, no timing."""

from __future__ import annotations

import json
from pathlib import Path

from adref.bench.warehouse import QUERIES, run_warehouse_bench
from tests.support.cli import invoke


def test_the_report_has_every_measure_beside_its_floor_and_the_same_answers(
    tmp_path: Path,
) -> None:
    steps: list[str] = []
    b = run_warehouse_bench(
        12, 4, repeat=1, batch_videos=5, remote=False, folder=tmp_path, on_step=steps.append
    )
    assert b.skipped and "--no-remote" in b.skipped
    (site,) = b.sites
    assert site.name == "local" and site.videos == 12 + 2 and site.shots == 14 * 4
    assert site.persist.name == "persist one video" and site.persist.rounds == 1
    for pairs in (site.before, site.after):
        assert [p.name for p in pairs] == list(QUERIES)
        assert all(p.adref_s > 0 and p.floor_s > 0 and p.ratio > 0 for p in pairs)
    assert site.same_answers
    c = site.compaction
    assert c.files_before > c.files_after >= 1
    assert any("compacting" in s for s in steps)


def test_the_command_prints_json_with_both_parts_named(tmp_path: Path) -> None:
    args = ["bench", "warehouse", "--videos", "6", "--shots-per-video", "3"]
    done = invoke([*args, "--videos-per-commit", "3", "-n", "1", "--no-remote", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert [s["name"] for s in report["sites"]] == ["local"]
    assert set(report["sites"][0]) >= {"persist", "before", "after", "compaction", "same_answers"}
