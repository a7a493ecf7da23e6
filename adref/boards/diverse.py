"""Maximal marginal relevance: the most relevant items that are not all alike.

The top hits of a search are often near-duplicates (shots of one ad, one colour); a board of
them says one thing N times. MMR picks, one by one, the candidate whose relevance minus its
cosine likeness to the closest item already picked is highest, λ weighing the two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LAMBDA = 0.7


@dataclass(frozen=True)
class Candidate:
    video_id: str
    shot_index: int
    relevance: float  # higher is better; any scale
    vector: tuple[float, ...]


def diverse(candidates: Sequence[Candidate], n: int, lam: float = LAMBDA) -> list[Candidate]:
    """Up to ``n`` candidates by maximal marginal relevance over cosine similarity.

    Relevance is rescaled to at most 1 over the pool so that λ means the same for BM25 scores
    and similarities; ties keep the pool's order. A candidate without a vector is like nothing.
    """
    if n <= 0 or not candidates:
        return []
    rel = _scaled(np.array([c.relevance for c in candidates], dtype=float))
    dims = max(len(c.vector) for c in candidates)
    vecs = np.zeros((len(candidates), max(dims, 1)))
    for i, c in enumerate(candidates):
        if c.vector:
            vecs[i, : len(c.vector)] = c.vector
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs = np.divide(vecs, norms, out=np.zeros_like(vecs), where=norms > 0)
    sims = vecs @ vecs.T
    chosen: list[int] = []
    likeness = np.full(len(candidates), -math.inf)  # the closest pick so far, per candidate
    left = np.ones(len(candidates), dtype=bool)
    while left.any() and len(chosen) < n:
        penalty = np.where(np.isfinite(likeness), likeness, 0.0)
        score = np.where(left, lam * rel - (1 - lam) * penalty, -math.inf)
        best = int(np.argmax(score))
        chosen.append(best)
        left[best] = False
        likeness = np.maximum(likeness, sims[best])
    return [candidates[i] for i in chosen]


def _scaled(rel: np.ndarray) -> np.ndarray:
    """Scores as fractions of the best one, so near-equal scores stay near-equal (min-max
    would stretch a 1e-6 difference to the whole range); min-max only for negative scores."""
    top, low = float(rel.max()), float(rel.min())
    if low < 0:
        span = top - low
        return (rel - low) / span if span > 0 else np.ones_like(rel)
    return rel / top if top > 0 else np.ones_like(rel)
