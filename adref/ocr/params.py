"""What changes the text step's rows: its parameters, apart from the reader.

Light on purpose: the flow builds them from the settings before the stage runs, and importing
the step itself (``adref.ocr.read``) loads OpenCV, NumPy, PyAV and Tesseract.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from adref.errors import InputError
from adref.ocr.tessdata import tessdata_dir
from adref.settings import Settings

TEXT_VERSION = "1"  # bump whenever the rows would change for the same video and settings


class TextParams(BaseModel):
    """Everything that changes the text step's rows (so: part of its cache key)."""

    model_config = ConfigDict(frozen=True)

    languages: str = "kor+eng"
    min_confidence: float = 0.6
    tessdata: str | None = None
    version: str = TEXT_VERSION
    # Why Tesseract cannot read here (its language data is not installed); empty when it can.
    # Part of the key, so text is read once the data is installed, not served from cache.
    unavailable: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> TextParams:
        params = cls(
            languages=settings.ocr_languages,
            min_confidence=settings.ocr_min_confidence,
            tessdata=str(settings.tessdata_dir) if settings.tessdata_dir else None,
        )
        try:
            tessdata_dir(params.languages, settings.tessdata_dir)
        except InputError as exc:
            return params.model_copy(update={"unavailable": exc.one_line()})
        return params
