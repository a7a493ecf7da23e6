"""What changes the speech step's rows: its parameters, apart from the engines.

Light on purpose: the flow builds them from the settings before the step runs, and importing
the step itself (``adref.speech.run``) loads PyAV and NumPy for the audio track.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from adref.settings import Settings

SPEECH_VERSION = "1"  # bump whenever the rows would change for the same video and settings


class SpeechParams(BaseModel):
    """Everything that changes the speech step's rows (so: part of its cache key)."""

    model_config = ConfigDict(frozen=True)

    engine: str = "none"
    model: str | None = None
    language: str | None = None
    endpoint: str | None = None  # the hosted engine's base URL (a gateway may differ)
    model_dir: str | None = None  # the local engine's model folder
    version: str = SPEECH_VERSION

    @classmethod
    def from_settings(cls, settings: Settings) -> SpeechParams:
        engine = settings.speech_engine
        endpoint = {"openai": settings.openai_base_url, "gemini": settings.gemini_base_url}
        folder = settings.speech_model_dir
        return cls(
            engine=engine,
            model=settings.speech_model,
            language=settings.speech_language,
            endpoint=endpoint.get(engine),
            model_dir=str(folder.expanduser().resolve()) if engine == "local" and folder else None,
        )
