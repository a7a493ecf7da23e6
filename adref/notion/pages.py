"""What a video's and a moodboard's Notion page say: properties and body, as plain data.

Values are the effective ones: a person's latest correction of the genre, format, mood or tags
wins over the model's, as in the viewer and search. The newest analysis is the one shown.
Pictures are left as ``Picture`` markers; ``push`` turns each into an uploaded or linked image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from adref.boards.frames import media_bytes, timecode
from adref.categories import formats, genres, label
from adref.notion import shape
from adref.warehouse.corrections import Effective
from adref.warehouse.detail import AnalysisView, VideoView
from adref.warehouse.media_store import MediaStore
from adref.warehouse.moodboards import BoardView

GRID = 3  # frames per row on a moodboard page


@dataclass(frozen=True)
class Picture:
    """A keyframe to show: a file in the warehouse's media store."""

    path: str | None  # relative to the warehouse root
    caption: str = ""


Part = dict[str, Any] | Picture


@dataclass
class PageContent:
    title: str
    properties: dict[str, dict[str, Any]]  # adref's property name → Notion property value
    body: list[Part] = field(default_factory=list)
    grid: list[list[tuple[Picture, list[dict[str, Any]]]]] = field(default_factory=list)


def viewer_link(viewer_url: str, video_id: str, start_s: float | None = None) -> str:
    query = {"id": video_id} | ({"t": f"{start_s:.3f}"} if start_s else {})
    return f"{viewer_url.rstrip('/')}/video?{urlencode(query, quote_via=quote)}"


def aspect_name(aspect: float | None) -> str | None:
    """As the search's facet names it: below 0.9 vertical, 0.9-1.1 square, above landscape."""
    if not aspect:
        return None
    return "vertical" if aspect < 0.9 else "square" if aspect <= 1.1 else "landscape"


def video_page(view: VideoView, eff: Effective, viewer_url: str, language: str) -> PageContent:
    video = view.video
    analysis: AnalysisView | None = view.analyses[-1] if view.analyses else None
    fields = analysis.fields if analysis else {}
    genre, fmt = eff.value("genre"), eff.value("expression_format")
    tags = [*(video.get("user_tags") or []), *(video.get("site_tags") or []), *eff.value("tags")]
    source = video.get("webpage_url") or video.get("source_url")
    title = str(video.get("title") or view.video_id)
    properties: dict[str, dict[str, Any]] = {
        "Kind": shape.select_value("video"),
        "Source": shape.url_value(source),
        "Genre": shape.select_value(label(genres(), genre, language) if genre else None),
        "Format": shape.select_value(label(formats(), fmt, language) if fmt else None),
        "Mood": shape.multi_select_value(eff.value("mood")),
        "Tags": shape.multi_select_value(tags),
        "Target audience": shape.text_value(fields.get("target_audience")),
        "Duration (s)": shape.number_value(
            round(float(video["duration_s"]), 1) if video.get("duration_s") else None
        ),
        "Aspect": shape.select_value(aspect_name(video.get("aspect"))),
        "Provider": shape.select_value(analysis.provider if analysis else None),
        "Model": shape.select_value(analysis.model if analysis else None),
        "Analysed": shape.date_value(analysis.created_at if analysis else None),
        "Viewer": shape.url_value(viewer_link(viewer_url, view.video_id)),
    }
    body: list[Part] = []
    note = eff.fields["note"]
    if note.value:
        body += [shape.heading(f"Note by {note.author}", 3), *shape.paragraphs(note.value)]
    body += [shape.heading("Summary"), *shape.paragraphs(fields.get("summary") or "—")]
    if fields.get("genre_reason"):
        body += [shape.heading("Reasoning"), *shape.paragraphs(fields["genre_reason"])]
    body += [shape.heading("Measurements"), *(shape.bullet(m) for m in _measurements(view, fields))]
    described = {g.group_index: g for g in (analysis.groups if analysis else ())}
    if view.groups:
        body.append(shape.heading("Scenes"))
    for group in view.groups:
        span = f"{timecode(group.start_s)}–{timecode(group.end_s)}"
        body.append(shape.heading(f"Scene {group.group_index + 1} · {span}", 3))
        body.append(Picture(group.keyframe_path, f"scene {group.group_index + 1} · {span}"))
        g = described.get(group.group_index)
        words = (
            [g.description or "", *(x for x in (g.shot_type, g.camera_movement) if x)] if g else []
        )
        text = " · ".join(w for w in words if w)
        if text:
            body += shape.paragraphs(text, None)
    return PageContent(title, properties, body)


def _measurements(view: VideoView, fields: dict[str, Any]) -> list[str]:
    video = view.video
    lines = [
        f"{len(view.shots)} shots, {len(view.groups)} scene groups",
        f"{video.get('width')}×{video.get('height')} at {float(video.get('fps') or 0):.2f} fps, "
        f"{float(video.get('duration_s') or 0):.1f} s",
    ]
    if view.palette:
        lines.append("Palette: " + " ".join(f"{h} {w:.0%}" for h, w in view.palette))
    for name in ("tone", "hook", "call_to_action", "visual_style"):
        if fields.get(name):
            lines.append(f"{name.replace('_', ' ').capitalize()}: {fields[name]}")
    features = fields.get("features")
    if isinstance(features, dict):
        lines += [f"{k.replace('_', ' ').capitalize()}: {v}" for k, v in features.items() if v]
    return lines


def board_page(view: BoardView, viewer_url: str) -> PageContent:
    """A board as a grid of its frames, with each frame's video, timecode and note under it."""
    b = view.board
    properties: dict[str, dict[str, Any]] = {"Kind": shape.select_value("moodboard")}
    body: list[Part] = []
    if b.description:
        body += shape.paragraphs(b.description)
    body += shape.paragraphs(f"by {b.owner} · {len(view.items)} shots")
    cells: list[tuple[Picture, list[dict[str, Any]]]] = []
    for item in view.items:
        link = viewer_link(viewer_url, item.video_id, item.start_s)
        caption = [
            *shape.paragraphs(f"{item.title or item.video_id} · {timecode(item.start_s)}", link),
            *(shape.paragraphs(item.note) if item.note else []),
        ]
        cells.append((Picture(item.keyframe_path, ""), caption))
    grid = [cells[i : i + GRID] for i in range(0, len(cells), GRID)]
    return PageContent(b.name, properties, body, grid)


def picture_bytes(media: MediaStore, picture: Picture) -> bytes | None:
    """The picture's keyframe from the media store (local or the bucket), only if it is under
    ``media/``; None when it is missing."""
    return media_bytes(media, picture.path)
