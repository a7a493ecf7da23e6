"""Scene grouping, cached on the shots' key and the grouping parameters."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from adref.models import DetectResult, Grouping
from adref.tasks.policy import cache_key


def group_key(detected: DetectResult, granularity: int, max_groups: int) -> str:
    if not detected.key:
        raise ValueError("the shots carry no key: they were not made by the detect task")
    return cache_key("group", detected.key, granularity, max_groups)


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    return group_key(inputs["detected"], inputs["granularity"], inputs["max_groups"])


@task(name="group", cache_key_fn=_key, persist_result=True)
def group(detected: DetectResult, granularity: int, max_groups: int) -> Grouping:
    from adref.grouping import group_shots  # lazy: NumPy

    grouping = group_shots(detected.shots, detected.stream, granularity, max_groups)
    return grouping.model_copy(update={"key": group_key(detected, granularity, max_groups)})
