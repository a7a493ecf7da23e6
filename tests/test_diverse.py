"""Maximal marginal relevance: relevant first, then what differs from what is already picked."""

from __future__ import annotations

import pytest

from adref.boards.diverse import Candidate, diverse

RED, RED2, BLUE, GREEN = (1.0, 0.0, 0.0), (0.99, 0.1, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


def cand(name: str, relevance: float, vector: tuple[float, ...]) -> Candidate:
    return Candidate(name, 0, relevance, vector)


def names(picked: list[Candidate]) -> list[str]:
    return [c.video_id for c in picked]


def test_a_near_duplicate_waits_behind_a_less_relevant_different_look() -> None:
    pool = [
        cand("red", 10, RED),
        cand("red2", 9.5, RED2),
        cand("blue", 7, BLUE),
        cand("green", 1, GREEN),
    ]
    assert names(diverse(pool, 2)) == ["red", "blue"]
    assert names(diverse(pool, 2, lam=1.0)) == ["red", "red2"], "λ=1: relevance only"
    assert names(diverse(pool, 2, lam=0.0)) == ["red", "blue"], "λ=0: difference only"
    picked = names(diverse(pool, 10))
    assert len(picked) == 4 and set(picked) == {"red", "red2", "blue", "green"}


@pytest.mark.parametrize("n", [0, -1])
def test_nothing_asked_nothing_given(n: int) -> None:
    assert diverse([cand("red", 1, RED)], n) == [] and diverse([], 3) == []


def test_relevance_scale_does_not_matter_and_ties_keep_order() -> None:
    floor = cand("d", 0.0, GREEN)
    small = [cand("a", 0.010, RED), cand("b", 0.009, RED2), cand("c", 0.007, BLUE), floor]
    large = [cand("a", 100, RED), cand("b", 90, RED2), cand("c", 70, BLUE), floor]
    assert names(diverse(small, 2)) == names(diverse(large, 2)) == ["a", "c"]
    same = [cand(x, 1.0, ()) for x in "pqr"]
    assert names(diverse(same, 3)) == ["p", "q", "r"], "no vectors: like nothing, pool order"
