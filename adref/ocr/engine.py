"""Tesseract, in-process through tesserocr.

Measured here on a 900x90 line of Korean and English (kor+eng, one thread): tesserocr 31-46 ms
per image after a 0.1 s start; pytesseract 216 ms, because every image is a new process that
loads the language data again and goes through a PNG file. A video has dozens of line images,
so the in-process API is the one that keeps OCR cheap beside the detect stage.

The wheel bundles its own libtesseract; the language data comes from Debian's
``tesseract-ocr-<lang>`` packages (or ``ADREF_TESSDATA_DIR``), found by ``tessdata``: nothing
is downloaded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tesserocr
from PIL import Image

from adref.errors import InputError
from adref.ocr.tessdata import languages

# Scripts by Tesseract language: the one a line is mostly written in names its language.
_SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "kor": ((0xAC00, 0xD7A3), (0x1100, 0x11FF), (0x3130, 0x318F)),
    "jpn": ((0x3040, 0x30FF),),
    "chi_sim": ((0x4E00, 0x9FFF),),
    "chi_tra": ((0x4E00, 0x9FFF),),
    "eng": ((0x41, 0x5A), (0x61, 0x7A)),
}


@dataclass(frozen=True)
class Reading:
    text: str
    confidence: float  # 0-100, Tesseract's mean word confidence


def language_of(text: str, spec: str) -> str | None:
    """The configured language whose script has most letters in ``text`` (None: no letters)."""
    counts: dict[str, int] = {}
    for lang in languages(spec):
        ranges = _SCRIPTS.get(lang)
        if ranges:
            counts[lang] = sum(1 for ch in text if any(lo <= ord(ch) <= hi for lo, hi in ranges))
    best = max(counts.items(), key=lambda kv: kv[1], default=(None, 0))
    return best[0] if best[1] else None


def version() -> str:
    return "tesseract-" + tesserocr.tesseract_version().split()[1]


class LineReader:
    """One Tesseract instance reading single lines; not shared between threads."""

    def __init__(self, spec: str, tessdata: Path) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        try:
            self._api = tesserocr.PyTessBaseAPI(
                path=str(tessdata) + "/", lang=spec, psm=tesserocr.PSM.SINGLE_LINE
            )
        except RuntimeError as exc:
            raise InputError(f"Tesseract could not start with {spec}", why=str(exc)) from None

    def read(self, image: np.ndarray) -> Reading:
        """``image``: one line of dark text on white (uint8, one channel)."""
        with self._lock:
            self._api.SetImage(Image.fromarray(image))
            text = " ".join(self._api.GetUTF8Text().split())
            confidence = float(self._api.MeanTextConf()) if text else 0.0
        return Reading(text, confidence)

    def close(self) -> None:
        self._api.End()

    def __enter__(self) -> LineReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
