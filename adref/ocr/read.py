"""The text step: read what is written on screen in the shots the detect stage flagged.

Only shots with ``has_text`` are read. Each is read at its keyframe; a shot of a second or more
is also looked at near its end, and one of three seconds or more near its start too; a line
found there that the keyframe does not show (text that appears, leaves or changes during the
shot) is read as well. The look is the cheap MSER line finder; only new lines reach Tesseract.

A super held through a shot is read once per frame it was read in: the readings of one shot are
de-duplicated (same text, or nearly, as Tesseract misreads a letter between frames), keeping the
most confident one. Lines under ``min_confidence``, or with fewer than two letters or digits,
are dropped as noise (a texture read as ``"|||"``, half a word).
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from adref.models import Shot, ShotText, TextResult
from adref.ocr import engine
from adref.ocr.frames import grey_frames
from adref.ocr.params import TextParams
from adref.ocr.prepare import LineImage, line_images
from adref.ocr.tessdata import tessdata_dir
from adref.video.text import Box, text_lines

# (share of the shot's length, shortest shot probed there): a super that comes in late is the
# common case, one gone before the keyframe the rarer one, worth a look in long shots only.
_PROBES = ((0.85, 1.0), (0.15, 3.0))
_PROBE_NEAR_S = 0.3  # a probe this close to the keyframe shows nothing the keyframe does not
_SAME_TEXT = 0.8  # difflib ratio over which two readings in one shot are one line
_SAME_PLACE = 0.5  # box overlap (intersection over union) over which a line is one seen before
_SURE = 85.0  # Tesseract confidence (0-100) past which the other polarity is not read
_CHANGED = 18.0  # mean grey difference (0-255) over which a line in the same place has changed


@dataclass(frozen=True)
class Moment:
    shot: Shot
    time_s: float


def plan(shots: Sequence[Shot]) -> list[Moment]:
    """The moments worth decoding: the flagged shots' keyframes, and probes in long ones."""
    moments = []
    for shot in shots:
        if not shot.has_text:
            continue
        moments.append(Moment(shot, shot.keyframe_s))
        length = shot.end_s - shot.start_s
        for share, shortest in _PROBES:
            t = shot.start_s + share * length
            if length >= shortest and abs(t - shot.keyframe_s) > _PROBE_NEAR_S:
                moments.append(Moment(shot, t))
    return moments


def read_texts(
    path: Path,
    shots: Sequence[Shot],
    params: TextParams,
    progress: Callable[[float], None] | None = None,
) -> TextResult:
    """Every line of text read on screen, per shot, de-duplicated and with noise dropped."""
    moments = plan(shots)
    engine_name = f"{engine.version()}:{params.languages}"
    if not moments:  # nothing flagged: Tesseract is not even started
        return TextResult(engine=engine_name, params=params.model_dump())
    if params.unavailable:  # the rest of the analysis does not need the words
        return TextResult(
            engine=engine_name,
            params=params.model_dump(),
            skipped=f"on-screen text not read: {params.unavailable}",
        )
    reader = _reader(params.languages, params.tessdata)
    by_time: dict[float, list[Moment]] = {}
    for m in moments:
        by_time.setdefault(m.time_s, []).append(m)
    seen: dict[int, list[tuple[Box, np.ndarray]]] = {}  # per shot: lines already read
    readings: dict[int, list[ShotText]] = {}
    done = 0
    for t, grey in grey_frames(path, list(by_time)):
        for moment in by_time[t]:
            index = moment.shot.shot_index
            lines = _new_lines(grey, seen.setdefault(index, []))
            for line in lines:
                row = _row(moment.shot, line, _best(reader, line), params)
                readings.setdefault(index, []).append(row)
            done += 1
        if progress is not None:
            progress(done / len(moments))
    texts = [
        row
        for shot in shots
        for row in kept(readings.get(shot.shot_index, []), params.min_confidence)
    ]
    return TextResult(
        texts=texts,
        frames_read=len(by_time),
        engine=engine_name,
        params=params.model_dump(),
    )


def read_frame(grey: np.ndarray, params: TextParams) -> list[ShotText]:
    """The lines of one picture, as the step keeps them (for tests and the benchmark)."""
    reader = _reader(params.languages, params.tessdata)
    shot = _Picture(shot_index=0, start_s=0.0)
    rows = [_row(shot, line, _best(reader, line), params) for line in _new_lines(grey, [])]
    return kept(rows, params.min_confidence)


@dataclass(frozen=True)
class _Picture:
    shot_index: int
    start_s: float


def _best(reader: engine.LineReader, line: LineImage) -> engine.Reading:
    """Both polarities may look like text (an outlined super): the likelier one is read first,
    the other only when that reading is not already sure; the more confident reading wins."""
    best = reader.read(line.images[0])
    for image in line.images[1:]:
        if best.confidence >= _SURE:
            break
        other = reader.read(image)
        best = other if other.confidence > best.confidence else best
    return best


def _new_lines(grey: np.ndarray, seen: list[tuple[Box, np.ndarray]]) -> list[LineImage]:
    """The frame's lines not already read in this shot (same place, same look), prepared."""
    found = text_lines(grey)
    fresh = []
    for box in found:
        patch = _patch(grey, box)
        if any(_same_line(box, patch, b, p) for b, p in seen):
            continue
        fresh.append(box)
        seen.append((box, patch))
    return line_images(grey, fresh) if fresh else []


def _patch(grey: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return cv2.resize(grey[y : y + h, x : x + w], (64, 16), interpolation=cv2.INTER_AREA)


def _same_line(box: Box, patch: np.ndarray, other: Box, other_patch: np.ndarray) -> bool:
    if _iou(box, other) < _SAME_PLACE:
        return False
    diff = np.abs(patch.astype(np.int16) - other_patch.astype(np.int16))
    return float(diff.mean()) < _CHANGED


def _iou(a: Box, b: Box) -> float:
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def _row(
    shot: Shot | _Picture, line: LineImage, reading: engine.Reading, params: TextParams
) -> ShotText:
    return ShotText(
        shot_index=shot.shot_index,
        start_s=shot.start_s,
        text=unicodedata.normalize("NFC", reading.text),
        confidence=round(reading.confidence / 100.0, 4),
        box=line.box,
        language=engine.language_of(reading.text, params.languages),
    )


def kept(rows: list[ShotText], min_confidence: float) -> list[ShotText]:
    """One shot's readings without noise and without repeats, top to bottom on screen."""
    best: list[ShotText] = []
    for row in sorted(rows, key=lambda r: -r.confidence):
        if row.confidence < min_confidence or _letters(row.text) < 2:
            continue
        if any(_similar(row.text, b.text) for b in best):
            continue
        best.append(row)
    return sorted(best, key=lambda r: (r.box[1], r.box[0]))


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _similar(a: str, b: str) -> bool:
    ka, kb = _key(a), _key(b)
    return ka == kb or SequenceMatcher(None, ka, kb).ratio() >= _SAME_TEXT


_readers_lock = threading.Lock()


@lru_cache(maxsize=4)
def _cached_reader(languages: str, tessdata: str) -> engine.LineReader:
    return engine.LineReader(languages, Path(tessdata))


def _reader(languages: str, tessdata: str | None) -> engine.LineReader:
    """One Tesseract per process and language set: starting one costs ~0.1 s."""
    folder = tessdata_dir(languages, Path(tessdata) if tessdata else None)
    with _readers_lock:
        return _cached_reader(languages, str(folder))
