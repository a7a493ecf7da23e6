"""What a finished run tells its user: a plain summary object and a markdown artifact."""

from __future__ import annotations

import base64
from collections import defaultdict
from functools import lru_cache
from urllib.parse import quote, urlencode

from adref.analysis import Analysis
from adref.categories import formats, genres, label
from adref.models import DetectResult, Grouping, PaletteColor
from adref.tasks.runs import RunSummary


def overall_palette(detected: DetectResult, size: int = 5) -> list[PaletteColor]:
    """Shot palettes weighted by shot duration; the heaviest colours of the whole video."""
    weights: dict[str, float] = defaultdict(float)
    total = sum(max(s.duration_s, 1e-6) for s in detected.shots) or 1.0
    for shot in detected.shots:
        for colour in shot.palette:
            weights[colour.hex] += colour.weight * max(shot.duration_s, 1e-6) / total
    top = sorted(weights.items(), key=lambda kv: -kv[1])[:size]
    norm = sum(w for _, w in top) or 1.0
    return [PaletteColor(hex=h, weight=round(w / norm, 4)) for h, w in top]


@lru_cache(maxsize=256)  # a few MB: keyframes are thumbnail-sized JPEGs
def _thumb_uri(jpeg: bytes, width: int = 160) -> str:
    """Kept for the process: a re-run of a video draws the same keyframes again."""
    # lazy: OpenCV and NumPy load only to draw a summary, not to import the flow
    import cv2
    import numpy as np

    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        return ""
    h = max(1, round(img.shape[0] * width / img.shape[1]))
    ok, buf = cv2.imencode(".jpg", cv2.resize(img, (width, h)), [cv2.IMWRITE_JPEG_QUALITY, 70])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


def video_link(viewer_url: str, video_id: str, start_s: float | None = None) -> str:
    """The viewer's page of a video (at a time, when given)."""
    query = {"id": video_id} | ({"t": f"{start_s:.3f}"} if start_s else {})
    return f"{viewer_url.rstrip('/')}/video?{urlencode(query, quote_via=quote)}"


def markdown(
    summary: RunSummary,
    detected: DetectResult,
    grouping: Grouping,
    analysis: Analysis,
    viewer_url: str | None = None,
) -> str:
    lang = analysis.output_language

    def link(start_s: float | None = None) -> str | None:
        if not (summary.video_id and viewer_url):
            return None
        return video_link(viewer_url, summary.video_id, start_s)

    lines = [
        f"# {summary.title or summary.video_id}",
        "",
        *([f"[Open in the viewer]({link()})", ""] if link() else []),
        f"`{summary.video_id}` · {summary.duration_s or 0:.1f} s · "
        f"{summary.width}x{summary.height} · {summary.shots} shots · {summary.groups} scene groups",
        "",
        f"Seen at `{summary.source}`"
        + (f", which calls it “{summary.source_title}”" if summary.source_title else ""),
        "",
        f"**Genre** {label(genres(), analysis.genre, lang)} · "
        f"**Format** {label(formats(), analysis.expression_format, lang)} · "
        f"**Mood** {', '.join(analysis.mood) or '—'}",
        "",
        f"**Tags** {', '.join(analysis.model_tags) or '—'}",
        "",
        analysis.summary or "",
        "",
        "**Palette** " + " ".join(f"`{c.hex}` {c.weight:.0%}" for c in summary.palette),
        "",
        "| group | time | shots | keyframe | description |",
        "|---|---|---|---|---|",
    ]
    described = {g.group_index: g.description or "" for g in analysis.groups}
    by_index = {s.shot_index: s for s in detected.shots}
    for g in grouping.groups:
        uri = _thumb_uri(by_index[g.representative_shot].keyframe_jpeg)
        img = f"![group {g.group_index}]({uri})" if uri else ""
        time = f"{g.start_s:.1f}–{g.end_s:.1f} s"
        if at := link(g.start_s):
            time = f"[{time}]({at})"
        lines.append(
            f"| {g.group_index} | {time} | {len(g.shot_indices)} | {img} | "
            f"{described.get(g.group_index, '')} |"
        )
    if summary.notes:
        lines += ["", "**Notes**", "", *(f"- {note}" for note in summary.notes)]
    lines += [
        "",
        f"Cache: {summary.cache_hits}/{summary.tasks} tasks served from cache.",
        "",
        f"Warehouse: `{summary.warehouse}` — open it with `adref sql`, or in any DuckDB client:",
        "",
        f"```sql\n{summary.attach_line}\n```",
    ]
    return "\n".join(lines)


def describe_analysis(summary: RunSummary, detected: DetectResult, analysis: Analysis) -> None:
    """Fill a summary from the stored analysis and the shots it read: what a user sees."""
    summary.status = "completed"
    summary.duration_s = detected.stream.duration_s
    summary.width, summary.height = detected.stream.width, detected.stream.height
    summary.shots = len(detected.shots)
    summary.analysis_id, summary.model = analysis.analysis_id, analysis.model
    summary.provider = analysis.provider
    summary.genre, summary.expression_format = analysis.genre, analysis.expression_format
    summary.mood, summary.tags = analysis.mood, analysis.model_tags
    summary.summary = analysis.summary
    summary.palette = overall_palette(detected)
