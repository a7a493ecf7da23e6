"""Shot detection and per-shot features in one decoding pass, cached on content and parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from adref.models import DetectResult
from adref.progress import fraction_reporter
from adref.tasks.policy import cache_key
from adref.video.params import DetectParams


def detect_key(content_hash: str, params: DetectParams) -> str:
    return cache_key("detect", 2, content_hash, params.model_dump_json())


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    return detect_key(inputs["content_hash"], inputs["params"])


@task(name="detect", cache_key_fn=_key, persist_result=True)
def detect(path: Path, content_hash: str, params: DetectParams) -> DetectResult:
    from adref.video.detect import detect_shots  # lazy: OpenCV, PyAV, PySceneDetect

    detected = detect_shots(path, params, fraction_reporter("detect"))
    return detected.model_copy(update={"key": detect_key(content_hash, params)})
