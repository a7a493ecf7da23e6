"""Auto moodboard: the best shots for a query that do not all look alike (see ``diverse``),
picked from a pool of about 5N search candidates."""

from __future__ import annotations

import math
from dataclasses import replace

from adref.boards.diverse import Candidate, diverse
from adref.errors import InputError
from adref.search.index import search
from adref.search.query import SearchQuery
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse
from adref.warehouse.moodboards import create_board, shot_vectors

POOL_FACTOR = 5
MAX_SHOTS = 60


def candidates(settings: Settings, query: SearchQuery, n: int) -> list[Candidate]:
    """About ``POOL_FACTOR * n`` shots for the query, each with its relevance and vector.

    A colour or "more like this" search ranks shots, used as they are; a text or facet search
    ranks videos, so each of the top videos offers its shots in turn (its representative shot
    first), the pool shared out evenly among them.
    """
    pool = POOL_FACTOR * n
    per_shot = query.colour is not None or query.like is not None
    page = search(settings, replace(query, page=0, page_size=pool if per_shot else 2 * n))
    hits = page.hits
    if not hits:
        return []
    found = shot_vectors(Warehouse.of(settings), sorted({h.video_id for h in hits}))
    vectors = {(s.video_id, s.shot_index): s.vector for s in found}
    if per_shot:
        return [
            Candidate(
                h.video_id, h.shot_index, h.score, vectors.get((h.video_id, h.shot_index), ())
            )
            for h in hits
        ]
    by_video: dict[str, list[int]] = {}
    for s in found:
        by_video.setdefault(s.video_id, []).append(s.shot_index)
    share = max(1, math.ceil(pool / len(hits)))
    out: list[Candidate] = []
    for h in hits:
        shots = by_video.get(h.video_id, [])
        ordered = [h.shot_index, *(i for i in shots if i != h.shot_index)][:share]
        # each shot carries its video's score; ties keep this order (best video, its
        # representative shot first)
        out += [
            Candidate(h.video_id, i, h.score, vectors.get((h.video_id, i), ())) for i in ordered
        ]
    return out[:pool]


def auto_moodboard(
    settings: Settings, owner: str, query: SearchQuery, n: int, name: str = ""
) -> str:
    """A new board of ``n`` diverse shots for ``query``; returns its id."""
    if not 1 <= n <= MAX_SHOTS:
        raise InputError(f"cannot pick {n} shots", f"choose between 1 and {MAX_SHOTS}")
    picked = diverse(candidates(settings, query, n), n)
    if not picked:
        raise InputError("no shots match that query", "", "try other words or fewer filters")
    title = name.strip() or f"Auto: {query.text.strip() or 'latest'}"
    description = f"{len(picked)} shots picked for “{query.text.strip()}”, visually diverse"
    return create_board(
        Warehouse.of(settings),
        owner,
        title[:120],
        description,
        [(c.video_id, c.shot_index) for c in picked],
    )
