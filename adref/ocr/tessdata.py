"""Where Tesseract's language data is: plain file lookups, so asking needs no Tesseract.

The flow asks before its text stage runs (``TextParams.from_settings``), and ``adref doctor``
asks too; only reading (``engine``) loads tesserocr, Pillow and NumPy.
"""

from __future__ import annotations

from pathlib import Path

from adref.errors import InputError

# Where Debian (and most distributions) put the traineddata files.
_TESSDATA = (
    Path("/usr/share/tesseract-ocr/5/tessdata"),
    Path("/usr/share/tesseract-ocr/4.00/tessdata"),
    Path("/usr/share/tessdata"),
    Path("/usr/local/share/tessdata"),
)


def languages(spec: str) -> list[str]:
    return [part for part in spec.split("+") if part]


def tessdata_dir(spec: str, configured: Path | None) -> Path:
    """The folder holding every language of ``spec``; a clear error naming what is missing."""
    wanted = languages(spec)
    candidates = (configured,) if configured is not None else _TESSDATA
    for folder in candidates:
        if folder is not None and all(
            (folder / f"{lang}.traineddata").is_file() for lang in wanted
        ):
            return folder
    where = str(configured) if configured is not None else ", ".join(map(str, _TESSDATA))
    return _missing(wanted, where)


def _missing(wanted: list[str], where: str) -> Path:
    packages = " ".join(f"tesseract-ocr-{lang.replace('_', '-')}" for lang in wanted)
    raise InputError(
        f"Tesseract language data for {'+'.join(wanted)} not found",
        why=f"looked in {where}",
        hint=f"Install it (apt-get install {packages}) or set ADREF_TESSDATA_DIR",
    )
