"""The audio track, extracted once per video with the bundled ffmpeg (imageio-ffmpeg's binary).

Every engine gets the same file: 16 kHz mono 16-bit PCM in a WAV container, what Whisper models
take as input and the smallest upload that loses nothing they use (a 30 s ad is ~1 MB). A video
without an audio stream has no track: ``None``, not an error.
"""

from __future__ import annotations

import math
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from adref.errors import InputError

SAMPLE_RATE = 16_000
_FFMPEG_TIMEOUT_S = 600.0
SILENCE_DBFS = -50.0  # a track whose loudest moment stays under this is silence (no request)


@dataclass(frozen=True)
class AudioTrack:
    path: Path  # 16 kHz mono PCM WAV
    duration_s: float
    peak_dbfs: float  # the loudest 20 ms, dBFS (-inf for digital silence)

    @property
    def silent(self) -> bool:
        return self.peak_dbfs < SILENCE_DBFS


def has_audio(video: Path) -> bool:
    """Whether the file has an audio stream (read from the container's header, nothing decoded)."""
    try:
        with av.open(str(video)) as container:
            return bool(container.streams.audio)
    except av.FFmpegError as exc:
        raise InputError(f"cannot read {video.name}", str(exc)) from None


def extract_audio(video: Path, out: Path) -> AudioTrack | None:
    """The first audio stream of ``video`` as ``out`` (WAV); ``None`` when it has none."""
    if not has_audio(video):
        return None
    import imageio_ffmpeg

    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-i",
        str(video),
        "-map",
        "0:a:0",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-c:a",
        "pcm_s16le",
        "-f",
        "wav",
        str(out),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_FFMPEG_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise InputError(
            f"the audio of {video.name} could not be extracted", "ffmpeg took too long"
        ) from None
    if done.returncode != 0 or not out.is_file():
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise InputError(f"the audio of {video.name} could not be extracted", last[:200])
    return read_track(out)


def read_track(path: Path) -> AudioTrack:
    """A WAV file's duration and peak level (mono 16-bit, as ``extract_audio`` writes it)."""
    with wave.open(str(path), "rb") as w:
        rate, frames = w.getframerate(), w.getnframes()
        samples = np.frombuffer(w.readframes(frames), dtype="<i2")
    duration = frames / rate if rate else 0.0
    return AudioTrack(path=path, duration_s=duration, peak_dbfs=peak_dbfs(samples, rate))


def peak_dbfs(samples: np.ndarray, rate: int) -> float:
    """The RMS level of the loudest 20 ms window, dBFS: clicks do not count as sound."""
    window = max(1, rate // 50)
    usable = len(samples) - len(samples) % window
    if usable == 0:
        return -math.inf
    blocks = samples[:usable].astype(np.float64).reshape(-1, window) / 32768.0
    rms = float(np.sqrt((blocks**2).mean(axis=1)).max())
    return 20.0 * math.log10(rms) if rms > 0 else -math.inf


def pieces(track: AudioTrack, max_s: float) -> list[tuple[Path, float]]:
    """The track cut into files of at most ``max_s`` seconds beside it, each with its offset
    (the track itself when it is short enough): for upload limits such as OpenAI's 25 MB."""
    if track.duration_s <= max_s:
        return [(track.path, 0.0)]
    out = []
    with wave.open(str(track.path), "rb") as w:
        rate, step = w.getframerate(), int(max_s * w.getframerate())
        params = w.getparams()
        for i in range(math.ceil(w.getnframes() / step)):
            path = track.path.with_name(f"{track.path.stem}-{i:03d}.wav")
            with wave.open(str(path), "wb") as piece:
                piece.setparams(params)
                piece.writeframes(w.readframes(step))
            out.append((path, i * step / rate))
    return out
