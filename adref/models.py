"""Plain data passed between the pipeline's stages.

Each stage takes and returns these models, so every stage can be tested without Prefect and
every result can be cached by Prefect (they pickle and hash cleanly). Units follow DESIGN.md's
data contract: seconds from presentation timestamps, 0-based indexes, 0-1 ratios, UTC times.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field


class VideoMeta(BaseModel):
    """What is known about a video before its pixels are looked at."""

    video_id: str  # "{extractor}:{id}" for site videos, "sha256:{hex}" for files / generic URLs
    source_url: str | None = None  # what the user gave, when it was a URL
    webpage_url: str | None = None
    title: str | None = None
    description: str | None = None
    uploader: str | None = None
    upload_date: date | None = None
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    view_count: int | None = None
    extractor: str | None = None
    site_tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)  # extra fields, json-serialisable


class DownloadedVideo(BaseModel):
    """A video on local disk, ready to decode."""

    meta: VideoMeta
    path: Path  # absolute
    content_hash: str  # sha256 hex of the file's bytes
    size_bytes: int
    bytes_downloaded: int = 0  # 0 when served from cache or given as a local file


class StreamInfo(BaseModel):
    """The decoded video stream as a viewer would display it."""

    width: int  # displayed (after rotation)
    height: int
    fps: float  # average frame rate
    duration_s: float
    frame_count: int
    codec: str
    rotation: int = 0
    variable_frame_rate: bool = False

    @property
    def aspect(self) -> float:
        return self.width / self.height if self.height else 0.0


class PaletteColor(BaseModel):
    hex: str  # "#rrggbb"
    weight: float  # 0-1; a palette's weights sum to 1


class Shot(BaseModel):
    """One shot and the visual features measured while it was decoded."""

    shot_index: int
    start_s: float  # inclusive
    end_s: float  # exclusive
    start_frame: int
    end_frame: int  # exclusive
    keyframe_s: float
    keyframe_jpeg: bytes = Field(repr=False)
    palette: list[PaletteColor]
    brightness: float  # 0-1
    saturation: float  # 0-1
    warmth: float  # -1 cool .. 1 warm
    colourfulness: float  # 0-1 (Hasler-Suesstrunk, scaled)
    motion: float  # 0-1 mean frame-to-frame change
    camera_pan_x: float = 0.0  # mean global shift per second, fraction of frame width (+ right)
    camera_pan_y: float = 0.0  # mean global shift per second, fraction of frame height (+ down)
    face_count: int = 0
    face_area: float = 0.0  # largest face as a fraction of the frame (0-1)
    has_text: bool = False
    text_area: float = 0.0  # fraction of the keyframe covered by text-like regions
    flatness: float = 0.0  # 0-1 share of flat-colour area (animation cue)
    vector: list[float]  # fixed-length visual feature vector, L2-normalised

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class DetectResult(BaseModel):
    stream: StreamInfo
    shots: list[Shot]
    detector: str
    params: dict[str, Any] = Field(default_factory=dict)
    # What the result was computed from (the file's content, the parameters): the stages after
    # detect cache on it instead of hashing every shot.
    key: str = ""


class ShotText(BaseModel):
    """One line of text read on screen in one shot (the best reading of it across the frames
    read there)."""

    shot_index: int
    start_s: float  # the shot's start, so rows sort and join like ``shots``
    text: str
    confidence: float  # 0-1: Tesseract's mean word confidence for the line
    box: tuple[int, int, int, int]  # x, y, width, height in the displayed frame's pixels
    language: str | None = None  # the Tesseract language whose script dominates the line


class TextResult(BaseModel):
    """What the text step read in one video, and what it was computed from (its cache key)."""

    texts: list[ShotText] = Field(default_factory=list)
    frames_read: int = 0  # full-resolution frames decoded and read
    engine: str = ""  # e.g. "tesseract-5.5.4:kor+eng"
    params: dict[str, Any] = Field(default_factory=dict)
    key: str = ""
    skipped: str = ""  # why shots flagged with text were not read (one line), if they were not


class TranscriptSegment(BaseModel):
    """A stretch of the voice-over: seconds into the video, ``end_s`` exclusive."""

    start_s: float
    end_s: float
    text: str


def shot_at(spans: Sequence[tuple[int, float, float]], start_s: float, end_s: float) -> int | None:
    """The shot playing when a stretch of the voice-over starts, among (shot_index, start_s,
    end_s): the one holding ``start_s``, else the one the stretch overlaps most, else the
    nearest. Speech and cuts are timed by different tools, so a stretch may start in a gap
    between shots or a moment past the last one; None only when there are no shots."""
    for index, start, end in spans:
        if start <= start_s < end:
            return index
    overlaps = [(min(end, end_s) - max(start, start_s), index) for index, start, end in spans]
    longest = max(overlaps, default=None, key=lambda o: o[0])
    if longest is not None and longest[0] > 0:
        return longest[1]
    distances = [(max(start - start_s, start_s - end, 0.0), index) for index, start, end in spans]
    nearest = min(distances, default=None, key=lambda d: d[0])
    return nearest[1] if nearest is not None else None


class SpeechResult(BaseModel):
    """What the speech step heard in one video, and what it was computed from (its cache key).

    ``status``: ``done`` (transcribed; no segments when nothing was said), ``no_audio`` (the
    video has no audio track), ``silent`` (its track is silence), ``skipped`` (no engine is
    configured) or ``failed`` (the engine failed; ``note`` says why). Only the first three
    replace the video's stored transcript."""

    status: Literal["done", "no_audio", "silent", "skipped", "failed"]
    segments: list[TranscriptSegment] = Field(default_factory=list)
    language: str | None = None
    provider: str = ""
    model: str = ""
    audio_s: float = 0.0  # the track's length, seconds
    note: str = ""  # one line for the run's log or notes
    key: str = ""

    @property
    def heard(self) -> bool:
        """Whether this is the video's transcript (possibly empty), to be stored."""
        return self.status in ("done", "no_audio", "silent")


class SceneGroup(BaseModel):
    group_index: int
    shot_indices: list[int]
    start_s: float
    end_s: float
    representative_shot: int  # the shot whose keyframe stands for the group


class Grouping(BaseModel):
    groups: list[SceneGroup]
    analysis_groups: list[int]  # group indexes whose keyframes go to the analyser (capped)
    granularity: int
    short_form: bool
    key: str = ""  # what the groups were made from (the shots' key, the grouping parameters)


def analysis_id(video_id: str, provider: str, model: str, prompt_version: str) -> str:
    """Identify an analysis by what determines it (DESIGN.md's data contract)."""
    key = "\x1f".join((video_id, provider, model, prompt_version))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def utcnow() -> datetime:
    return datetime.now(UTC)


def safe_id(video_id: str) -> str:
    """A file name for a video id: readable prefix, plus a hash of the whole id so none collide.

    Ids hold ':' and '/' (``youtube:abc``, ``sha256:...``, generic ids are file names).
    """
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", video_id).strip("_")[:48] or "video"
    return f"{slug}-{hashlib.sha256(video_id.encode()).hexdigest()[:16]}"
