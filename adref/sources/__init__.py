"""Getting a video onto local disk: resolve a URL or path to an id, then download and check it."""

from adref.sources.download import download
from adref.sources.hashing import sha256_file
from adref.sources.resolve import ResolvedSource, resolve_source

__all__ = ["ResolvedSource", "download", "resolve_source", "sha256_file"]
