"""Scene grouping: shots that look alike and sit near each other in time become one group.

One average-linkage tree is built per video on a distance that adds a time penalty to the
visual distance, so alike shots near in time (including an A-B-A cross-cut) merge first and
alike shots far apart merge only at coarse levels. Granularity only chooses where to cut that
one tree, which is why a finer level can never give fewer groups than a coarser one.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from adref.errors import InputError
from adref.models import Grouping, SceneGroup, Shot, StreamInfo

Array = NDArray[np.float64]

SHORT_FORM_MAX_S = 60.0  # the platforms' short-form limit (Shorts, Reels); vertical counts too
BLACK_BRIGHTNESS = 0.08  # below this a keyframe is a fade or a black frame: a poor representative
MIN_CUT_SCALE = 0.12  # visual differences below this are measurement noise, never "a typical cut"
TIME_WEIGHT = 1.0  # a long gap costs as much as one typical cut: far-apart look-alikes join late
MAX_LINKAGE_UNITS = 1200  # more units than this are pre-merged: bounds memory (n² distances)
SCENE_SHARE = 1 / 8  # an ad's scenes last about an eighth of it: the time penalty's scale...
SCENE_MIN_S, SHORT_SCENE_MIN_S, SCENE_MAX_S = 3.0, 1.5, 20.0  # ...kept to what a scene can be
LENGTH_PREFERENCE = 0.25  # cost (in typical cuts) of a representative half as long as the longest

# Cut heights per granularity 1..10 in units of "a typical cut between adjacent shots".
_CUT_HEIGHT = (2.0, 1.6, 1.3, 1.0, 0.7, 0.55, 0.42, 0.3, 0.2, 0.1)
# Bounds on the group count as a share of shots: coarse levels stay coarse on busy edits, fine
# levels stay fine on uniform ones, and short ads keep enough groups to be worth browsing.
_MAX_SHARE = (0.15, 0.25, 0.35, 0.45, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0)
_MIN_SHARE_LONG = (0.0, 0.0, 0.02, 0.04, 0.06, 0.08, 0.12, 0.18, 0.25, 0.35)
_MIN_SHARE_SHORT = (0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# Group counts always allowed, whatever the share: a few distinct looks stay apart on small inputs.
_ALWAYS_ALLOWED = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20)

# Weights of the parts of the visual distance (they sum to 1, each part lies in 0..1).
_W_VECTOR, _W_PALETTE, _W_LIGHT, _W_WARMTH = 0.45, 0.25, 0.2, 0.1
_HUE_BINS, _LIGHT_BINS = 8, 4


def group_shots(
    shots: list[Shot], stream: StreamInfo, granularity: int = 5, max_groups: int = 10
) -> Grouping:
    """Group ``shots`` into scenes; see the module docstring for the method."""
    if not shots:
        raise InputError("no shots to group", "shot detection found nothing", "check the video")
    if not 1 <= granularity <= 10:
        raise InputError(
            f"granularity {granularity} is out of range", "", "use 1 (coarse) to 10 (fine)"
        )
    if max_groups < 1:
        raise InputError(f"max_groups {max_groups} is out of range", "", "use 1 or more")
    ordered = sorted(shots, key=lambda s: (s.start_s, s.shot_index))
    starts = np.array([s.start_s for s in ordered])
    ends = np.maximum(np.array([s.end_s for s in ordered]), starts)
    durations = ends - starts
    duration = max(stream.duration_s, float(ends.max()))
    short = is_short_form(stream, duration)

    feats = visual_features(ordered)
    adjacent = np.linalg.norm(np.diff(feats, axis=0), axis=1)
    scale = max(float(np.median(adjacent)) if adjacent.size else 0.0, MIN_CUT_SCALE)
    unit_of_shot = _pre_merge(adjacent)
    labels = _cluster_units(
        feats, starts, ends, durations, unit_of_shot, scale, duration, short, granularity
    )

    labels = _time_ordered(labels)
    groups = _groups(labels, ordered, starts, ends, feats, durations, scale)
    chosen = _analysis_groups(groups, feats, durations, labels, max_groups)
    return Grouping(
        groups=groups, analysis_groups=chosen, granularity=granularity, short_form=short
    )


def is_short_form(stream: StreamInfo, duration_s: float | None = None) -> bool:
    duration = stream.duration_s if duration_s is None else duration_s
    return duration <= SHORT_FORM_MAX_S or stream.height > stream.width


def visual_features(shots: list[Shot]) -> Array:
    """Rows whose Euclidean distance is the visual distance (0 alike .. about 1 unrelated)."""
    n = len(shots)
    blocks: list[Array] = []
    weights = {"palette": _W_PALETTE, "light": _W_LIGHT, "warmth": _W_WARMTH}
    lengths = {len(s.vector) for s in shots}
    if len(lengths) == 1 and 0 not in lengths:
        vectors = np.array([s.vector for s in shots], dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        weights["vector"] = _W_VECTOR
    total = sum(weights.values())
    light = np.array(
        [[s.brightness, s.saturation, s.colourfulness] for s in shots], dtype=np.float64
    )
    warmth = np.array([[s.warmth] for s in shots], dtype=np.float64)
    blocks.append(math.sqrt(weights["palette"] / total / 2) * np.sqrt(_palette_histograms(shots)))
    blocks.append(math.sqrt(weights["light"] / total / 3) * light)
    blocks.append(math.sqrt(weights["warmth"] / total) / 2 * warmth)
    if "vector" in weights:
        blocks.append(math.sqrt(weights["vector"] / total) / 2 * vectors)
    return np.hstack(blocks).reshape(n, -1)


def _palette_histograms(shots: list[Shot]) -> Array:
    """Soft hue / lightness histograms of each palette (sqrt of it gives the Hellinger distance).

    Saturated colours vote for their hue, greys for their lightness, each split between the two
    nearest bins so that a colour on a bin edge is not far from its neighbour.
    """
    rows = np.array([row for row, shot in enumerate(shots) for _ in shot.palette], dtype=np.int64)
    hist = np.zeros((len(shots), _HUE_BINS + _LIGHT_BINS))
    if rows.size == 0:
        return hist
    weight = np.array([c.weight for shot in shots for c in shot.palette], dtype=np.float64)
    value = np.array([_hex_value(c.hex) for shot in shots for c in shot.palette], dtype=np.int64)
    rgb = np.stack([(value >> 16) & 255, (value >> 8) & 255, value & 255], axis=1) / 255.0
    hue, sat, val = _hsv(rgb)
    chroma = np.minimum(1.0, sat * val * 2)
    _soft_add(hist, rows, hue * _HUE_BINS, weight * chroma, 0, _HUE_BINS, wrap=True)
    light_pos = val * (_LIGHT_BINS - 1)
    _soft_add(hist, rows, light_pos, weight * (1 - chroma), _HUE_BINS, _LIGHT_BINS, wrap=False)
    total = hist.sum(axis=1, keepdims=True)
    return np.divide(hist, total, out=np.zeros_like(hist), where=total > 0)


def _hsv(rgb: Array) -> tuple[Array, Array, Array]:
    """Vectorised ``colorsys.rgb_to_hsv`` (hue 0-1)."""
    val = rgb.max(axis=1)
    span = val - rgb.min(axis=1)
    sat = np.divide(span, val, out=np.zeros_like(val), where=val > 0)
    safe = np.where(span > 0, span, 1.0)
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    hue = np.where(
        val == r, (g - b) / safe, np.where(val == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe)
    )
    hue = np.where(span > 0, (hue / 6.0) % 1.0, 0.0)
    return hue, sat, val


def _soft_add(
    hist: Array,
    rows: NDArray[np.int64],
    position: Array,
    weight: Array,
    offset: int,
    n_bins: int,
    wrap: bool,
) -> None:
    low = np.floor(position).astype(np.int64)
    frac = position - low
    high = low + 1
    if wrap:
        low, high = low % n_bins, high % n_bins
    else:
        low, high = np.clip(low, 0, n_bins - 1), np.clip(high, 0, n_bins - 1)
    np.add.at(hist, (rows, offset + low), weight * (1 - frac))
    np.add.at(hist, (rows, offset + high), weight * frac)


def _hex_value(hex_: str) -> int:
    try:
        return int(hex_.lstrip("#")[:6], 16)
    except ValueError:
        raise InputError(f"bad palette colour {hex_!r}", "expected #rrggbb") from None


def _pre_merge(adjacent: Array) -> NDArray[np.int64]:
    """Unit id per shot: each shot alone, or runs of the most alike neighbours when too many."""
    n = adjacent.size + 1
    if n <= MAX_LINKAGE_UNITS:
        return np.arange(n, dtype=np.int64)
    keep = np.argsort(-adjacent, kind="stable")[: MAX_LINKAGE_UNITS - 1]
    boundary = np.zeros(n, dtype=np.int64)
    boundary[keep + 1] = 1
    return np.cumsum(boundary)


def _cluster_units(
    feats: Array,
    starts: Array,
    ends: Array,
    durations: Array,
    unit_of_shot: NDArray[np.int64],
    scale: float,
    duration: float,
    short: bool,
    granularity: int,
) -> NDArray[np.int64]:
    """Cluster label per shot from cutting the one linkage tree into the granularity's count."""
    # lazy: scipy costs ~0.5 s to import; only a run that really groups (not a cached one) pays
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import pdist

    n_units = int(unit_of_shot[-1]) + 1
    if n_units == 1:
        return np.zeros(len(feats), dtype=np.int64)
    weight = np.maximum(durations, 1e-3)
    unit_weight = np.bincount(unit_of_shot, weights=weight)
    unit_feats = np.zeros((n_units, feats.shape[1]))
    np.add.at(unit_feats, unit_of_shot, feats * weight[:, None])
    unit_feats /= unit_weight[:, None]
    unit_start = np.full(n_units, np.inf)
    np.minimum.at(unit_start, unit_of_shot, starts)
    unit_end = np.zeros(n_units)
    np.maximum.at(unit_end, unit_of_shot, ends)

    tau = float(
        np.clip(duration * SCENE_SHARE, SHORT_SCENE_MIN_S if short else SCENE_MIN_S, SCENE_MAX_S)
    )
    visual = pdist(unit_feats) / scale
    distance = visual + TIME_WEIGHT * (1 - np.exp(-_condensed_gaps(unit_start, unit_end) / tau))
    tree = linkage(distance, method="average")
    heights = tree[:, 2]

    g = granularity - 1
    by_height = n_units - int(np.searchsorted(heights, _CUT_HEIGHT[g], side="right"))
    min_share = _MIN_SHARE_SHORT if short else _MIN_SHARE_LONG
    low = max(1, math.ceil(n_units * min_share[g]))
    high = max(low, math.ceil(n_units * _MAX_SHARE[g]), _ALWAYS_ALLOWED[g])
    k = min(n_units, max(low, min(high, by_height)))
    return _cut(tree, n_units, k)[unit_of_shot]


def _condensed_gaps(starts: Array, ends: Array) -> Array:
    """Seconds between each pair of time-ordered intervals (0 when they touch), pdist order."""
    n = len(starts)
    out = np.empty(n * (n - 1) // 2)
    pos = 0
    for i in range(n - 1):
        row = np.maximum(starts[i + 1 :] - ends[i], 0.0)
        out[pos : pos + row.size] = row
        pos += row.size
    return out


def _cut(tree: Array, n: int, k: int) -> NDArray[np.int64]:
    """Apply the first n - k merges of ``tree``: exactly k clusters, nested across k."""
    merges = n - k
    parent = np.arange(2 * n - 1, dtype=np.int64)
    new_ids = n + np.arange(merges, dtype=np.int64)
    parent[tree[:merges, 0].astype(np.int64)] = new_ids
    parent[tree[:merges, 1].astype(np.int64)] = new_ids
    while True:
        jumped = parent[parent]
        if np.array_equal(jumped, parent):
            return parent[:n]
        parent = jumped


def _time_ordered(labels: NDArray[np.int64]) -> NDArray[np.int64]:
    """Renumber clusters by their first shot, so group 0 opens the video."""
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    _, inverse = np.unique(labels, return_inverse=True)
    return rank[inverse.reshape(-1)]


def _groups(
    labels: NDArray[np.int64],
    ordered: list[Shot],
    starts: Array,
    ends: Array,
    feats: Array,
    durations: Array,
    scale: float,
) -> list[SceneGroup]:
    brightness = np.array([s.brightness for s in ordered])
    groups: list[SceneGroup] = []
    for index in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == index)
        rep = _representative(members, feats, durations, brightness, scale)
        groups.append(
            SceneGroup(
                group_index=index,
                shot_indices=sorted(ordered[p].shot_index for p in members),
                start_s=float(starts[members].min()),
                end_s=float(ends[members].max()),
                representative_shot=ordered[rep].shot_index,
            )
        )
    return groups


def _representative(
    members: NDArray[np.intp], feats: Array, durations: Array, brightness: Array, scale: float
) -> int:
    """The most typical shot, preferring long ones and never a black one when another exists."""
    weight = np.maximum(durations[members], 1e-3)
    centroid = (feats[members] * weight[:, None]).sum(axis=0) / weight.sum()
    typical = np.linalg.norm(feats[members] - centroid, axis=1) / scale
    score = typical + 2 * LENGTH_PREFERENCE * (1 - weight / weight.max())
    black = brightness[members] < BLACK_BRIGHTNESS
    if not black.all():
        score[black] = np.inf
    return int(members[int(np.argmin(score))])


def _analysis_groups(
    groups: list[SceneGroup],
    feats: Array,
    durations: Array,
    labels: NDArray[np.int64],
    max_groups: int,
) -> list[int]:
    """At most ``max_groups`` groups: one per stretch of the timeline, the most distinct look in it.

    The first and last groups are always in (the hook and the end card matter most in an ad).
    """
    n_groups = len(groups)
    if n_groups <= max_groups:
        return list(range(n_groups))
    weight = np.maximum(durations, 1e-3)
    screen = np.bincount(labels, weights=weight, minlength=n_groups)
    looks = np.zeros((n_groups, feats.shape[1]))
    np.add.at(looks, labels, feats * weight[:, None])
    looks /= screen[:, None]
    if max_groups == 1:
        return [int(np.argmax(screen))]
    bins = np.array_split(np.arange(n_groups), max_groups)
    picked = [0, n_groups - 1]
    nearest = np.minimum(
        np.linalg.norm(looks - looks[0], axis=1), np.linalg.norm(looks - looks[-1], axis=1)
    )
    for members in bins[1:-1]:
        best = int(members[int(np.argmax(nearest[members]))])
        picked.append(best)
        nearest = np.minimum(nearest, np.linalg.norm(looks - looks[best], axis=1))
    return sorted(picked)
