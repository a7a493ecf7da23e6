"""Content hashes: the identity of a local file or a generic download.

The hash is streamed in fixed chunks so a 2 GB video costs a few megabytes of memory, and it
is what makes "the same video is never stored twice" true for files that have no site id.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["content_video_id", "sha256_file"]


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file's bytes."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def content_video_id(content_hash: str) -> str:
    return f"sha256:{content_hash}"
