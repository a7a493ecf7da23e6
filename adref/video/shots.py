"""Describe one settled shot from its keyframe and pooled pixels (the per-shot image work).

This runs on a worker thread beside decoding: OpenCV releases the GIL in everything heavy here
(face cascade, MSER, k-means, JPEG), and the worker asks for a lower priority, so it mostly uses
what the decoder threads leave idle instead of competing with them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import av
import cv2
import numpy as np

from adref.models import Shot
from adref.video import features
from adref.video.decode import to_bgr, upright

log = logging.getLogger(__name__)

PALETTE_SAMPLES = 1024
_ANALYSIS_SHORT_SIDE = 270
_PENDING_SHOTS = 4  # shots the worker may lag behind before the main thread helps it


@dataclass(frozen=True)
class Geometry:
    """Keyframe sizes: one conversion at the larger of thumbnail and analysis size."""

    stored: tuple[int, int]  # conversion size, as the pixels are stored
    rotation: int
    upright: tuple[int, int]
    thumbnail: tuple[int, int]
    analysis: tuple[int, int]


def geometry(display: tuple[float, float], rotation: int, thumbnail_width: int) -> Geometry:
    """Sizes for the keyframe: one conversion at the larger of thumbnail and analysis size."""
    disp_w, disp_h = display
    tw = thumbnail_width
    th = max(2, round(tw * disp_h / disp_w / 2) * 2)
    scale = _ANALYSIS_SHORT_SIDE / min(disp_w, disp_h)
    aw, ah = max(2, round(disp_w * scale)), max(2, round(disp_h * scale))
    big_w, big_h = (tw, th) if tw * th >= aw * ah else (aw, ah)
    stored = (big_h, big_w) if rotation in (90, 270) else (big_w, big_h)
    return Geometry(stored, rotation, (big_w, big_h), (tw, th), (aw, ah))


@dataclass(frozen=True)
class ShotPlan:
    """A settled shot: its numbers, and the pictures its features are measured on."""

    shot_index: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    keyframe_s: float
    keyframe: av.VideoFrame  # held by reference until converted here (a few shots at most)
    pooled: np.ndarray  # BGR pixels sampled from the shot's non-dark candidate frames
    motion: float
    pan_x: float
    pan_y: float


def describe(plan: ShotPlan, geo: Geometry) -> Shot:
    picture = upright(to_bgr(plan.keyframe, *geo.stored), geo.rotation)
    thumb = picture if geo.upright == geo.thumbnail else shrink(picture, *geo.thumbnail)
    analysis = picture if geo.upright == geo.analysis else shrink(picture, *geo.analysis)
    colour = features.colour_stats(plan.pooled)
    look = features.keyframe_stats(analysis)
    return Shot(
        shot_index=plan.shot_index,
        start_s=round(plan.start_s, 6),
        end_s=round(plan.end_s, 6),
        start_frame=plan.start_frame,
        end_frame=plan.end_frame,
        keyframe_s=round(plan.keyframe_s, 6),
        keyframe_jpeg=features.encode_jpeg(thumb),
        palette=features.palette(sample_pixels(plan.pooled, PALETTE_SAMPLES)),
        brightness=colour.brightness,
        saturation=colour.saturation,
        warmth=colour.warmth,
        colourfulness=colour.colourfulness,
        motion=plan.motion,
        camera_pan_x=round(plan.pan_x, 6),
        camera_pan_y=round(plan.pan_y, 6),
        face_count=look.face_count,
        face_area=look.face_area,
        has_text=look.has_text,
        text_area=look.text_area,
        flatness=look.flatness,
        vector=features.visual_vector(plan.pooled, analysis),
    )


class ShotQueue:
    """Describes settled shots on one lower-priority worker thread, in order.

    A busy machine starves a low-priority thread, so when the worker falls ``_PENDING_SHOTS``
    behind, the caller does the oldest job itself (if not started) or waits for it.
    """

    def __init__(self) -> None:
        self.geometry = Geometry((2, 2), 0, (2, 2), (2, 2), (2, 2))
        self.shots: list[Shot] = []
        self._pending: deque[tuple[Future[Shot], ShotPlan]] = deque()
        self._worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="adref-shot", initializer=lower_priority
        )

    def submit(self, plan: ShotPlan) -> None:
        while len(self._pending) >= _PENDING_SHOTS:
            future, waiting = self._pending.popleft()
            self.shots.append(
                describe(waiting, self.geometry) if future.cancel() else future.result()
            )
        self._pending.append((self._worker.submit(describe, plan, self.geometry), plan))

    def drain(self) -> list[Shot]:
        """Every shot, described: the worker from the oldest, this thread from the newest."""
        done: dict[int, Shot] = {}
        for future, plan in reversed(self._pending):
            if future.cancel():
                done[plan.shot_index] = describe(plan, self.geometry)
        for future, plan in self._pending:
            if plan.shot_index not in done:
                done[plan.shot_index] = future.result()
        self._pending.clear()
        self.shots.extend(done[i] for i in sorted(done))
        return self.shots

    def close(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)


def lower_priority() -> None:
    """Thread initializer: nice this thread by 10 (Linux honours per-thread priorities)."""
    try:
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + 10))
    except (AttributeError, OSError):
        log.debug("could not lower the shot worker's priority; it runs at normal priority")


def shrink(image: np.ndarray, w: int, h: int) -> np.ndarray:
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def sample_pixels(pixels: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` rows, evenly spread (deterministic)."""
    if len(pixels) <= limit:
        return pixels
    step = len(pixels) / limit
    return pixels[(np.arange(limit) * step).astype(np.int64)]
