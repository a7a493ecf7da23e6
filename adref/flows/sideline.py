"""Prefect API calls that only inform (progress, the run's name, its summary) kept off the path.

Each is an HTTP round trip to the Prefect server; made inline they added about a quarter of a
second per video. Here one background thread makes them in order, with one client and the
flow's context, while the next stage already works. They are best effort: a failure is logged
at debug level and never fails the run, and ``close`` waits briefly for what is queued.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

log = logging.getLogger(__name__)


class Sideline:
    """The progress bar appears only once a run has taken ``progress_after_s``: a re-run served
    from cache is over before anyone could watch it, and its API calls would only slow it."""

    def __init__(
        self,
        flow_run_id: str | None,
        description: str = "adref stages",
        progress_after_s: float = 1.0,
    ) -> None:
        self.flow_run_id = uuid.UUID(flow_run_id) if flow_run_id else None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adref-sideline")
        self._futures: list[Any] = []
        self._client: Any = None
        self._artifact_id: uuid.UUID | None = None
        self._last: float = 0.0
        self._showing = False
        self.renamed = False
        self._lock = threading.Lock()
        self._context = contextvars.copy_context()
        self._timer: threading.Timer | None = None
        if self.flow_run_id is not None:
            self._timer = threading.Timer(
                progress_after_s, self._context.copy().run, (self._show_progress, description)
            )
            self._timer.daemon = True
            self._timer.start()

    def progress(self, percent: float) -> None:
        with self._lock:
            if percent == self._last:
                return
            self._last = percent
            if self._showing:
                self._submit(self._update_progress, percent)

    def _show_progress(self, description: str) -> None:
        with self._lock:
            self._showing = True
            self._submit(self._create_progress, description)

    def rename(self, name: str) -> None:
        self.renamed = True
        if self.flow_run_id is not None:
            self._submit(self._rename, name[:120])

    def markdown(self, render: Callable[[], str], key: str, description: str) -> None:
        """``render`` runs on the side thread too: drawing a summary is part of sending it."""
        if self.flow_run_id is not None:
            self._submit(self._markdown, render, key, description)

    def close(self, timeout_s: float = 10.0) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            futures = list(self._futures)
        wait(futures, timeout=timeout_s)
        self._pool.shutdown(wait=False, cancel_futures=True)

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
            self._client = _shared_client()
        return self._client

    def _create_progress(self, description: str) -> None:
        from prefect.client.schemas.actions import ArtifactCreate

        created = self._api().create_artifact(
            ArtifactCreate(
                type="progress",
                data=self._last,
                description=description,
                flow_run_id=self.flow_run_id,
            )
        )
        self._artifact_id = created.id

    def _update_progress(self, percent: float) -> None:
        from prefect.client.schemas.actions import ArtifactUpdate

        if percent != self._last:
            return  # a newer figure is queued behind this one: only the latest is worth sending
        if self._artifact_id is not None:
            self._api().update_artifact(self._artifact_id, ArtifactUpdate(data=percent))

    def _markdown(self, render: Callable[[], str], key: str, description: str) -> None:
        from prefect.client.schemas.actions import ArtifactCreate

        self._api().create_artifact(
            ArtifactCreate(
                type="markdown",
                key=key,
                data=render(),
                description=description,
                flow_run_id=self.flow_run_id,
            )
        )

    def _rename(self, name: str) -> None:
        self._api().update_flow_run(self.flow_run_id, name=name)


_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _shared_client() -> Any:
    """One open client per API for the process: a worker runs many flows, and a new client
    costs a TLS context and a connection each time."""
    from prefect.client.orchestration import get_client

    client = get_client(sync_client=True)
    url = str(client.api_url)
    with _CLIENTS_LOCK:
        if url not in _CLIENTS:
            _CLIENTS[url] = client.__enter__()
        return _CLIENTS[url]
