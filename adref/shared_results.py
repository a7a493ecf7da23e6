"""Cached stage results in the bucket, so a worker on any machine reuses another's finished work.

Prefect finds a cached task result by its cache key in the task's result storage; by default
that is a folder on the machine that ran it (``PREFECT_LOCAL_STORAGE_PATH``), which another
machine cannot see. With ``ADREF_RESULTS_PATH`` set to an ``s3://`` prefix, every cached stage
stores its result there instead, through a result storage block of Prefect's own kind
(``WritableFileSystem``) that reaches the bucket with pyarrow, which adref already has (the
S3 block Prefect offers needs another package and boto3). Prefect takes only a block its
server knows, so the block is saved there under a name made from the prefix: it holds the prefix
only, and takes the endpoint and keys from adref's settings each time, so nothing secret reaches
Prefect's database. One S3 PUT is one whole object: a
worker killed while writing a result leaves the previous one or none, never half of one.
"""

from __future__ import annotations

import asyncio
import hashlib
from functools import lru_cache

from prefect.exceptions import ObjectAlreadyExists
from prefect.filesystems import WritableFileSystem

from adref.bucket import filesystem
from adref.settings import Settings, get_settings


class S3Results(WritableFileSystem):
    """Result records as objects under ``basepath`` (``s3://bucket/prefix/``)."""

    _block_type_name = "adref S3 results"
    basepath: str

    def _resolve_path(self, path: str) -> str:
        """The full ``s3://`` name of a key; Prefect keys its in-memory cache and its records by
        what this returns, as it does for its own remote storage."""
        return path if path.startswith("s3://") else f"{self.basepath}{path}"

    def _object(self, path: str) -> str:
        return self._resolve_path(path).removeprefix("s3://")

    def read_path(self, path: str, _sync: bool = True) -> bytes:  # type: ignore[override]
        with filesystem(get_settings()).open_input_stream(self._object(path)) as stream:
            return bytes(stream.read())

    def write_path(self, path: str, content: bytes, _sync: bool = True) -> None:  # type: ignore[override]
        with filesystem(get_settings()).open_output_stream(self._object(path)) as stream:
            stream.write(content)

    async def aread_path(self, path: str) -> bytes:
        return await asyncio.to_thread(self.read_path, path)

    async def awrite_path(self, path: str, content: bytes) -> None:
        await asyncio.to_thread(self.write_path, path, content)


def result_storage(settings: Settings) -> S3Results | None:
    """The shared result storage the settings name, or None for Prefect's default (local).

    Needs the Prefect API: a task takes only a block the server knows."""
    if settings.results_path is None:
        return None
    return _saved(settings.results_path)


@lru_cache(maxsize=4)
def _saved(basepath: str) -> S3Results:
    """The block for ``basepath``, saved on the server once (its document is that path and
    nothing else; ``adref deploy`` saves it), then loaded by every process that runs tasks.
    Runs starting together may each find it missing and save it: the one that loses the race
    to create it loads the winner's."""
    name = "adref-results-" + hashlib.sha256(basepath.encode()).hexdigest()[:12]
    for _ in range(3):
        try:
            block = S3Results.load(name, _sync=True)  # type: ignore[call-arg]
            if isinstance(block, S3Results) and block.basepath == basepath:
                return block
        except ValueError:  # not saved yet
            pass
        block = S3Results(basepath=basepath)
        try:
            block.save(name, overwrite=True, _sync=True)  # type: ignore[call-arg]
        except ObjectAlreadyExists:  # another process registered the block type or document
            continue
        return block
    raise RuntimeError(f"could not save or load the result storage block {name}")
