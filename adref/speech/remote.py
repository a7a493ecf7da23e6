"""The hosted engines: OpenAI's audio transcription API (or an OpenAI-compatible gateway) and
Gemini (an audio part to ``generateContent``), through the vendors' own SDKs.

Keys and base URLs are the analysis providers' own (``OPENAI_API_KEY``/``ADREF_OPENAI_BASE_URL``,
``GEMINI_API_KEY``/``ADREF_GEMINI_BASE_URL``, or their Prefect Secret blocks). A 429 or a 5xx is
retried as the analysis calls are (``ADREF_PROVIDER_RETRIES``, Retry-After honoured up to
``ADREF_PROVIDER_RETRY_CAP_S``); an answer that is not a transcription is an error, never stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from adref.errors import ProviderHardError, ProviderTransient
from adref.providers.remote.gemini import GeminiClient
from adref.providers.remote.keys import api_key
from adref.providers.remote.openai import OpenAIClient
from adref.providers.remote.vendor_call import VendorAnswer
from adref.settings import Settings
from adref.speech.audio import AudioTrack, pieces
from adref.speech.base import Segment, Transcript, clean_segments, language_code

OPENAI_MODEL = "whisper-1"
OPENAI_PIECE_S = 600.0  # 10 min of 16 kHz mono PCM is 19.2 MB, under the API's 25 MB per file
GEMINI_MODEL = "gemini-2.5-flash"
GEMINI_PIECE_S = 300.0  # 5 min is 9.6 MB, 12.8 MB as base64: under the 20 MB inline request

GEMINI_INSTRUCTION = (
    "Transcribe the speech in this audio track of an advertisement, verbatim, in the language "
    "spoken. Split it into segments of one phrase or sentence each, with start and end times in "
    "seconds from the start of the audio. Music, singing without words, and sound effects are "
    "not speech: leave them out. If nothing is said, answer with no segments. language is the "
    "ISO 639-1 code of the main language spoken, or null."
)
GEMINI_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "language": {"type": ["string", "null"]},
        "segments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "start_s": {"type": "number"},
                    "end_s": {"type": "number"},
                    "text": {"type": "string"},
                },
                "required": ["start_s", "end_s", "text"],
            },
        },
    },
    "required": ["language", "segments"],
}

T = TypeVar("T")


def with_retries(call: Callable[[], T], settings: Settings, sleep: Callable[[float], None]) -> T:
    """``call()``, again after each transient failure, at most ``provider_retries`` more times."""
    attempt = 0
    while True:
        try:
            return call()
        except ProviderTransient as exc:
            if attempt >= settings.provider_retries:
                raise
            wait = exc.retry_after_s if exc.retry_after_s is not None else 2.0**attempt
            sleep(max(0.0, min(wait, settings.provider_retry_cap_s)))
            attempt += 1


class OpenAITranscriber:
    provider = "openai"

    def __init__(
        self,
        settings: Settings,
        model: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.model = model or OPENAI_MODEL
        self._sleep = sleep
        self._client = OpenAIClient(
            api_key("openai", settings),
            settings.openai_base_url,
            settings.provider_timeout_s,
            label="openai",
        )

    def transcribe(self, audio: Path, language: str | None, duration_s: float) -> Transcript:
        track = AudioTrack(path=audio, duration_s=duration_s, peak_dbfs=0.0)
        segments: list[Segment] = []
        spoken: str | None = None
        for path, offset in pieces(track, OPENAI_PIECE_S):
            send = partial(
                self._client.transcribe,
                path,
                self.model,
                language,
                self.settings.provider_timeout_s,
            )
            answer = with_retries(send, self.settings, self._sleep)
            length = min(OPENAI_PIECE_S, duration_s - offset)
            for s in parse_openai(answer, length):
                segments.append(Segment(s.start_s + offset, s.end_s + offset, s.text))
            spoken = spoken or language_code(answer.get("language"))
        return Transcript(
            segments=clean_segments(segments, duration_s),
            language=spoken or language,
            provider=self.provider,
            model=self.model,
        )


class GeminiTranscriber:
    provider = "gemini"

    def __init__(
        self,
        settings: Settings,
        model: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.model = model or GEMINI_MODEL
        self._sleep = sleep
        self._client = GeminiClient(
            api_key("gemini", settings), settings.gemini_base_url, settings.provider_timeout_s
        )

    def transcribe(self, audio: Path, language: str | None, duration_s: float) -> Transcript:
        instruction = GEMINI_INSTRUCTION
        if language:
            instruction += f" The speech is in the language {language!r}."
        track = AudioTrack(path=audio, duration_s=duration_s, peak_dbfs=0.0)
        segments: list[Segment] = []
        spoken: str | None = None
        for path, offset in pieces(track, GEMINI_PIECE_S):
            send = partial(self._client.transcribe, path, self.model, instruction, GEMINI_SCHEMA)
            answer = with_retries(send, self.settings, self._sleep)
            raw, heard = parse_gemini(answer)
            length = min(GEMINI_PIECE_S, duration_s - offset)
            for s in clean_segments(raw, length):
                segments.append(Segment(s.start_s + offset, s.end_s + offset, s.text))
            spoken = spoken or heard
        return Transcript(
            segments=clean_segments(segments, duration_s),
            language=spoken or language,
            provider=self.provider,
            model=self.model,
        )


def parse_gemini(answer: VendorAnswer) -> tuple[list[Segment], str | None]:
    """The segments and the language of a Gemini answer; anything else is a bad answer."""
    if answer.refusal or answer.finish_reason != "stop":
        raise _bad("gemini", answer.refusal or f"it stopped early ({answer.finish_reason})")
    try:
        data = json.loads(answer.text)
    except ValueError:
        raise _bad("gemini", "the answer is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise _bad("gemini", "the answer has no segments list")
    raw = []
    for s in data["segments"]:
        try:
            raw.append(Segment(float(s["start_s"]), float(s["end_s"]), str(s["text"])))
        except (KeyError, TypeError, ValueError):
            raise _bad("gemini", "a segment lacks its start, end or text") from None
    spoken = data.get("language")
    return raw, language_code(spoken if isinstance(spoken, str) else None)


def parse_openai(answer: dict[str, Any], duration_s: float) -> list[Segment]:
    """The segments of a ``verbose_json`` answer, or the whole ``text`` of a ``json`` one as a
    single segment over the track; anything else is a bad answer."""
    text, segments = answer.get("text"), answer.get("segments")
    if not isinstance(text, str) and not isinstance(segments, list):
        raise _bad("openai", "it has neither text nor segments")
    if not isinstance(segments, list):
        return clean_segments([Segment(0.0, duration_s, str(text))], duration_s)
    raw = []
    for s in segments:
        try:
            raw.append(Segment(float(s["start"]), float(s["end"]), str(s["text"])))
        except (KeyError, TypeError, ValueError):
            raise _bad("openai", "a segment lacks its start, end or text") from None
    return clean_segments(raw, duration_s)


def _bad(provider: str, why: str) -> ProviderHardError:
    return ProviderHardError(
        f"{provider} answered something that is not a transcription",
        why,
        "check the model and the base URL (an OpenAI-compatible /v1 endpoint)",
        provider=provider,
    )
