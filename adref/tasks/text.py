"""On-screen text of the shots the detect stage flagged, cached on the shots' key and what
changes the reading (languages, threshold, the step's version)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from adref.models import DetectResult, TextResult
from adref.ocr.read import TextParams, read_texts
from adref.progress import fraction_reporter
from adref.tasks.policy import cache_key


def text_key(detected: DetectResult, params: TextParams) -> str:
    if not detected.key:
        raise ValueError("the shots carry no key: they were not made by the detect task")
    return cache_key("text", detected.key, params.model_dump_json())


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    return text_key(inputs["detected"], inputs["params"])


@task(name="text", cache_key_fn=_key, persist_result=True)
def read_text(path: Path, detected: DetectResult, params: TextParams) -> TextResult:
    result = read_texts(path, detected.shots, params, fraction_reporter("text"))
    return result.model_copy(update={"key": text_key(detected, params)})
