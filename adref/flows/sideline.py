"""Cosmetic Prefect API calls (the progress bar, the run's name) kept off the pipeline's path.

Each is an HTTP round trip to the Prefect server; made inline they added about a quarter of a
second per video. Here one background thread makes them in order, with one client and the
flow's context, while the next stage already works. They are best effort: a failure is logged
at debug level and never fails the run, and ``close`` waits briefly for what is queued.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

log = logging.getLogger(__name__)


class Sideline:
    def __init__(self, flow_run_id: str | None, description: str = "adref stages") -> None:
        self.flow_run_id = uuid.UUID(flow_run_id) if flow_run_id else None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adref-sideline")
        self._futures: list[Any] = []
        self._client: Any = None
        self._artifact_id: uuid.UUID | None = None
        self._last: float | None = None
        if self.flow_run_id is not None:
            self._submit(self._create_progress, description)

    def progress(self, percent: float) -> None:
        if self.flow_run_id is not None and percent != self._last:
            self._last = percent
            self._submit(self._update_progress, percent)

    def rename(self, name: str) -> None:
        if self.flow_run_id is not None:
            self._submit(self._rename, name[:120])

    def close(self, timeout_s: float = 10.0) -> None:
        _, pending = wait(self._futures, timeout=timeout_s)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._client is not None and not pending:
            self._client.__exit__(None, None, None)

    # -- on the sideline thread -------------------------------------------------------------

    def _submit(self, fn: Callable[..., None], *args: Any) -> None:
        ctx = contextvars.copy_context()
        self._futures.append(self._pool.submit(ctx.run, self._safely, fn, *args))

    def _safely(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # cosmetic: never fail a run over it
            log.debug("prefect side call %s failed: %s", fn.__name__, exc)

    def _api(self) -> Any:
        if self._client is None:
            from prefect.client.orchestration import get_client

            self._client = get_client(sync_client=True).__enter__()
        return self._client

    def _create_progress(self, description: str) -> None:
        from prefect.client.schemas.actions import ArtifactCreate

        created = self._api().create_artifact(
            ArtifactCreate(
                type="progress",
                data=0.0,
                description=description,
                flow_run_id=self.flow_run_id,
            )
        )
        self._artifact_id = created.id

    def _update_progress(self, percent: float) -> None:
        from prefect.client.schemas.actions import ArtifactUpdate

        if self._artifact_id is not None:
            self._api().update_artifact(self._artifact_id, ArtifactUpdate(data=percent))

    def _rename(self, name: str) -> None:
        self._api().update_flow_run(self.flow_run_id, name=name)
