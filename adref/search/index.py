"""The door to search: ``search(settings, query)`` and ``refresh(settings, video_ids)``.

Text and facet searches answer one hit per video; colour and "more like this" one hit per shot,
among the videos the text and filters allow. A missing index is built on first search (or an
empty page is returned when there is no warehouse yet), and so is an index of an older layout.
A text hit shows the shot where the query's words are written on screen or said, quoting that
line, else the video's first scene group's representative.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import closing

from adref.errors import AdrefError, interruption
from adref.search import query as sq
from adref.search import similarity, store
from adref.search.build import RefreshReport, refresh_index
from adref.search.query import Hit, SearchPage, SearchQuery
from adref.settings import Settings
from adref.warehouse.catalog import Warehouse

log = logging.getLogger(__name__)


def refresh(settings: Settings, video_ids: Sequence[str] | None = None) -> RefreshReport:
    """Rebuild the index (``None``) or bring these videos up to date: added, re-analysed,
    corrected or deleted (a deleted id disappears). Readers never wait; the swap is atomic."""
    return refresh_index(Warehouse.of(settings), video_ids)


def refresh_quietly(settings: Settings, video_ids: Sequence[str]) -> RefreshReport | None:
    """``refresh`` for after a write: a failure is a warning, never the writer's failure (the
    next refresh of any video, or ``adref index``, repairs the index)."""
    try:
        return refresh(settings, video_ids)
    except Exception as exc:  # the warehouse write already succeeded; search catches up later
        if (stop := interruption(exc)) is not None:
            raise stop from None
        log.warning("search index not refreshed for %s: %s", ", ".join(video_ids), exc)
        return None


def search(settings: Settings, query: SearchQuery) -> SearchPage:
    """One page of results with facet counts. A bad colour is an ``InputError``; a missing
    index is built first, and when it cannot be (no warehouse, a read-only folder) the page is
    empty."""
    q = sq.normalised(query)
    root = settings.warehouse
    index = store.opened(root)
    if index is None or index.manifest.format != store.FORMAT:  # none yet, or an older layout
        try:
            refresh_index(Warehouse.of(settings), None)
        except (OSError, AdrefError) as exc:
            log.warning("no search index at %s and none could be built: %s", root, exc)
            return SearchPage(hits=(), total=0, facets={})
        index = store.opened(root)
        if index is None:
            return SearchPage(hits=(), total=0, facets={})
    with closing(index.cursor()) as con:
        source = sq.matching(con, q)
        f = sq.filters(q)
        if source is None:
            return SearchPage(hits=(), total=0, facets={name: () for name in sq.FACETS})
        key = repr((q.text.strip(), sorted(f.params.items())))
        facets = index.remembered(key, lambda: sq.facet_counts(con, source, f))
        if q.colour is None and q.like is None:
            hits, total = sq.text_page(con, source, f, q)
            return SearchPage(hits=tuple(hits), total=total, facets=facets)
        narrowed = bool(f.clauses) or source.sql != sq.ALL_DOCS
        allowed = sq.matching_ids(con, source, f) if narrowed else None
        top = (q.page + 1) * q.page_size
        shots, total = similarity.rank(
            index.segments, colour_hex=q.colour, like=q.like, allowed=allowed, top=top
        )
        page = shots[q.page * q.page_size :]
        about = sq.doc_rows(con, sorted({s.video_id for s in page}))
    hits = []
    for s in page:
        _, title, genre, tags, duration = about.get(s.video_id, (s.video_id, None, None, (), None))
        hits.append(
            Hit(
                video_id=s.video_id,
                shot_index=s.shot_index,
                keyframe_path=s.keyframe_path or "",
                start_s=s.start_s,
                title=title,
                genre=genre,
                tags=tuple(tags or ()),
                duration_s=duration,
                score=s.score,
            )
        )
    return SearchPage(hits=tuple(hits), total=total, facets=facets)
