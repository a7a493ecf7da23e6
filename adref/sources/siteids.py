"""What yt-dlp can tell from an address alone, without fetching it: the site and the video id.

The id a run stores for a site video is ``{extractor}:{id}``; for most sites the id is part of
the address, so a watch list's single videos and the runs already queued can be compared
without a request to the site. An address only the generic extractor takes has no such id.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from adref.sources.meta import site_video_id

__all__ = ["offline_video_id"]


def offline_video_id(url: str, *, single_only: bool = True) -> str | None:
    """The video id a run would store for ``url``, when its address says it.

    ``single_only`` asks for certainty that the address is one video (not a playlist or a
    channel); an entry already listed inside a playlist only needs an extractor that knows it.
    """
    ie = _extractor(url)
    if ie is None:
        return None
    single = ie.is_single_video(url)
    if single is False or (single_only and single is not True):
        return None
    temp = ie.get_temp_id(url)
    return site_video_id({"ie_key": ie.ie_key(), "id": temp}) if temp else None


def _extractor(url: str) -> Any:
    """The extractor yt-dlp would pick first for ``url``; None for the generic fallback."""
    for ie in _extractors():
        if ie.suitable(url):
            return None if ie.ie_key() == "Generic" else ie
    return None


@lru_cache(maxsize=1)
def _extractors() -> tuple[Any, ...]:
    from yt_dlp.extractor import gen_extractor_classes  # lazy: over a second to import

    return tuple(gen_extractor_classes())
