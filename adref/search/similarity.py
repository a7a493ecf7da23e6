"""Shots ranked by colour or by likeness, brute force over the segments' arrays.

"More like this" is the cosine between feature vectors (all L2-normalised, so a dot product).
The shot asked about is left out; the other shots of its video are kept but ranked after every
other video's (``SAME_VIDEO_PENALTY``): they are on the video's own page already, and what a
person wants from "more like this" is other ads, yet a library of one video still answers.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from adref.search import colour
from adref.search.segments import Segment

SAME_VIDEO_PENALTY = 2.0  # cosines lie in [-1, 1]: this puts a video's own shots after all others
RERANK, RERANK_MIN = 16, 2048  # candidates from the reduced vectors re-ranked by the full ones


@dataclass(frozen=True)
class ShotHit:
    video_id: str
    shot_index: int
    keyframe_path: str | None
    start_s: float
    score: float


Segments = list[tuple[Segment, frozenset[str]]]


def _live(seg: Segment, dead: frozenset[str], allowed: Collection[str] | None) -> np.ndarray | None:
    """Rows to leave out: dead videos and, when filtering, videos not allowed; None = none."""
    if not dead and allowed is None:
        return None
    per_video = ~seg.video_mask(dead)
    if allowed is not None:
        per_video &= seg.video_mask(allowed)
    return np.asarray(per_video[seg.array("video")])


def find_vector(segments: Segments, video_id: str, shot_index: int) -> np.ndarray | None:
    for seg, dead in segments:
        if video_id in dead:
            continue
        rows = seg.rows_of(video_id)
        where = np.flatnonzero(seg.array("shot_index")[rows] == shot_index)
        if len(where):
            return np.array(seg.array("vectors")[rows.start + int(where[0])], dtype=np.float32)
    return None


def _top(order: np.ndarray, n: int) -> np.ndarray:
    """Rows of the ``n`` largest values, and of every value tied with the last of them (in
    no order): which of tied rows ``argpartition`` keeps is arbitrary, and changes with ``n``,
    so the next page of the same query would repeat some and never show others. With the ties
    all kept, the caller's one order (score, then video and row) decides every page."""
    n = min(n, len(order))
    if n == 0:
        return np.empty(0, dtype=np.int64)
    best = np.argpartition(order, len(order) - n)[len(order) - n :]
    return np.flatnonzero(order >= order[best].min())


def rank(
    segments: Segments,
    *,
    colour_hex: str | None = None,
    like: tuple[str, int] | None = None,
    allowed: Collection[str] | None = None,
    top: int,
) -> tuple[list[ShotHit], int]:
    """The best ``top`` shots and how many match in all: by colour (scores at least
    ``colour.MIN_SCORE``), or by likeness to a shot (every other live shot)."""
    target = colour.hex_to_lab([colour.parse_hex(colour_hex)])[0] if colour_hex else None
    query = find_vector(segments, *like) if like else None
    if like and query is None:
        return [], 0
    candidates: list[tuple[float, float, Segment, int]] = []  # (order key, score, segment, row)
    total = 0
    for seg, dead in segments:
        keep = _live(seg, dead, allowed)
        if target is not None:
            order = colour.scores(seg.array("lab"), seg.array("weights"), target)
            if keep is not None:
                order[~keep] = -np.inf
            total += int(np.count_nonzero(order >= colour.MIN_SCORE))
            best = _top(order, top)
            best = best[order[best] >= colour.MIN_SCORE]
            keys = raw = order[best]
        else:
            assert query is not None and like is not None
            vectors = seg.array("vectors")
            if vectors.shape[1] != query.shape[0]:
                continue
            coarse = seg.has("reduced")
            if coarse:
                order = seg.array("reduced") @ (query @ seg.array("basis"))
            else:
                order = np.asarray(vectors @ query)
            if keep is not None:
                order[~keep] = -np.inf
            own = seg.rows_of(like[0])
            order[own] -= SAME_VIDEO_PENALTY
            own_shot = own.start + np.flatnonzero(seg.array("shot_index")[own] == like[1])
            self_live = len(own_shot) if keep is None else int(np.count_nonzero(keep[own_shot]))
            order[own_shot] = -np.inf
            total += (seg.rows if keep is None else int(np.count_nonzero(keep))) - self_live
            best = _top(order, max(top * RERANK, RERANK_MIN) if coarse else top)
            best = best[np.isfinite(order[best])]
            best = np.sort(best)  # rows in file order read faster
            raw = np.asarray(vectors[best] @ query)
            keys = order[best]
            if coarse:  # exact scores for the candidates, then the best of them
                keys = raw - SAME_VIDEO_PENALTY * ((best >= own.start) & (best < own.stop))
                pick = _top(keys, top)
                best, raw, keys = best[pick], raw[pick], keys[pick]
        for row, key, score in zip(best, keys, raw, strict=True):
            candidates.append((float(key), float(score), seg, int(row)))
    candidates.sort(key=lambda c: (-c[0], c[2].videos[int(c[2].array("video")[c[3]])], c[3]))
    hits = [
        ShotHit(
            video_id=seg.videos[int(seg.array("video")[row])],
            shot_index=int(seg.array("shot_index")[row]),
            keyframe_path=seg.keyframe(row),
            start_s=float(seg.array("start_s")[row]),
            score=score,
        )
        for _, score, seg, row in candidates[:top]
    ]
    return hits, total
