"""A video's download: its keyframes and its analysis as JSON and Markdown, in one zip.

Built in memory: a video's keyframes are a few hundred kilobytes. Names inside the zip are made
from indexes and times only, so no stored text can become a path.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from adref.boards.frames import media_bytes, timecode
from adref.categories import formats, genres, label
from adref.models import safe_id
from adref.warehouse.catalog import Warehouse
from adref.warehouse.video_dump import read_video

# Analysis columns shown in their own Markdown section, not in the field list.
_NOT_FIELDS = {"analysis_id", "video_id", "groups", "features"}


def file_name(video_id: str) -> str:
    """The zip's name, safe on every file system."""
    return f"adref-{safe_id(video_id)}.zip"


def video_zip(wh: Warehouse, video_id: str) -> bytes:
    data = read_video(wh, video_id)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("analysis.json", json.dumps(data, ensure_ascii=False, indent=2))
        z.writestr("analysis.md", markdown(data))
        for shot in data["shots"]:
            jpeg = media_bytes(wh.media, shot.get("keyframe_path"))
            if jpeg is not None:
                stamp = timecode(shot["start_s"]).replace(":", "m") + "s"
                name = f"keyframes/shot-{shot['shot_index']:04d}_{stamp}.jpg"
                z.writestr(name, jpeg, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def _md(value: Any) -> str:
    """A value on one Markdown line: lists joined, pipes and line breaks neutralised."""
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    return re.sub(r"\s*\n\s*", " ", str(value)).replace("|", "\\|")


def _label(name: str, value: Any) -> str:
    if name == "genre" and isinstance(value, str):
        return f"{label(genres(), value, 'ko')} / {label(genres(), value, 'en')} (`{value}`)"
    if name == "expression_format" and isinstance(value, str):
        return f"{label(formats(), value, 'ko')} / {label(formats(), value, 'en')} (`{value}`)"
    return _md(value)


def markdown(data: dict[str, Any]) -> str:
    v = data["video"]
    lines = [f"# {_md(v.get('title') or v['video_id'])}", ""]
    lines += [f"- **{k}**: {_md(v.get(k))}" for k in ("video_id", "webpage_url", "source_url")]
    lines += [
        f"- **{k}**: {_md(v.get(k))}"
        for k in ("uploader", "upload_date", "duration_s", "width", "height", "fps", "ingested_at")
    ]
    lines += [f"- **tags**: site {_md(v.get('site_tags'))}; user {_md(v.get('user_tags'))}", ""]
    if v.get("description"):
        lines += ["## Description", "", str(v["description"]).strip(), ""]
    lines += ["## Effective values (corrections over the model's answer)", ""]
    lines += ["| field | value | model's value | corrected by |", "| --- | --- | --- | --- |"]
    for name, c in data["effective"].items():
        by = f"{c['corrected_by']} ({c['corrected_at']})" if c["corrected_by"] else "—"
        model = _label(name, c["model_value"])
        lines.append(f"| {name} | {_label(name, c['value'])} | {model} | {_md(by)} |")
    lines.append("")
    for a in data["analyses"]:
        lines += [f"## Analysis by {a['provider']} / {a['model']} ({a['created_at']})", ""]
        for name, value in a.items():
            if name not in _NOT_FIELDS:
                lines.append(f"- **{name}**: {_label(name, value)}")
        features = a.get("features") or {}
        if isinstance(features, dict) and features:
            lines += ["", "### Features", ""]
            lines += [f"- **{k}**: {_md(val)}" for k, val in features.items()]
        lines += ["", "### Scene groups", ""]
        starts = {g["group_index"]: g for g in data["scene_groups"]}
        for g in a["groups"]:
            span = starts.get(g["group_index"], {})
            when = f"{timecode(span.get('start_s'))}–{timecode(span.get('end_s'))}"
            kind = ", ".join(str(x) for x in (g.get("shot_type"), g.get("camera_movement")) if x)
            extra = f" ({kind})" if kind else ""
            lines.append(f"{g['group_index'] + 1}. {when}{extra}: {_md(g.get('description'))}")
        lines.append("")
    lines += ["## Shots", "", "| shot | start | end | brightness | warmth | motion | faces |"]
    lines.append("| --- | --- | --- | --- | --- | --- | --- |")
    for s in data["shots"]:
        cells = [timecode(s["start_s"]), timecode(s["end_s"])]
        cells += [_md(s.get(k)) for k in ("brightness", "warmth", "motion", "face_count")]
        lines.append(f"| {s['shot_index']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
