"""What a site says about a video (yt-dlp's info dict), and what the file itself says (a probe).

The site knows the words (title, uploader, tags); only the file knows the picture. After a
download the probe's numbers win, because they describe what will actually be decoded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from adref import tags
from adref.models import StreamInfo, VideoMeta
from adref.sources.urls import redact_url

__all__ = ["apply_stream", "meta_from_info", "site_video_id"]

# Extractors whose "id" is only a file or page name, not a site's identity for the video.
_NAME_ONLY_EXTRACTORS = frozenset({"generic", "html5mediaembed"})
_EXTRA_FIELDS = (
    "display_id",
    "channel",
    "channel_id",
    "channel_url",
    "uploader_id",
    "uploader_url",
    "like_count",
    "comment_count",
    "categories",
    "thumbnail",
    "language",
    "age_limit",
    "availability",
    "live_status",
    "format_id",
    "ext",
    "vcodec",
    "acodec",
    "tbr",
)


def site_video_id(info: dict[str, Any]) -> str | None:
    """``{extractor}:{id}`` for a site video; None when the id is only a name (generic pages)."""
    key = str(info.get("extractor_key") or info.get("ie_key") or "").lower()
    vid = info.get("id")
    if not key or key in _NAME_ONLY_EXTRACTORS or vid in (None, ""):
        return None
    return f"{key}:{vid}"


def meta_from_info(info: dict[str, Any], source_url: str) -> VideoMeta:
    """A partial VideoMeta (``video_id`` is "" until known) from yt-dlp's info dict."""
    extractor = str(info.get("extractor_key") or "").lower() or None
    extra = {k: _plain(info[k]) for k in _EXTRA_FIELDS if info.get(k) not in (None, "", [])}
    return VideoMeta(
        video_id=site_video_id(info) or "",
        source_url=redact_url(source_url),
        webpage_url=_url(info.get("webpage_url")),
        title=_text(info.get("title")),
        description=_text(info.get("description")),
        uploader=_text(info.get("uploader") or info.get("channel") or info.get("creator")),
        upload_date=_upload_date(info),
        duration_s=_positive(info.get("duration")),
        width=_int(info.get("width")),
        height=_int(info.get("height")),
        fps=_positive(info.get("fps")),
        view_count=_int(info.get("view_count")),
        extractor=extractor,
        site_tags=_tags(info.get("tags")),
        metadata=extra,
    )


def apply_stream(meta: VideoMeta, stream: StreamInfo, video_id: str) -> VideoMeta:
    """The probed picture (displayed size, rate, duration) over whatever the site claimed."""
    return meta.model_copy(
        update={
            "video_id": video_id,
            "width": stream.width,
            "height": stream.height,
            "fps": stream.fps or meta.fps,
            "duration_s": stream.duration_s or meta.duration_s,
        }
    )


def _upload_date(info: dict[str, Any]) -> date | None:
    for key in ("upload_date", "release_date"):
        raw = info.get(key)
        if isinstance(raw, str) and len(raw) == 8 and raw.isdigit():
            try:
                return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
            except ValueError:
                continue
    stamp = info.get("timestamp") or info.get("release_timestamp")
    if isinstance(stamp, int | float):
        return datetime.fromtimestamp(stamp, UTC).date()
    return None


def _tags(raw: Any) -> list[str]:
    return tags.unique(raw) if isinstance(raw, list) else []


def _text(raw: Any) -> str | None:
    return str(raw).strip() or None if raw is not None else None


def _url(raw: Any) -> str | None:
    return redact_url(str(raw)) if raw else None


def _int(raw: Any) -> int | None:
    return int(raw) if isinstance(raw, int | float) and raw > 0 else None


def _positive(raw: Any) -> float | None:
    return float(raw) if isinstance(raw, int | float) and raw > 0 else None


def _plain(raw: Any) -> Any:
    """Keep only JSON-shaped values (the metadata column is json)."""
    if isinstance(raw, str | int | float | bool) or raw is None:
        return raw
    if isinstance(raw, list | tuple):
        return [_plain(x) for x in raw]
    if isinstance(raw, dict):
        return {str(k): _plain(v) for k, v in raw.items()}
    return str(raw)
