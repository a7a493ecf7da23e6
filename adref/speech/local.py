"""The local engine: faster-whisper (CTranslate2) on a Whisper model folder the user keeps.

The model is never fetched: ``ADREF_SPEECH_MODEL_DIR`` names a folder holding a converted model
(``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.*``), and faster-whisper is
handed that path with ``local_files_only``. Voice activity detection (Silero's, shipped inside
faster-whisper) keeps music and silence from being "transcribed" into made-up words.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from adref.errors import InputError
from adref.speech.base import Segment, Transcript, clean_segments, language_code

_LOCK = threading.Lock()  # one model in memory per process, one transcription at a time


def check_model_dir(folder: Path | None) -> Path:
    """The model folder, or an error saying what to set."""
    if folder is None:
        raise InputError(
            "no local speech model",
            "ADREF_SPEECH_ENGINE is local but ADREF_SPEECH_MODEL_DIR is not set",
            "set ADREF_SPEECH_MODEL_DIR to a CTranslate2 Whisper model folder",
        )
    folder = folder.expanduser()
    if not (folder / "model.bin").is_file() or not (folder / "config.json").is_file():
        raise InputError(
            "no local speech model",
            f"{folder} holds no model.bin and config.json",
            "point ADREF_SPEECH_MODEL_DIR at a converted Whisper model (faster-whisper's format)",
        )
    return folder


@lru_cache(maxsize=1)
def _model(folder: str) -> Any:
    from faster_whisper import WhisperModel

    threads = max(1, (os.cpu_count() or 2) // 2)
    return WhisperModel(
        folder, device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True
    )


class LocalTranscriber:
    provider = "local"

    def __init__(self, model_dir: Path | None, model: str | None = None) -> None:
        self.folder = check_model_dir(model_dir)
        self.model = model or f"faster-whisper:{self.folder.name}"

    def transcribe(self, audio: Path, language: str | None, duration_s: float) -> Transcript:
        with _LOCK:
            whisper = _model(str(self.folder))
            pieces, info = whisper.transcribe(
                str(audio), language=language, vad_filter=True, beam_size=5
            )
            raw = [Segment(p.start, p.end, p.text) for p in pieces]  # decoding happens here
        return Transcript(
            segments=clean_segments(raw, duration_s),
            language=language_code(getattr(info, "language", None)) or language,
            provider=self.provider,
            model=self.model,
        )
