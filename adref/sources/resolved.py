"""A source after it has been looked at but before its bytes are fetched."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from adref.models import DownloadedVideo, VideoMeta

__all__ = ["ResolvedSource"]


class ResolvedSource(BaseModel):
    """What ``resolve_source`` learnt; ``download`` takes it from here.

    ``video_id`` is known before downloading for site videos (``{extractor}:{id}``) and local
    files (``sha256:{hex}``), and None for yt-dlp's generic extractor, whose id becomes the
    content hash after download. ``meta.video_id`` is "" while ``video_id`` is None.
    ``source`` is the address as given (it may carry credentials: use ``meta.source_url``,
    which is masked, for anything shown or stored) or the file's absolute path.
    """

    kind: Literal["url", "file"]
    source: str
    video_id: str | None
    meta: VideoMeta
    # A local file's probe and hash, valid while its size and mtime still match ``stamp``:
    # the download step then needs neither again.
    local: DownloadedVideo | None = None
    stamp: tuple[int, int] | None = None
