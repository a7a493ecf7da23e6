"""The transcription interface every engine implements: plain dataclasses in, plain data out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: ``start_s`` inclusive, ``end_s`` exclusive, seconds into the video."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """What an engine heard in one audio track (no segments: nothing was said)."""

    segments: list[Segment] = field(default_factory=list)
    language: str | None = None  # ISO 639-1 ("ko", "en") when the engine says
    provider: str = ""
    model: str = ""


class Transcriber(Protocol):
    """One engine, set up with its model; ``transcribe`` may raise an ``AdrefError``."""

    provider: str
    model: str

    def transcribe(self, audio: Path, language: str | None, duration_s: float) -> Transcript: ...


def clean_segments(raw: list[Segment], duration_s: float) -> list[Segment]:
    """Segments in order, inside the track, with text, whitespace made single; one that starts
    at or past the track's end (an engine's invention) is dropped."""
    out = []
    for s in sorted(raw, key=lambda s: (s.start_s, s.end_s)):
        text = " ".join(s.text.split())
        if not text or (duration_s and s.start_s >= duration_s):
            continue
        start = max(0.0, min(float(s.start_s), duration_s))
        end = max(start, min(float(s.end_s), duration_s)) if duration_s else float(s.end_s)
        out.append(Segment(round(start, 3), round(end, 3), text))
    return out


# Whisper names languages in full in verbose_json ("korean"); the table stores ISO 639-1 codes.
_LANGUAGE_NAMES = {
    "korean": "ko",
    "english": "en",
    "japanese": "ja",
    "chinese": "zh",
    "french": "fr",
    "german": "de",
    "spanish": "es",
}


def language_code(name: str | None) -> str | None:
    if not name or not name.strip():
        return None
    key = name.strip().lower()
    return _LANGUAGE_NAMES.get(key, key)
