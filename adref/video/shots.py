"""Describe one settled shot from its keyframe and pooled pixels (the per-shot image work).

This runs on a worker thread beside decoding: OpenCV releases the GIL in everything heavy here
(face cascade, MSER, k-means, JPEG), and the worker asks for a lower priority, so it mostly uses
what the decoder threads leave idle instead of competing with them.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import av
import cv2
import numpy as np

from adref.models import Shot
from adref.video import features
from adref.video.decode import to_bgr, upright

log = logging.getLogger(__name__)

PALETTE_SAMPLES = 1024


@dataclass(frozen=True)
class Geometry:
    """Keyframe sizes: one conversion at the larger of thumbnail and analysis size."""

    stored: tuple[int, int]  # conversion size, as the pixels are stored
    rotation: int
    upright: tuple[int, int]
    thumbnail: tuple[int, int]
    analysis: tuple[int, int]


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
