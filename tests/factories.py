"""Hand-built ``Shot`` / ``StreamInfo`` objects for tests that need measured features, not pixels.

A *look* is what the detect stage would have measured for a kind of frame (palette, light,
colour). Shots of the same look get nearly the same feature vector; ``jitter`` adds the small,
seeded noise that real measurements have, so tests stay deterministic.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from adref.models import PaletteColor, Shot, StreamInfo


@dataclass(frozen=True)
class Look:
    palette: tuple[tuple[str, float], ...]
    brightness: float
    saturation: float
    warmth: float
    colourfulness: float


LOOKS: dict[str, Look] = {
    "warm": Look((("#e8883a", 0.5), ("#f4d29c", 0.3), ("#7a3b1e", 0.2)), 0.62, 0.55, 0.5, 0.5),
    "cool": Look((("#2f6fb5", 0.5), ("#9fc7e8", 0.3), ("#16324f", 0.2)), 0.5, 0.5, -0.5, 0.45),
    "green": Look((("#3f9b46", 0.6), ("#a8d5a2", 0.25), ("#1d3b20", 0.15)), 0.5, 0.5, 0.0, 0.45),
    "red": Look((("#d32f2f", 0.6), ("#f5b7b1", 0.25), ("#4a0f0f", 0.15)), 0.45, 0.7, 0.6, 0.7),
    "purple": Look((("#7b3fb0", 0.6), ("#d1b3ea", 0.25), ("#2a1440", 0.15)), 0.4, 0.55, -0.1, 0.5),
    "grey": Look((("#808080", 0.6), ("#b0b0b0", 0.25), ("#404040", 0.15)), 0.5, 0.03, 0.0, 0.03),
    "white_card": Look((("#f7f7f7", 0.85), ("#202020", 0.15)), 0.9, 0.02, 0.0, 0.02),
    "night": Look((("#101820", 0.7), ("#2c3e50", 0.2), ("#f1c40f", 0.1)), 0.15, 0.3, -0.2, 0.2),
    "black": Look((("#050505", 1.0),), 0.02, 0.0, 0.0, 0.0),
}

_HUE_BINS = 8
_LIGHT_BINS = 4


def look_vector(
    look: Look, jitter: float = 0.0, rng: np.random.Generator | None = None
) -> list[float]:
    """A 15-dim colour signature (soft hue and lightness histograms plus light), L2-normalised."""
    hue = np.zeros(_HUE_BINS)
    light = np.zeros(_LIGHT_BINS)
    for hex_, weight in look.palette:
        r, g, b = (int(hex_[i : i + 2], 16) / 255 for i in (1, 3, 5))
        h, s, v = colorsys.rgb_to_hsv(r, g, b)
        light[min(_LIGHT_BINS - 1, int(v * _LIGHT_BINS))] += weight
        if s > 0.15 and v > 0.15:
            hue[int(h * _HUE_BINS) % _HUE_BINS] += weight * s
    vec = np.concatenate([hue, light, [look.brightness, look.saturation, look.colourfulness]])
    if jitter and rng is not None:
        vec = vec + rng.normal(0.0, jitter, vec.shape)
    vec = np.clip(vec, 0.0, None) + 1e-6
    return (vec / np.linalg.norm(vec)).tolist()


def make_stream(
    duration_s: float, width: int = 1920, height: int = 1080, fps: float = 30.0
) -> StreamInfo:
    return StreamInfo(
        width=width,
        height=height,
        fps=fps,
        duration_s=duration_s,
        frame_count=round(duration_s * fps),
        codec="h264",
    )


def make_shot(
    index: int,
    start_s: float,
    end_s: float,
    look: str | Look = "warm",
    *,
    fps: float = 30.0,
    jitter: float = 0.0,
    seed: int = 0,
    **features: Any,
) -> Shot:
    """One shot of a look; ``features`` override any measured field (faces, text, motion...)."""
    base = LOOKS[look] if isinstance(look, str) else look
    rng = np.random.default_rng([seed, index])
    if jitter:
        base = replace(
            base,
            brightness=float(np.clip(base.brightness + rng.normal(0, jitter), 0, 1)),
            saturation=float(np.clip(base.saturation + rng.normal(0, jitter), 0, 1)),
        )
    fields: dict[str, Any] = {
        "shot_index": index,
        "start_s": start_s,
        "end_s": end_s,
        "start_frame": round(start_s * fps),
        "end_frame": round(end_s * fps),
        "keyframe_s": (start_s + end_s) / 2,
        "keyframe_jpeg": b"",
        "palette": [PaletteColor(hex=h, weight=w) for h, w in base.palette],
        "brightness": base.brightness,
        "saturation": base.saturation,
        "warmth": base.warmth,
        "colourfulness": base.colourfulness,
        "motion": 0.02,
        "vector": look_vector(base, jitter, rng),
    }
    fields.update(features)
    return Shot(**fields)


def make_shots(
    spec: Sequence[tuple[str | Look, float]],
    *,
    start_s: float = 0.0,
    jitter: float = 0.0,
    seed: int = 0,
    **features: Any,
) -> list[Shot]:
    """Consecutive shots from (look, duration) pairs; ``features`` apply to every shot."""
    shots: list[Shot] = []
    t = start_s
    for i, (look, duration) in enumerate(spec):
        shots.append(make_shot(i, t, t + duration, look, jitter=jitter, seed=seed, **features))
        t += duration
    return shots


def random_shots(n: int, n_looks: int = 12, seed: int = 0) -> list[Shot]:
    """``n`` shots whose looks change in runs, like a long edit, with random shot lengths."""
    rng = np.random.default_rng(seed)
    looks = [
        Look(
            palette=((_random_hex(rng), 0.6), (_random_hex(rng), 0.4)),
            brightness=float(rng.uniform(0.1, 0.9)),
            saturation=float(rng.uniform(0.0, 0.8)),
            warmth=float(rng.uniform(-0.8, 0.8)),
            colourfulness=float(rng.uniform(0.0, 0.8)),
        )
        for _ in range(n_looks)
    ]
    spec: list[tuple[str | Look, float]] = []
    while len(spec) < n:
        look = looks[int(rng.integers(n_looks))]
        for _ in range(int(rng.integers(1, 8))):
            spec.append((look, float(rng.uniform(0.5, 4.0))))
    return make_shots(spec[:n], jitter=0.02, seed=seed)


def _random_hex(rng: np.random.Generator) -> str:
    r, g, b = (int(x) for x in rng.integers(0, 256, 3))
    return f"#{r:02x}{g:02x}{b:02x}"
