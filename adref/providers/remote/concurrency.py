"""One Prefect concurrency limit per provider, so five flow runs cannot exceed a vendor's rate.

The limit ``adref-model-<provider>`` is created on first use with ``ADREF_PROVIDER_CONCURRENCY``
slots and can be changed (or paused) in the Prefect UI afterwards; adref never overwrites it.
Outside a Prefect run (a plain function call, the token bench) there is nothing to share a
vendor with, so no slot is taken.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from adref.settings import Settings

log = logging.getLogger(__name__)
_ensured: set[tuple[str, str]] = set()


def limit_name(provider: str) -> str:
    return f"adref-model-{provider}"


@contextmanager
def model_slot(provider: str, settings: Settings) -> Iterator[None]:
    from prefect.context import FlowRunContext, TaskRunContext

    if not (FlowRunContext.get() or TaskRunContext.get()):
        yield
        return
    from prefect.concurrency.sync import concurrency

    name = limit_name(provider)
    _ensure(name, settings.provider_concurrency)
    with concurrency(name, occupy=1, timeout_seconds=settings.provider_timeout_s * 5):
        yield


def _ensure(name: str, slots: int) -> None:
    """Read before creating: each flow run is a process of its own, and a create that finds the
    limit already there makes the Prefect server log an error with its traceback, once per run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        key = (str(client.api_url), name)
        if key in _ensured:
            return
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=slots)
                )
                log.info("created the Prefect concurrency limit %s (%d slots)", name, slots)
            except ObjectAlreadyExists:  # another run created it meanwhile
                pass
        _ensured.add(key)
