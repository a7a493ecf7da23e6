"""What a provider is asked (``AnalysisRequest``) and the analysis every provider returns: one
validated object, whatever the model.

Fields mirror the seed's analysis items plus adref's own (DESIGN.md, issue 2). A field the
analyser cannot know stays ``None`` or empty: an honest gap beats an invented answer.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from adref.categories import formats, genres
from adref.models import Grouping, Shot, ShotText, StreamInfo, TranscriptSegment, VideoMeta


class Features(BaseModel):
    """The seed's five feature notes."""

    colour: str | None = None
    editing: str | None = None
    camera: str | None = None
    mood: str | None = None
    message: str | None = None


class GroupAnalysis(BaseModel):
    group_index: int = Field(ge=0)
    description: str | None = None
    shot_type: str | None = None  # e.g. close_up, medium, wide
    camera_movement: str | None = None  # e.g. static, pan, tilt, handheld


class AnalysisContent(BaseModel):
    """What an analyser says about one video (no provenance yet)."""

    genre: str | None = None
    genre_reason: str | None = None
    genre_confidence: float | None = Field(default=None, ge=0, le=1)
    expression_format: str | None = None
    features: Features = Field(default_factory=Features)
    mood: list[str] = Field(default_factory=list)  # short words, for facets
    tone: str | None = None
    target_audience: str | None = None
    hook: str | None = None  # what happens in the first 3 s
    call_to_action: str | None = None
    brand_cues: list[str] = Field(default_factory=list)
    visual_style: str | None = None
    summary: str | None = None
    model_tags: list[str] = Field(default_factory=list)
    ad_language: str | None = None  # the ad's language, when known
    groups: list[GroupAnalysis] = Field(default_factory=list)

    @field_validator("genre")
    @classmethod
    def _known_genre(cls, v: str | None) -> str | None:
        if v is not None and v not in genres():
            raise ValueError(f"unknown genre code {v!r}; expected one of {sorted(genres())}")
        return v

    @field_validator("expression_format")
    @classmethod
    def _known_format(cls, v: str | None) -> str | None:
        if v is not None and v not in formats():
            raise ValueError(
                f"unknown expression format {v!r}; expected one of {sorted(formats())}"
            )
        return v

    @field_validator("model_tags", "mood", "brand_cues")
    @classmethod
    def _dedupe(cls, v: list[str]) -> list[str]:
        seen: dict[str, None] = {}
        for item in v:
            s = item.strip()
            if s and s.lower() not in {k.lower() for k in seen}:
                seen[s] = None
        return list(seen)


class Analysis(AnalysisContent):
    """An analysis with its provenance, as stored in the ``analyses`` table."""

    analysis_id: str
    video_id: str
    provider: str
    model: str
    prompt_version: str
    output_language: Literal["ko", "en"]
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    created_at: datetime


class AnalysisRequest(BaseModel):
    """What every provider is given: everything measured so far about one video.

    What the ad says comes beside the pictures: ``texts``, the lines read on screen (the text
    stage's ``shot_texts``), and ``transcript``, the voice-over heard (the speech stage's
    ``transcripts``; empty when nothing was said or no engine listened).
    """

    meta: VideoMeta
    stream: StreamInfo
    shots: list[Shot]
    grouping: Grouping
    output_language: Literal["ko", "en"] = "ko"
    model: str | None = None
    texts: list[ShotText] = Field(default_factory=list)
    transcript: list[TranscriptSegment] = Field(default_factory=list)
    transcript_language: str | None = None

    def words_key(self) -> str:
        """A hash of what the ad says, as given here: a cached answer is reused only for the
        same words (the pictures and the groups have their own keys). Without a transcript the
        key is what it was before transcripts existed, so no cached answer is lost to them."""
        said: dict[str, object] = {"texts": [t.model_dump(mode="json") for t in self.texts]}
        if self.transcript:
            said["voice"] = [s.model_dump(mode="json") for s in self.transcript]
            said["voice_language"] = self.transcript_language
        raw = json.dumps(said, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]
