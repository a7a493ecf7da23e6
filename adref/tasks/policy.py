"""Retry and cache rules shared by every task.

Retries only help with transient failures (network, 5xx); a bad input fails once and clearly.
Cache keys are built from what really determines a task's output, hashed so they make safe
storage file names, and namespaced by where results are kept: adref's home (each machine's own
result folder) so two homes never share answers, or the shared result storage
(``ADREF_RESULTS_PATH``), where every worker writing the same warehouse finds each other's.
"""

from __future__ import annotations

import hashlib
from typing import Any

from prefect import Task
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from adref.errors import is_retryable
from adref.settings import Settings, get_settings, resolved


def retry_if_transient(task: Any, task_run: TaskRun, state: State[Any]) -> bool:
    exc = state.result(raise_on_failure=False)
    return isinstance(exc, BaseException) and is_retryable(exc)


def cache_key(stage: str, *parts: object) -> str:
    settings = get_settings()
    namespace = settings.results_path or str(resolved(settings.home))
    raw = "\x1f".join([stage, namespace, *(str(p) for p in parts)])
    return f"adref-{stage}-" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def configured(task: Task[..., Any], settings: Settings, refresh: bool) -> Task[..., Any]:
    """The task as this run uses it: recomputed when asked, retried with backoff and jitter
    when it names the failures worth retrying (``retry_condition_fn``), and its result kept in
    the shared result storage when there is one."""
    options: dict[str, Any] = {"refresh_cache": True} if refresh else {}
    if settings.results_path is not None and task.persist_result:
        # lazy: importing it at module level (prefect.filesystems) made runs in other
        # processes miss each other's local cached results
        from adref.shared_results import result_storage

        options["result_storage"] = result_storage(settings)
    if task.retry_condition_fn is not None:
        options |= {
            "retries": settings.task_retries,
            "retry_delay_seconds": settings.retry_delays() or 0,
            "retry_jitter_factor": 0.2,
        }
    return task.with_options(**options) if options else task
