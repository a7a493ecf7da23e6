"""Write one re-analysis of a stored video: its ``analyses`` and ``group_analyses`` rows only.

The cache key holds the warehouse, the analysis id and when the answer was made, so a new answer
under the same id is written while a cached one is not written twice; the flow refreshes the
cache when the warehouse no longer holds the analysis, as it does for a download that is gone. After the commit the video's search entry is
refreshed, as ``persist`` does.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from adref.analysis import Analysis
from adref.settings import Settings
from adref.tasks.persist import refresh_search
from adref.tasks.policy import cache_key


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    a: Analysis = inputs["analysis"]
    root = inputs["settings"].warehouse
    return cache_key("persist-analysis", root, a.analysis_id, a.created_at.isoformat())


def analysis_stored(analysis: Analysis, settings: Settings) -> bool:
    """Whether the warehouse holds the analysis; the flow refreshes the cached write if not."""
    from adref.warehouse.catalog import Warehouse  # lazy: DuckDB

    return Warehouse.of(settings).has_video(analysis.video_id, analysis.analysis_id)


@task(name="persist-analysis", cache_key_fn=_key, persist_result=True)
def persist_analysis(analysis: Analysis, settings: Settings) -> str:
    from adref.warehouse.catalog import Warehouse  # lazy: as above

    Warehouse.of(settings).write_analysis(analysis)
    refresh_search(analysis.video_id, settings)
    return analysis.analysis_id
