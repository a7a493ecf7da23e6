"""Search over the warehouse: words (BM25, Korean and English), facets, colour, "more like this".

The index lives beside the lake, never inside it (``<warehouse>/search/``), and is rebuilt from
the warehouse alone, so deleting it loses nothing. ``adref.search.index`` is the door:
``search(settings, query)`` and ``refresh(settings, video_ids)``. The parts, one module each:
``tokens`` (how text becomes terms), ``documents`` (what the warehouse says about each video),
``colour`` (palettes in CIE Lab), ``segments`` (shot features as memory-mapped arrays),
``store`` (the generations on disk and their atomic swap), ``build`` (refresh) and ``query``
(the contract's dataclasses and the SQL of a search).
"""
