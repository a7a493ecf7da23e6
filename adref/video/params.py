"""What changes the detect stage's output: its parameters, apart from the decoder.

Light on purpose: the flow builds them from the settings before the stage runs, and importing
the stage itself (``adref.video.detect``) loads OpenCV, NumPy, PyAV and PySceneDetect.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from adref.settings import Settings

DETECT_VERSION = "5"  # bump whenever cuts or features would change for the same input


class DetectParams(BaseModel):
    """Everything that changes the detect stage's output (so: part of its cache key)."""

    model_config = ConfigDict(frozen=True)

    detector: Literal["adaptive", "content"] = "adaptive"
    adaptive_threshold: float = 3.0
    content_threshold: float = 27.0
    fade_threshold: float = 12.0  # 0 turns fade detection off
    min_shot_s: float = 0.5
    thumbnail_width: int = 480
    version: str = DETECT_VERSION

    @classmethod
    def from_settings(cls, settings: Settings) -> DetectParams:
        return cls(
            detector=settings.detector,
            adaptive_threshold=settings.adaptive_threshold,
            content_threshold=settings.content_threshold,
            fade_threshold=settings.fade_threshold,
            min_shot_s=settings.min_shot_s,
            thumbnail_width=settings.thumbnail_width,
        )
