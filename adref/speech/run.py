"""The speech step: the audio track extracted once, handed to the configured engine.

It never fails a run. No engine configured: skipped, one line says so. No audio stream, or a
track that is silence: an empty transcript, and no request is made. Whatever goes wrong in
extraction or in the engine becomes the result's ``note`` (status ``failed``): the run carries on
and the video's stored transcript, if any, is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adref.errors import AdrefError
from adref.models import SpeechResult, TranscriptSegment
from adref.settings import Settings
from adref.speech.audio import extract_audio
from adref.speech.base import Transcriber
from adref.speech.params import SpeechParams

SKIPPED = (
    "speech: skipped, no transcription engine configured "
    "(set ADREF_SPEECH_ENGINE to openai, gemini or local)"
)
AUDIO_FILE = "audio-16k.wav"


def make_transcriber(params: SpeechParams, settings: Settings) -> Transcriber:
    # lazy: only the configured engine's SDK (openai, google-genai, faster-whisper) is imported
    if params.engine == "openai":
        from adref.speech.remote import OpenAITranscriber

        return OpenAITranscriber(settings, params.model)
    if params.engine == "gemini":  # lazy: as above
        from adref.speech.remote import GeminiTranscriber

        return GeminiTranscriber(settings, params.model)
    if params.engine == "local":  # lazy: as above
        from adref.speech.local import LocalTranscriber

        return LocalTranscriber(Path(params.model_dir) if params.model_dir else None, params.model)
    raise ValueError(f"unknown speech engine {params.engine!r}")


def transcribe_video(
    video: Path,
    workspace: Path,
    params: SpeechParams,
    settings: Settings,
    make: Callable[[SpeechParams, Settings], Transcriber] = make_transcriber,
) -> SpeechResult:
    if params.engine == "none":
        return SpeechResult(status="skipped", note=SKIPPED)
    label = params.engine
    try:
        engine = make(params, settings)
        label = f"{engine.provider} {engine.model}"
        track = extract_audio(video, workspace / AUDIO_FILE)
        if track is None:
            return _empty("no_audio", engine, 0.0)
        if track.silent:
            return _empty("silent", engine, track.duration_s)
        heard = engine.transcribe(track.path, params.language, track.duration_s)
    except AdrefError as exc:
        why = exc.one_line()
    except Exception as exc:  # a bug or an SDK's surprise: still not the run's failure
        why = f"{type(exc).__name__}: {exc}"
    else:
        return SpeechResult(
            status="done",
            segments=[TranscriptSegment(**vars(s)) for s in heard.segments],
            language=heard.language,
            provider=heard.provider,
            model=heard.model,
            audio_s=track.duration_s,
            note=f"speech: {len(heard.segments)} segments ({label})",
        )
    return SpeechResult(
        status="failed",
        provider=params.engine,
        model=params.model or "",
        note=scrubbed(f"speech: not transcribed ({label}): {why.rstrip('.')[:300]}", settings),
    )


def scrubbed(text: str, settings: Settings) -> str:
    """``text`` with the vendors' keys blanked out, should anything ever have echoed one."""
    for secret in (settings.openai_api_key, settings.gemini_api_key):
        key = secret.get_secret_value().strip() if secret is not None else ""
        if key:
            text = text.replace(key, "***")
    return text


def _empty(status: str, engine: Transcriber, audio_s: float) -> SpeechResult:
    said = "no audio track" if status == "no_audio" else "the audio track is silent"
    return SpeechResult(
        status="no_audio" if status == "no_audio" else "silent",
        provider=engine.provider,
        model=engine.model,
        audio_s=audio_s,
        note=f"speech: {said}, empty transcript",
    )
