"""Search agrees with the rest of adref: one tag whatever its spelling, every tied shot on some
page exactly once, and the genre the video page shows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adref.search.index import SearchQuery, search
from tests.search_support import NOW, indexed, video


def test_a_tags_spellings_are_one_value_in_its_facet_and_its_filter(tmp_path: Path) -> None:
    """``adref.tags``: two spellings matching but for case and a leading ``#`` are one tag."""
    _, settings = indexed(
        tmp_path / "wh",
        video("yt:a", tags=("Summer",), mood=("Bright",)),
        video("yt:b", tags=("summer", "beach"), mood=("bright",)),
        video("yt:c", tags=("#SUMMER",)),
        video("yt:d", tags=("car",)),
    )
    facets = search(settings, SearchQuery()).facets
    assert dict(facets["tag"])["Summer"] == 3 and len(facets["tag"]) == 3, facets["tag"]
    assert facets["mood"] == (("bright", 4),), "the most common spelling names the value"
    for spelling in ("summer", "Summer", "#summer", "ＳＵＭＭＥＲ"):
        assert search(settings, SearchQuery(tags=(spelling,))).total == 3, spelling
    assert search(settings, SearchQuery(moods=("BRIGHT",))).total == 4  # c and d: the default


def test_shots_tied_on_colour_each_show_on_exactly_one_page(tmp_path: Path) -> None:
    """Identical palettes (black frames, a repeated end card) score the same."""
    ids = [f"yt:t{i}" for i in range(8)]
    _, settings = indexed(tmp_path / "wh", *(video(v, looks=("warm",), seed=0) for v in ids))
    colour = "#e8883a"
    everything = search(settings, SearchQuery(colour=colour, page_size=200)).hits
    assert len({h.score for h in everything}) == 1 and len(everything) == 8
    for size in (1, 3, 5):
        seen = []
        for page in range(0, 8 // size + 1):
            found = search(settings, SearchQuery(colour=colour, page=page, page_size=size))
            assert found.total == 8
            seen += [(h.video_id, h.shot_index) for h in found.hits]
        assert seen == [(h.video_id, h.shot_index) for h in everything], size


def test_the_latest_analysis_decides_the_genre_even_when_it_has_none(tmp_path: Path) -> None:
    """As the video page shows it: an older analysis' genre does not outlive a newer one."""
    first = video("yt:g", genre="viral_video", fmt="2d")
    later = video("yt:g", genre=None, fmt=None, provider="openai")
    later = later.model_copy(
        update={"analysis": later.analysis.model_copy(update={"created_at": NOW + timedelta(1)})}
    )
    _, settings = indexed(tmp_path / "wh", first, later)
    (hit,) = search(settings, SearchQuery()).hits
    assert hit.genre is None
    assert search(settings, SearchQuery(genres=("viral_video",))).total == 0
