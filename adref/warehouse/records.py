"""What the pipeline hands the warehouse: one video's results, and one run's bookkeeping.

``VideoWrite`` carries everything a video contributes to every table, so the warehouse can write
it in one transaction; it checks its own consistency on construction, because a mismatch (an
analysis of another video, a keyframe of a shot that does not exist) is a bug upstream that must
not reach the tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from adref.analysis import Analysis
from adref.models import Grouping, Shot, ShotText, SpeechResult, StreamInfo, VideoMeta


def as_utc(value: datetime) -> datetime:
    """Naive times are taken as UTC; aware ones are converted to it."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_relative_path(path: str) -> bool:
    p = PurePosixPath(path)
    return bool(path) and not p.is_absolute() and ".." not in p.parts and "\\" not in path


class VideoWrite(BaseModel):
    """Everything to write for one video and one analysis of it."""

    meta: VideoMeta
    content_hash: str
    stream: StreamInfo
    shots: list[Shot]
    keyframe_paths: dict[int, str] = Field(default_factory=dict)  # shot_index -> relative path
    texts: list[ShotText] = Field(default_factory=list)  # lines read on screen, per shot
    # the voice-over; None leaves the stored transcript as it is (no engine, or it failed)
    transcript: SpeechResult | None = None
    grouping: Grouping
    analysis: Analysis
    media_path: str | None = None  # relative to the warehouse root
    owner: str | None = None
    user_tags: list[str] = Field(default_factory=list)
    source_path: Path | None = None  # the local file a playable copy is made from; not stored

    @model_validator(mode="after")
    def _consistent(self) -> VideoWrite:
        vid = self.meta.video_id
        if self.analysis.video_id != vid:
            raise ValueError(f"analysis is of {self.analysis.video_id!r}, not {vid!r}")
        indexes = [s.shot_index for s in self.shots]
        if len(set(indexes)) != len(indexes):
            raise ValueError(f"duplicate shot_index in shots of {vid!r}")
        known = set(indexes)
        if unknown := sorted(set(self.keyframe_paths) - known):
            raise ValueError(f"keyframe_paths name shots that do not exist: {unknown}")
        if unknown := sorted({t.shot_index for t in self.texts} - known):
            raise ValueError(f"texts name shots that do not exist: {unknown}")
        for g in self.grouping.groups:
            if missing := sorted({*g.shot_indices, g.representative_shot} - known):
                raise ValueError(f"scene group {g.group_index} names unknown shots {missing}")
        paths = [*self.keyframe_paths.values(), *([self.media_path] if self.media_path else [])]
        if bad := [p for p in paths if not is_relative_path(p)]:
            raise ValueError(f"paths must be relative to the warehouse root: {bad}")
        return self


class Sighting(BaseModel):
    """A completed run's look at a video: the source it came from and what that source said.

    Recorded with the run's row, so every run that reaches the video leaves a trace, including
    one whose stages all came from cache.
    """

    source: str  # the URL with credentials masked, or the file's absolute path
    kind: Literal["url", "file"]
    meta: VideoMeta


class RunRecord(BaseModel):
    """One flow run, as appended to ``runs`` (never updated: a re-run is a new row)."""

    run_id: str
    video_id: str | None = None  # unknown when the run failed before resolving its source
    source: str | None = None  # what the user gave (URL or path), credentials already removed
    flow_run_id: str | None = None
    status: str  # completed | failed | crashed | cancelled
    started_at: datetime
    finished_at: datetime | None = None
    download_s: float | None = None
    detect_s: float | None = None
    text_s: float | None = None
    speech_s: float | None = None
    group_s: float | None = None
    analyze_s: float | None = None
    persist_s: float | None = None
    total_s: float | None = None
    tasks: int = 0
    cache_hits: int = 0
    bytes_downloaded: int = 0
    provider: str | None = None
    model: str | None = None
    analysis_id: str | None = None
    error: str | None = None
    tokens_in: int = 0  # model tokens of every call the run made, fallbacks included
    tokens_out: int = 0
    cost_usd: float = 0.0
    notes: str | None = None  # what a fallback chain did, e.g. "openai: auth failed → local"

    @field_validator("started_at", "finished_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return None if v is None else as_utc(v)


class RunRow(BaseModel):
    """What a run appends at its end: its row, and where it saw its video (a completed run's).

    Kept in the run's folder until it is in the warehouse (``runcard.keep_row``), so a process
    that dies between its run's final state and the commit leaves it for the next start."""

    record: RunRecord
    sighting: Sighting | None = None
