"""One stored video as the viewer's video page shows it: the video, its shots, scene groups and
every analysis of it (re-analyses side by side), read in one snapshot.

Plain rows, not the pipeline's models: the page shows what is stored, including columns the
models do not carry (tokens, cost, the group descriptions of each analysis).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from adref.models import shot_at
from adref.warehouse.catalog import Warehouse
from adref.warehouse.read import video_rows

ANALYSIS_FIELDS = (
    "genre",
    "genre_reason",
    "genre_confidence",
    "expression_format",
    "mood",
    "tone",
    "target_audience",
    "hook",
    "call_to_action",
    "brand_cues",
    "visual_style",
    "summary",
    "model_tags",
    "features",
    "ad_language",
    "output_language",
)


@dataclass(frozen=True)
class ShotView:
    shot_index: int
    start_s: float
    end_s: float
    keyframe_path: str | None
    palette: tuple[tuple[str, float], ...]
    texts: tuple[str, ...] = ()  # the lines read on screen in this shot, top to bottom
    said: tuple[str, ...] = ()  # the voice-over's segments starting in this shot, in order


@dataclass(frozen=True)
class GroupView:
    group_index: int
    shot_indices: tuple[int, ...]
    start_s: float
    end_s: float
    keyframe_path: str | None


@dataclass(frozen=True)
class GroupAnalysisView:
    group_index: int
    description: str | None
    shot_type: str | None
    camera_movement: str | None


@dataclass(frozen=True)
class AnalysisView:
    analysis_id: str
    provider: str
    model: str | None
    prompt_version: str | None
    created_at: Any
    tokens_in: int | None
    tokens_out: int | None
    cost_usd: float | None
    latency_s: float | None
    fields: dict[str, Any]  # ANALYSIS_FIELDS in order, as stored (features parsed from JSON)
    groups: tuple[GroupAnalysisView, ...] = ()


@dataclass(frozen=True)
class VideoView:
    video: dict[str, Any]  # the ``videos`` row
    shots: tuple[ShotView, ...] = ()
    groups: tuple[GroupView, ...] = ()
    analyses: tuple[AnalysisView, ...] = ()  # oldest first
    palette: tuple[tuple[str, float], ...] = field(default=())  # whole video, by shot length

    @property
    def video_id(self) -> str:
        return str(self.video["video_id"])


def video_view(wh: Warehouse, video_id: str) -> VideoView | None:
    """The video and everything stored about it, or None when the warehouse does not hold it."""
    with contextlib.closing(wh.connect(read_only=True)) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            videos = video_rows(con, "SELECT * FROM videos WHERE video_id = $v", video_id)
            if not videos:
                return None
            shots = video_rows(
                con,
                "SELECT shot_index, start_s, end_s, keyframe_path, palette FROM shots "
                "WHERE video_id = $v ORDER BY shot_index",
                video_id,
            )
            groups = video_rows(
                con,
                "SELECT group_index, shot_indices, start_s, end_s, keyframe_path "
                "FROM scene_groups WHERE video_id = $v ORDER BY group_index",
                video_id,
            )
            analyses = video_rows(
                con, "SELECT * FROM analyses WHERE video_id = $v ORDER BY created_at", video_id
            )
            described = video_rows(
                con,
                "SELECT analysis_id, group_index, description, shot_type, camera_movement "
                "FROM group_analyses WHERE video_id = $v ORDER BY group_index",
                video_id,
            )
            texts = video_rows(
                con,
                "SELECT shot_index, text FROM shot_texts WHERE video_id = $v "
                "ORDER BY shot_index, box[2], box[1]",
                video_id,
            )
            heard = video_rows(
                con,
                "SELECT start_s, end_s, text FROM transcripts WHERE video_id = $v "
                "ORDER BY start_s, end_s",
                video_id,
            )
        finally:
            con.execute("COMMIT")
    read: dict[int, list[str]] = {}
    for t in texts:
        if t["text"]:
            read.setdefault(int(t["shot_index"]), []).append(str(t["text"]))
    said = _said_per_shot(shots, heard)
    shot_views = tuple(
        ShotView(
            shot_index=int(s["shot_index"]),
            start_s=float(s["start_s"]),
            end_s=float(s["end_s"]),
            keyframe_path=s["keyframe_path"],
            palette=tuple((p["hex"], float(p["weight"])) for p in s["palette"] or []),
            texts=tuple(read.get(int(s["shot_index"]), ())),
            said=tuple(said.get(int(s["shot_index"]), ())),
        )
        for s in shots
    )
    return VideoView(
        video=videos[0],
        shots=shot_views,
        groups=tuple(
            GroupView(
                group_index=int(g["group_index"]),
                shot_indices=tuple(g["shot_indices"] or ()),
                start_s=float(g["start_s"]),
                end_s=float(g["end_s"]),
                keyframe_path=g["keyframe_path"],
            )
            for g in groups
        ),
        analyses=tuple(_analysis(a, described) for a in analyses),
        palette=overall_palette(shot_views),
    )


def _said_per_shot(
    shots: list[dict[str, Any]], heard: list[dict[str, Any]]
) -> dict[int, list[str]]:
    """The voice-over's segments by the shot playing when each starts (``shot_at``: the search
    index places them the same way, so a hit for a word said opens where the page shows it)."""
    spans = [(int(s["shot_index"]), float(s["start_s"]), float(s["end_s"])) for s in shots]
    said: dict[int, list[str]] = {}
    for h in heard:
        text = (h["text"] or "").strip()
        index = shot_at(spans, float(h["start_s"]), float(h["end_s"])) if text else None
        if index is not None:
            said.setdefault(index, []).append(text)
    return said


def overall_palette(shots: tuple[ShotView, ...], size: int = 6) -> tuple[tuple[str, float], ...]:
    """Shot palettes weighted by shot length: the colours a viewer sees most."""
    weights: dict[str, float] = {}
    for shot in shots:
        length = max(shot.end_s - shot.start_s, 1e-6)
        for hex_, weight in shot.palette:
            weights[hex_] = weights.get(hex_, 0.0) + weight * length
    top = sorted(weights.items(), key=lambda kv: -kv[1])[:size]
    total = sum(w for _, w in top) or 1.0
    return tuple((h, w / total) for h, w in top)


def _analysis(row: dict[str, Any], described: list[dict[str, Any]]) -> AnalysisView:
    fields = {name: row.get(name) for name in ANALYSIS_FIELDS}
    if isinstance(fields["features"], str):
        with contextlib.suppress(ValueError):
            fields["features"] = json.loads(fields["features"])
    return AnalysisView(
        analysis_id=row["analysis_id"],
        provider=row["provider"],
        model=row.get("model"),
        prompt_version=row.get("prompt_version"),
        created_at=row.get("created_at"),
        tokens_in=row.get("tokens_in"),
        tokens_out=row.get("tokens_out"),
        cost_usd=row.get("cost_usd"),
        latency_s=row.get("latency_s"),
        fields=fields,
        groups=tuple(
            GroupAnalysisView(
                group_index=int(d["group_index"]),
                description=d["description"],
                shot_type=d["shot_type"],
                camera_movement=d["camera_movement"],
            )
            for d in described
            if d["analysis_id"] == row["analysis_id"]
        ),
    )


def video_title(wh: Warehouse, video_id: str) -> str | None:
    """The stored title of a video (None when it has none or is not stored)."""
    with contextlib.closing(wh.connect(read_only=True)) as con:
        row = con.execute(
            "SELECT title FROM videos WHERE video_id = $v", {"v": video_id}
        ).fetchone()
    return None if row is None or row[0] is None else str(row[0])
