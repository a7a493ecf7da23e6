"""A stored video as the analyser is given it, read back from the warehouse for a re-analysis.

Not a cached task: it reads what the warehouse holds now. The request's groups get a key made from
the stored shots and groups (keyframes by their bytes), so the same re-analysis of the same stored
video is a cache hit, and a video stored again with other shots or groups is analysed afresh. What
the ad says is left out of it: the words have their own key (``words_key``), and a run that reads
them again from the kept copy (``--text``, ``--speech``) must be the same work as the next one
reading them back from the warehouse. The first run's own key (content hash and detect parameters)
cannot be known from the warehouse, so re-analysing with exactly the stored analysis's provider,
model and prompt asks once more; ``adref reanalyze`` skips those.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from adref.analysis import AnalysisRequest
from adref.settings import Settings

if TYPE_CHECKING:
    # lazy: for the annotation only; DuckDB is imported when the warehouse is read
    from adref.warehouse.reanalysis import KeptCopy

_NOT_THE_PICTURES: dict[str, Any] = {
    "shots": {"__all__": {"keyframe_jpeg"}},  # hashed by their bytes below
    **dict.fromkeys(("texts", "transcript", "transcript_language"), True),
}


def stored_request(video_id: str, settings: Settings, model: str | None) -> AnalysisRequest:
    # lazy: the warehouse (DuckDB), the kept copy's probe (PyAV), grouping's rule (NumPy)
    from adref.grouping import is_short_form
    from adref.sources.probe import probe_video
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.reanalysis import load_request  # lazy: as above

    request = load_request(
        Warehouse.of(settings),
        video_id,
        probe=probe_video,
        short_form=is_short_form,
        output_language=settings.output_language,
        model=model,
    )
    grouping = request.grouping.model_copy(update={"key": stored_work_key(request)})
    return request.model_copy(update={"grouping": grouping})


def stored_media(video_id: str, settings: Settings, reading: str = "its text") -> KeptCopy:
    """The stored video's kept copy (an InputError naming what was to be read when none is)."""
    # lazy: DuckDB
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.reanalysis import media_copy

    return media_copy(Warehouse.of(settings), video_id, reading)


def stored_work_key(request: AnalysisRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.model_dump_json(exclude=_NOT_THE_PICTURES).encode())
    for shot in request.shots:
        digest.update(hashlib.sha256(shot.keyframe_jpeg).digest())
    return "stored:" + digest.hexdigest()
