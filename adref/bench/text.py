"""``adref bench text``: the text step (OCR) beside the detect stage, on the same videos, in
the same run.

Each round runs the detect stage and then the text step on each video, back to back, so their
ratio sees one state of this shared machine; the median over rounds counts. The target is about
the whole local pipeline (OCR adds at most 50 % to its wall time for a 30 s 1080p ad); the
detect stage is only part of that pipeline, so ``text ÷ detect`` is an upper bound of the share
OCR adds, and meeting the target on it meets it on the pipeline. ``adref bench pipeline`` shows
the text stage among the others in a real flow.

With a local speech engine configured (``ADREF_SPEECH_ENGINE=local``), each video's audio is
also transcribed once, and its real-time factor printed (transcription seconds per second of
audio; under 1 is faster than the ad plays).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from adref.ocr.params import TextParams
from adref.ocr.read import read_texts
from adref.settings import Settings
from adref.speech.audio import extract_audio
from adref.speech.base import Transcriber
from adref.speech.params import SpeechParams
from adref.speech.run import make_transcriber
from adref.video.detect import detect_shots
from adref.video.params import DetectParams
from adref.video.testclips import CLIPS_VERSION, make_clip

TARGET = 0.5  # OCR may add at most this share of the local pipeline's wall time
TEST_CLIPS = ("ad", "vertical")


class TextRound(BaseModel):
    detect_s: float
    text_s: float


class VideoTextBench(BaseModel):
    name: str
    duration_s: float
    shots: int
    text_shots: int  # flagged by the detect stage
    frames_read: int
    lines: int
    sample: list[str]  # a few of the lines read
    rounds: list[TextRound]

    @property
    def ratio(self) -> float:
        """Median over rounds of text ÷ detect."""
        return statistics.median(r.text_s / r.detect_s for r in self.rounds)

    @property
    def text_s(self) -> float:
        return statistics.median(r.text_s for r in self.rounds)

    @property
    def detect_s(self) -> float:
        return statistics.median(r.detect_s for r in self.rounds)

    @property
    def per_minute_s(self) -> float:
        return self.text_s * 60.0 / self.duration_s if self.duration_s else 0.0

    @property
    def per_frame_s(self) -> float:
        return self.text_s / self.frames_read if self.frames_read else 0.0


def test_clips(folder: Path | None = None) -> list[Path]:
    """The test suite's clips at their own size, made once and reused."""
    folder = folder or Path(tempfile.gettempdir()) / "adref-bench"
    out = []
    for kind in TEST_CLIPS:
        path = folder / f"text-{kind}-v{CLIPS_VERSION}.mp4"
        if not (path.exists() and path.stat().st_size > 0):
            make_clip(kind, path)
        out.append(path)
    return out


def bench_video(
    video: Path, settings: Settings, repeat: int, on_step: Callable[[str], None] | None = None
) -> VideoTextBench:
    detect_params, text_params = (
        DetectParams.from_settings(settings),
        TextParams.from_settings(settings),
    )
    rounds = []
    result = None
    detected = None
    for i in range(max(1, repeat) + 1):  # the first round warms up (imports, Tesseract's start)
        if on_step is not None:
            on_step(f"{video.name}: round {i}/{repeat}")
        started = time.perf_counter()
        detected = detect_shots(video, detect_params)
        middle = time.perf_counter()
        result = read_texts(video, detected.shots, text_params)
        ended = time.perf_counter()
        if i:
            rounds.append(TextRound(detect_s=middle - started, text_s=ended - middle))
    assert result is not None and detected is not None
    return VideoTextBench(
        name=video.name,
        duration_s=detected.stream.duration_s,
        shots=len(detected.shots),
        text_shots=sum(s.has_text for s in detected.shots),
        frames_read=result.frames_read,
        lines=len(result.texts),
        sample=[t.text for t in result.texts[:6]],
        rounds=rounds,
    )


class SpeechBench(BaseModel):
    name: str
    audio_s: float  # the track's length; 0 when the video has none
    transcribe_s: float
    segments: int
    model: str

    @property
    def real_time_factor(self) -> float:
        return self.transcribe_s / self.audio_s if self.audio_s else 0.0


def bench_speech(
    video: Path,
    settings: Settings,
    make: Callable[[SpeechParams, Settings], Transcriber] = make_transcriber,
) -> SpeechBench | None:
    """The local engine's time on the video's audio (loaded first, so the model's start is not
    counted); ``None`` when no local engine is configured."""
    params = SpeechParams.from_settings(settings)
    if params.engine != "local":
        return None
    engine = make(params, settings)
    with tempfile.TemporaryDirectory(prefix="adref-bench-speech-") as folder:
        track = extract_audio(video, Path(folder) / "audio.wav")
        if track is None:
            return SpeechBench(
                name=video.name, audio_s=0.0, transcribe_s=0.0, segments=0, model=engine.model
            )
        engine.transcribe(track.path, params.language, track.duration_s)  # warm: load the model
        started = time.perf_counter()
        heard = engine.transcribe(track.path, params.language, track.duration_s)
        took = time.perf_counter() - started
    return SpeechBench(
        name=video.name,
        audio_s=track.duration_s,
        transcribe_s=took,
        segments=len(heard.segments),
        model=engine.model,
    )
