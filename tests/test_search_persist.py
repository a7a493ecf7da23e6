"""A real analyze-video run makes its video searchable: the persist task refreshes the index."""

from __future__ import annotations

from pathlib import Path

from adref.search import store
from adref.search.index import SearchQuery, search
from adref.settings import get_settings


def test_an_analysed_video_is_searchable_without_a_rebuild(
    prefect_api: str, adref_home: Path, clip_ad
) -> None:
    from adref.flows.analyze_video import analyze_video

    summary = analyze_video(source=str(clip_ad.path), owner="tester", tags=["searchhook"])
    assert summary.status == "completed"
    root = get_settings().warehouse
    manifest = store.read_manifest(root)
    assert manifest is not None, "persist refreshed the index"
    page = search(get_settings(), SearchQuery(text="searchhook"))
    assert [h.video_id for h in page.hits] == [summary.video_id]
    (hit,) = page.hits
    assert (root / hit.keyframe_path).is_file()
    assert dict(page.facets["owner"]) == {"tester": 1}
    assert store.read_manifest(root) == manifest, "the search did not have to build anything"
    colour = search(get_settings(), SearchQuery(colour=summary.palette[0].hex))
    assert colour.hits and colour.hits[0].video_id == summary.video_id
