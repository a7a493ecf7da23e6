"""What a run reports (its summary) and the row it leaves in the warehouse's ``runs`` table.

Every run leaves a row whatever its outcome (timings, cache hits, spend, error), so a failed or
re-run video is as visible in SQL as a new one. The row is bookkeeping, not a stage: writing it
is a plain call the flow makes at its end, and a failure to write it is a warning, never the
run's failure: the row stays in the run's folder, and the next adref start writes it
(``crashed``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from adref.models import PaletteColor, VideoMeta, utcnow
from adref.providers.base import CallEstimate
from adref.settings import Settings
from adref.sources.resolved import ResolvedSource
from adref.warehouse.records import RunRecord, RunRow, Sighting


class StageResult(BaseModel):
    stage: str
    seconds: float = 0.0
    tasks: int = 0
    cached: int = 0


class RunSummary(BaseModel):
    run_id: str
    flow_run_id: str | None = None
    status: str
    source: str
    video_id: str | None = None
    title: str | None = None  # as the warehouse holds it: the first source's
    source_title: str | None = None  # what this run's source calls the video, when it differs
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    shots: int = 0
    groups: int = 0
    analysis_id: str | None = None
    provider: str | None = None
    model: str | None = None
    genre: str | None = None
    expression_format: str | None = None
    mood: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    summary: str | None = None
    palette: list[PaletteColor] = Field(default_factory=list)
    stages: list[StageResult] = Field(default_factory=list)
    tasks: int = 0
    cache_hits: int = 0
    bytes_downloaded: int = 0
    total_s: float = 0.0
    warehouse: str = ""
    attach_line: str = ""
    error: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    notes: list[str] = Field(default_factory=list)  # what a provider chain did
    estimates: list[CallEstimate] = Field(default_factory=list)  # --estimate: planned, not made


def run_row(
    summary: RunSummary,
    started_at: datetime,
    seen_at: ResolvedSource | None = None,
    meta: VideoMeta | None = None,
) -> RunRow:
    """The run's row as it ends now. ``seen_at`` and ``meta``: where a completed run found its
    video, and what it said there."""
    seconds = {r.stage: round(r.seconds, 4) for r in summary.stages}
    record = RunRecord(
        run_id=summary.run_id,
        video_id=summary.video_id,
        source=summary.source,
        flow_run_id=summary.flow_run_id,
        status=summary.status,
        started_at=started_at,
        finished_at=utcnow(),
        download_s=seconds.get("download", 0.0),
        detect_s=seconds.get("detect", 0.0),
        text_s=seconds.get("text", 0.0),
        speech_s=seconds.get("speech", 0.0),
        group_s=seconds.get("group", 0.0),
        analyze_s=seconds.get("analyze", 0.0),
        persist_s=seconds.get("persist", 0.0),
        total_s=round(summary.total_s, 4),
        tasks=summary.tasks,
        cache_hits=summary.cache_hits,
        bytes_downloaded=summary.bytes_downloaded,
        provider=summary.provider,
        model=summary.model,
        analysis_id=summary.analysis_id,
        error=summary.error,
        tokens_in=summary.tokens_in,
        tokens_out=summary.tokens_out,
        cost_usd=summary.cost_usd,
        notes="; ".join(summary.notes) or None,
    )
    sighting = None
    if seen_at is not None and meta is not None:
        sighting = Sighting(source=meta.source_url or seen_at.source, kind=seen_at.kind, meta=meta)
    return RunRow(record=record, sighting=sighting)


def write_row(settings: Settings, row: RunRow) -> bool:
    """Append the row; whether it is in the warehouse (a failure is a warning)."""
    from adref.warehouse.catalog import record_run_row  # lazy: DuckDB

    return record_run_row(settings, row)


def attach_line(settings: Settings) -> str:
    """The SQL that opens the warehouse in any DuckDB client, for the run's summary."""
    from adref.warehouse.catalog import Warehouse  # lazy: DuckDB

    return Warehouse.of(settings).attach_line()
