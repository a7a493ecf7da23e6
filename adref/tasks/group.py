"""Scene grouping, cached on the detect result's identity and the grouping parameters."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from adref.grouping import group_shots
from adref.models import DetectResult, Grouping
from adref.tasks.policy import cache_key


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    return cache_key("group", inputs["detect_key"], inputs["granularity"], inputs["max_groups"])


@task(name="group", cache_key_fn=_key, persist_result=True)
def group(detected: DetectResult, detect_key: str, granularity: int, max_groups: int) -> Grouping:
    return group_shots(detected.shots, detected.stream, granularity, max_groups)
