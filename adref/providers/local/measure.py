"""The measured features of a video, a scene group or the hook, summed up for the rules.

Shares are of screen time (shot durations), not of shot counts, so a flash frame cannot
outvote a long take. The results are numbers and language-free codes; the words come later
(``local_text``), so the same cues read the same in Korean and English.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adref.errors import InputError
from adref.models import Shot, StreamInfo
from adref.providers.local import rules
from adref.providers.local.rules import BLACK_LEVEL, HOOK_S, MIN_COLOUR_SHARE, MULTI_FACE_COUNT


@dataclass(frozen=True)
class Look:
    warmth: str | None  # warm / cool
    light: str | None  # bright / dark
    colour: str | None  # vivid / muted / monochrome
    colours: list[tuple[str, float]]  # colour name, share of the palette
    brightness: float
    saturation: float
    warmth_value: float
    colourfulness: float
    black: bool


@dataclass(frozen=True)
class Span:
    """Cues of a set of shots (a group, the hook, the whole video)."""

    look: Look
    shot_type: str | None
    camera: str | None
    camera_shares: dict[str, float]
    face_share: float
    close_up_share: float
    multi_face: bool
    text_share: float
    text_area: float
    flatness: float
    motion: float


@dataclass(frozen=True)
class Measures:
    duration_s: float
    aspect_code: str
    orientation: str  # vertical / square / landscape
    length_code: str | None  # "15s", "60s+"
    short_form: bool
    bumper: bool
    n_shots: int
    cuts_per_min: float
    mean_shot_s: float
    median_shot_s: float
    std_shot_s: float
    pace: str  # fast / moderate / slow / single_take
    video: Span
    hook: Span
    hook_cuts: int
    opens_from_black: bool
    end_card_text: bool
    expression_format: str | None
    genre: str | None
    genre_confidence: float | None


def measure(shots: Sequence[Shot], stream: StreamInfo) -> Measures:
    ordered = sorted(shots, key=lambda s: (s.start_s, s.shot_index))
    duration = max(stream.duration_s, ordered[-1].end_s)
    if duration <= 0:
        raise InputError("the video has no duration", "its shots and stream are 0 s long")
    lengths = [max(s.duration_s, 0.0) for s in ordered]
    n = len(ordered)
    cuts_per_min = (n - 1) / duration * 60 if duration > 0 else 0.0
    aspect = stream.aspect
    orientation = "vertical" if aspect < 0.9 else "square" if aspect <= 1.1 else "landscape"
    video = span(ordered, aspect)
    hook_shots = [s for s in ordered if s.start_s < HOOK_S] or ordered[:1]
    hook = span(hook_shots, aspect, clip_to=HOOK_S)
    short_form = orientation == "vertical" and duration <= rules.SHORT_FORM_MAX_S
    bumper = duration <= rules.BUMPER_MAX_S
    fmt = rules.expression_format(
        video.flatness, video.text_share, video.text_area, video.face_share
    )
    genre, confidence = rules.genre(fmt, video.text_share, short_form, bumper)
    return Measures(
        duration_s=duration,
        aspect_code=rules.aspect_code(stream.width, stream.height),
        orientation=orientation,
        length_code=rules.length_code(duration),
        short_form=short_form,
        bumper=bumper,
        n_shots=n,
        cuts_per_min=cuts_per_min,
        mean_shot_s=statistics.fmean(lengths),
        median_shot_s=statistics.median(lengths),
        std_shot_s=statistics.pstdev(lengths),
        pace=rules.pace(n, cuts_per_min),
        video=video,
        hook=hook,
        hook_cuts=sum(1 for s in ordered if 0 < s.start_s < HOOK_S),
        opens_from_black=ordered[0].brightness < BLACK_LEVEL,
        end_card_text=_end_card_text(ordered),
        expression_format=fmt,
        genre=genre,
        genre_confidence=confidence,
    )


def span(shots: Sequence[Shot], aspect: float, clip_to: float | None = None) -> Span:
    """Screen-time-weighted cues of ``shots`` (optionally only their part before ``clip_to``)."""
    weights = [_screen_time(s, clip_to) for s in shots]
    types = [rules.shot_type(s, aspect) for s in shots]
    cameras = [rules.camera_movement(s) for s in shots]
    camera_shares = _shares(cameras, weights)
    text_weights = [w for s, w in zip(shots, weights, strict=True) if s.has_text]
    text_areas = [s.text_area for s in shots if s.has_text]
    return Span(
        look=look(shots, weights),
        shot_type=_dominant(types, weights),
        camera=_dominant(cameras, weights),
        camera_shares=camera_shares,
        face_share=_share((s.face_count > 0 for s in shots), weights),
        close_up_share=_share((t == "close_up" for t in types), weights),
        multi_face=any(s.face_count >= MULTI_FACE_COUNT for s in shots),
        text_share=sum(text_weights) / sum(weights),
        text_area=_mean(text_areas, text_weights),
        flatness=_mean([s.flatness for s in shots], weights),
        motion=_mean([s.motion for s in shots], weights),
    )


def look(shots: Sequence[Shot], weights: Sequence[float]) -> Look:
    brightness = _mean([s.brightness for s in shots], weights)
    saturation = _mean([s.saturation for s in shots], weights)
    warmth = _mean([s.warmth for s in shots], weights)
    colourfulness = _mean([s.colourfulness for s in shots], weights)
    named: dict[str, float] = {}
    for shot, weight in zip(shots, weights, strict=True):
        for entry in shot.palette:
            name = rules.colour_name(entry.hex)
            named[name] = named.get(name, 0.0) + entry.weight * weight
    total = sum(named.values()) or 1.0
    ranked = sorted(named.items(), key=lambda kv: (-kv[1], kv[0]))
    colours = [(name, w / total) for name, w in ranked if w / total >= MIN_COLOUR_SHARE][:3]
    return Look(
        warmth=rules.band(warmth, ("cool", rules.COOL_WARMTH), ("warm", rules.WARM_WARMTH)),
        light=rules.band(brightness, ("dark", rules.DARK_LEVEL), ("bright", rules.BRIGHT_LEVEL)),
        colour=rules.colour_kind(saturation, colourfulness),
        colours=colours,
        brightness=brightness,
        saturation=saturation,
        warmth_value=warmth,
        colourfulness=colourfulness,
        black=brightness < BLACK_LEVEL,
    )


def _end_card_text(ordered: Sequence[Shot]) -> bool:
    """Text on the last picture before any closing fade to black."""
    for shot in reversed(ordered):
        if shot.brightness >= BLACK_LEVEL:
            return shot.has_text
    return False


def _screen_time(shot: Shot, clip_to: float | None) -> float:
    end = shot.end_s if clip_to is None else min(shot.end_s, clip_to)
    return max(end - shot.start_s, 1e-3)


def _shares(labels: Sequence[str | None], weights: Sequence[float]) -> dict[str, float]:
    """Share of screen time per label, largest first; shots without a cue count as ""."""
    total = sum(weights)
    shares: dict[str, float] = {}
    for label, weight in zip(labels, weights, strict=True):
        key = label or ""
        shares[key] = shares.get(key, 0.0) + weight / total
    return dict(sorted(shares.items(), key=lambda kv: (-kv[1], kv[0])))


def _dominant(labels: Sequence[str | None], weights: Sequence[float]) -> str | None:
    """The label with the most screen time; None when shots without a cue have the most."""
    return next(iter(_shares(labels, weights))) or None


def _share(flags: Iterable[bool], weights: Sequence[float]) -> float:
    return sum(w for f, w in zip(flags, weights, strict=True) if f) / sum(weights)


def _mean(values: Sequence[float], weights: Sequence[float]) -> float:
    total = sum(weights)
    return sum(v * w for v, w in zip(values, weights, strict=True)) / total if total else 0.0
