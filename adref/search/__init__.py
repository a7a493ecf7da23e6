"""Search over the warehouse: words (BM25, Korean and English), facets, colour, "more like this".

The index lives beside the lake, never inside it (``<warehouse>/search/``), and is rebuilt from
the warehouse alone, so deleting it loses nothing. ``adref.search.index`` is the door:
``search(settings, query)`` and ``refresh(settings, video_ids)``. The parts, one module each:
``tokens`` (how text becomes terms), ``documents`` (what the warehouse says about each video),
``colour`` (palettes in CIE Lab), ``textdb`` (documents and postings in DuckDB), ``segments``
(shot features as memory-mapped arrays), ``similarity`` (ranking shots),
``store`` (the generations on disk and their atomic swap), ``build`` (refresh) and ``query``
(the contract's dataclasses and the SQL of a search).
"""

from adref.search.build import RefreshReport
from adref.search.index import refresh, refresh_quietly, search
from adref.search.query import Hit, SearchPage, SearchQuery

__all__ = [
    "Hit",
    "RefreshReport",
    "SearchPage",
    "SearchQuery",
    "refresh",
    "refresh_quietly",
    "search",
]
