"""On-screen text of the shots the detect stage flagged, cached on the shots' key and what
changes the reading (languages, threshold, the step's version); and, for a re-analysis, the text
of a stored video read from its kept copy, and stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from adref.models import DetectResult, Shot, TextResult
from adref.ocr.params import TextParams
from adref.progress import fraction_reporter
from adref.settings import Settings
from adref.tasks.persist import refresh_search
from adref.tasks.policy import cache_key


def text_key(detected: DetectResult, params: TextParams) -> str:
    if not detected.key:
        raise ValueError("the shots carry no key: they were not made by the detect task")
    return cache_key("text", detected.key, params.model_dump_json())


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    return text_key(inputs["detected"], inputs["params"])


@task(name="text", cache_key_fn=_key, persist_result=True)
def read_text(path: Path, detected: DetectResult, params: TextParams) -> TextResult:
    from adref.ocr.read import read_texts  # lazy: OpenCV, PyAV, Tesseract

    result = read_texts(path, detected.shots, params, fraction_reporter("text"))
    return result.model_copy(update={"key": text_key(detected, params)})


@task(name="text")
def read_stored_text(path: Path, shots: list[Shot], params: TextParams) -> TextResult:
    """The text on screen of a stored video, read from its kept copy at its stored shots (for
    ``adref reanalyze --text``): not cached, as what it reads is the warehouse's, not a key's."""
    from adref.ocr.read import read_texts  # lazy: as above

    return read_texts(path, shots, params, fraction_reporter("text"))


@task(name="persist-text")
def persist_text(video_id: str, texts: TextResult, settings: Settings) -> int:
    """Replace the stored video's lines read on screen; its search entry is refreshed."""
    from adref.warehouse.catalog import Warehouse  # lazy: DuckDB

    Warehouse.of(settings).write_texts(video_id, texts.texts)
    refresh_search(video_id, settings)
    return len(texts.texts)
