"""Batch ingestion: the watch list's new videos, one ``analyze-video`` run each.

read the watch list → expand its sources → drop the known and the queued → start runs (capped,
none waited on) → a markdown artifact of what happened.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from adref.ingest.plan import not_a_video, plan_runs
from adref.ingest.report import IngestSummary, markdown, summarize
from adref.settings import get_settings
from adref.tasks.ingest import expand, known, queued, read_watchlist, start


def _run_name() -> str:
    return f"ingest {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"


@flow(name="ingest", flow_run_name=_run_name, log_prints=True)
def ingest(dry_run: bool = False) -> IngestSummary:
    """Start one analysis run per new video of the watch list.

    The watch list is the YAML file ADREF_WATCHLIST (default ADREF_HOME/watchlist.yaml) and the
    Prefect Variable `adref_watchlist`, both read when both exist.

    Args:
        dry_run: Report what would be started, and start nothing.
    """
    s = get_settings()
    log = get_run_logger()
    watch = read_watchlist(s)
    expansion = expand(watch, s)
    for bad in expansion.bad:
        log.warning("skipped %s", bad.line())
    known_ids, known_sources = known(expansion.found, s)
    plan = plan_runs(
        expansion,
        known_ids=known_ids,
        known_sources=known_sources,
        queued=queued(),
        max_new=s.ingest_max_new_runs,
        max_per_source=s.ingest_max_per_source,
        refused=not_a_video(s),
    )
    started = [] if dry_run else start(plan.new, s)
    summary = summarize(expansion, plan, started, dry_run)
    create_markdown_artifact(
        markdown(expansion, plan, started, dry_run),
        key="ingest",
        description="What the ingest read, found, skipped and started",
    )
    log.info(
        "%d sources, %d videos found, %d new, %d skipped, %d runs started",
        summary.sources,
        summary.found,
        summary.new,
        summary.skipped,
        len(summary.started),
    )
    return summary
