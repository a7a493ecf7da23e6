"""One way to reach the bucket from Python: a pyarrow ``S3FileSystem`` made from adref's settings.

Cached stage results and media both live in ``s3://`` prefixes that DuckDB does not manage, so
they share this client: ADREF_S3_ENDPOINT, ADREF_S3_REGION and the keys, as the warehouse's own
DuckDB secret takes them. The keys go straight into the client and nowhere else (no repr, no
message). One client per distinct settings is kept: pyarrow's is thread-safe and its
connection pool is worth reusing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from pyarrow import fs as pafs

from adref.settings import Settings


def filesystem(settings: Settings) -> pafs.S3FileSystem:
    """The bucket as the warehouse reaches it (one client per endpoint, region and keys)."""
    secrets = tuple(
        None if s is None else s.get_secret_value()
        for s in (
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
            settings.s3_session_token,
        )
    )
    return _cached(settings.s3_endpoint, settings.s3_region, secrets)


@lru_cache(maxsize=8)
def _cached(
    endpoint: str | None, region: str, secrets: tuple[str | None, ...]
) -> pafs.S3FileSystem:
    options: dict[str, Any] = {"region": region}
    if endpoint:
        url = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        options |= {"endpoint_override": url.netloc, "scheme": url.scheme or "https"}
    for name, secret in zip(("access_key", "secret_key", "session_token"), secrets, strict=True):
        if secret is not None:
            options[name] = secret
    return pafs.S3FileSystem(**options)


def split(path: str) -> tuple[str, str]:
    """``s3://bucket/prefix/`` as (bucket, prefix): the prefix empty or ending with ``/``."""
    bucket, _, prefix = path.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""
