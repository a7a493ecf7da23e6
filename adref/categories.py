"""Genre and expression-format codes, labelled in Korean and English (DESIGN.md).

Stored as codes; labels are for people. The lists below are defaults: the seed let users edit
them, so ``ADREF_CATEGORIES_FILE`` may name a JSON file that replaces either list, e.g.
``{"genres": {"unboxing": ["언박싱", "Unboxing"]}, "formats": {...}}``. That is why they are
data and not an Enum.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from adref.errors import InputError
from adref.settings import get_settings

GENRES: dict[str, tuple[str, str]] = {
    "2d_animation": ("2D애니메이션", "2D animation"),
    "3d_animation": ("3D애니메이션", "3D animation"),
    "motion_graphics": ("모션그래픽", "Motion graphics"),
    "interview": ("인터뷰", "Interview"),
    "spot_ad": ("스팟광고", "Spot ad"),
    "vlog": ("VLOG", "Vlog"),
    "youtube_content": ("유튜브콘텐츠", "YouTube content"),
    "documentary": ("다큐멘터리", "Documentary"),
    "brand_film": ("브랜드필름", "Brand film"),
    "tvc": ("TVC", "TV commercial"),
    "music_video": ("뮤직비디오", "Music video"),
    "educational": ("교육콘텐츠", "Educational"),
    "product_intro": ("제품소개", "Product introduction"),
    "event_video": ("이벤트영상", "Event video"),
    "web_drama": ("웹드라마", "Web drama"),
    "viral_video": ("바이럴영상", "Viral video"),
}

FORMATS: dict[str, tuple[str, str]] = {
    "2d": ("2D", "2D"),
    "3d": ("3D", "3D"),
    "live_action": ("실사", "Live action"),
    "hybrid": ("혼합형", "Hybrid"),
    "stop_motion": ("스톱모션", "Stop motion"),
    "typography": ("타이포그래피", "Typography"),
}


Table = dict[str, tuple[str, str]]
_override: ContextVar[tuple[Table, Table] | None] = ContextVar("adref_categories", default=None)


@contextmanager
def using(genre_table: Table, format_table: Table) -> Iterator[None]:
    """Validate against these tables in this block: the ones a prompt offered, which a Prefect
    Variable may have changed since the file and built-in lists were read."""
    token = _override.set((genre_table, format_table))
    try:
        yield
    finally:
        _override.reset(token)


def genres() -> Table:
    return _effective()[0]


def formats() -> Table:
    return _effective()[1]


def _effective() -> tuple[Table, Table]:
    if (override := _override.get()) is not None:
        return override
    path = get_settings().categories_file
    if path is None:
        return GENRES, FORMATS
    path = path.expanduser()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise InputError(
            f"cannot read the categories file {path}", exc.strerror or str(exc)
        ) from None
    return _load(path, stamp)


@lru_cache(maxsize=4)
def _load(path: Path, stamp: int) -> tuple[Table, Table]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return parse_table(data.get("genres"), GENRES), parse_table(data.get("formats"), FORMATS)
    except (ValueError, AttributeError, TypeError) as exc:
        raise InputError(
            f"cannot use the categories file {path}",
            str(exc),
            'Write JSON like {"genres": {"code": ["한국어", "English"]}, "formats": {...}}',
        ) from None


def parse_table(raw: object, default: Table) -> Table:
    """A list from JSON (code → [Korean, English]); ``default`` when absent."""
    if raw is None:
        return default
    if not isinstance(raw, dict) or not raw:
        raise ValueError("each list must be a non-empty object of code -> [Korean, English]")
    table: Table = {}
    for code, labels in raw.items():
        if not isinstance(labels, list | tuple) or len(labels) != 2:
            raise ValueError(f"{code!r} needs two labels, Korean and English")
        table[str(code)] = (str(labels[0]), str(labels[1]))
    return table


def label(table: dict[str, tuple[str, str]], code: str | None, language: str = "ko") -> str:
    if code is None:
        return "—"
    ko, en = table.get(code, (code, code))
    return ko if language == "ko" else en
