"""A Prefect API other than the tests' own, for a block of code: the server a test started."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def against(api_url: str) -> Iterator[None]:
    """Prefect's client calls inside go to ``api_url``."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield


@contextmanager
def client_of(api_url: str) -> Iterator[Any]:
    """A synchronous client of the server at ``api_url``."""
    from prefect.client.orchestration import get_client

    with against(api_url), get_client(sync_client=True) as client:
        yield client
