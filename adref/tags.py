"""Tags as people mean them: one spelling per tag, whichever keyboard or site wrote it.

Tags arrive from sites (through yt-dlp), from models, from ``--tag`` and from the viewer's edit
form, in any Unicode form: full-width letters (``ＳＡＬＥ``), Hangul decomposed into jamo (NFD, as
macOS file names and some sites send it), no-break and ideographic spaces. A tag is kept in NFKC
with its whitespace collapsed, so the same word is stored, indexed and filtered as one value; two
tags are the same tag when they match ignoring case and a leading ``#``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def normal(tag: object) -> str:
    """The stored spelling: NFKC, whitespace runs as one space, trimmed ("" for no tag)."""
    return " ".join(unicodedata.normalize("NFKC", str(tag)).split())


def key(tag: object) -> str:
    """What two spellings of one tag share ("#Summer", "summer" and "ｓｕｍｍｅｒ" alike)."""
    return _fold(normal(tag))


def _fold(spelling: str) -> str:
    return spelling.lstrip("#").strip().casefold()


def unique(tags: Iterable[object | None]) -> list[str]:
    """Each tag once, in its first spelling, in order; empty ones dropped."""
    kept: dict[str, str] = {}
    for tag in tags:
        if tag is None:
            continue
        spelling = normal(tag)
        if k := _fold(spelling):
            kept.setdefault(k, spelling)
    return list(kept.values())
