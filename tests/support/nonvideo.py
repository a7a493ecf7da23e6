"""Files that are not videos but that FFmpeg may open anyway, made on the spot.

Each comes with the content type a web server would give it and the reason adref must give
when refusing it. The CD+G one is a plain sentence: FFmpeg's CD+G karaoke demuxer claims any
file whose 24-byte packets start with a byte it takes for a graphics command ('I' or a tab).
"""

from __future__ import annotations

import io
import wave
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.media import make_audio_only, run_ffmpeg

__all__ = ["CDG_SENTENCE", "NON_VIDEO_KINDS", "NonVideo", "make_non_videos"]

NON_VIDEO_KINDS = (
    *("text", "cdg-text", "html", "json", "svg", "pdf", "zip"),
    *("srt", "vtt", "ass", "wav", "m4a", "mp3"),
)

CDG_SENTENCE = b"I think, therefore I am; said Descartes.\n"

_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48">'
    b'<rect width="64" height="48" fill="red"/></svg>'
)
_SRT = (
    b"1\n00:00:00,000 --> 00:00:02,000\nNew flavour!\n\n2\n00:00:02,000 --> 00:00:04,000\nBuy now\n"
)
_VTT = b"WEBVTT\n\n00:00.000 --> 00:02.000\nNew flavour!\n"
_ASS = (
    b"[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname\n"
    b"Style: Default,Arial\n\n[Events]\nFormat: Layer, Start, End, Style, Text\n"
    b"Dialogue: 0,0:00:00.00,0:00:02.00,Default,New flavour!\n"
)


@dataclass(frozen=True)
class NonVideo:
    body: bytes
    content_type: str
    reason: str  # what the refusal must say


def make_non_videos(folder: Path) -> dict[str, NonVideo]:
    """Text, web, document, archive, subtitle and audio files, by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    text = "it contains text"
    subtitles = "it holds subtitles only"
    audio = "it contains audio only"
    return {
        "text": NonVideo(b"Shopping list: eggs, milk, film.\n" * 20, "text/plain", text),
        "cdg-text": NonVideo(CDG_SENTENCE, "text/plain", text),
        "html": NonVideo(
            b"<!DOCTYPE html><html><body>Video removed</body></html>",
            "text/html",
            "it is an HTML web page",
        ),
        "json": NonVideo(b'{"error": "not found", "items": [1, 2, 3]}', "application/json", text),
        "svg": NonVideo(_SVG, "image/svg+xml", "it is a still image (SVG)"),
        "pdf": NonVideo(_PDF, "application/pdf", "it is a PDF document"),
        "zip": NonVideo(_zip(), "application/zip", "it is a ZIP archive"),
        "srt": NonVideo(_SRT, "application/x-subrip", subtitles),
        "vtt": NonVideo(_VTT, "text/vtt", subtitles),
        "ass": NonVideo(_ASS, "text/x-ssa", subtitles),
        "wav": NonVideo(_wav(), "audio/wav", audio),
        "m4a": NonVideo(make_audio_only(folder / "tone.m4a").read_bytes(), "audio/mp4", audio),
        "mp3": NonVideo(_mp3(folder / "tone.mp3"), "audio/mpeg", audio),
    }


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "brand guidelines")
    return buffer.getvalue()


def _wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x10" * int(seconds * rate))
    return buffer.getvalue()


def _mp3(path: Path) -> bytes:
    run_ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libmp3lame", str(path))
    return path.read_bytes()
