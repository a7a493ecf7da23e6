"""Stretches between raw cuts, each with a few keyframe candidates kept by reference.

Cuts arrive late (a detector looks a few frames ahead; a fade's mid point is known only when the
picture comes back) and some are dropped again when two detectors report one transition. So the
video is held as segments split at every raw cut; a segment keeps at most ``CANDIDATES`` frames,
evenly spread (when full it drops every other one and samples half as often), which bounds memory
however long a shot is, and still offers a frame near its middle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import av
import numpy as np

from adref.video.decode import DecodedFrame

CANDIDATES = 6


@dataclass
class Candidate:
    index: int
    source: av.VideoFrame  # the decoded frame, converted only if it becomes the keyframe
    small: np.ndarray  # detect-size BGR, for the shot's colour statistics
    brightness: float  # 0-1 mean luma


@dataclass
class Segment:
    """A stretch between two raw cuts; several merge into one shot if a cut is dropped."""

    start: int
    kind: str  # "start" | "content" | "fade"
    stride: int
    next_sample: int
    candidates: list[Candidate] = field(default_factory=list)

    def offer(self, frame: DecodedFrame, brightness: float) -> None:
        if frame.index < self.next_sample:
            return
        self.candidates.append(Candidate(frame.index, frame.source, frame.small, brightness))
        if len(self.candidates) > CANDIDATES:
            self.candidates = self.candidates[::2]
            self.stride *= 2
        self.next_sample = self.candidates[-1].index + self.stride

    def split(self, index: int) -> list[Candidate]:
        """Give up the candidates from ``index`` on (they belong to a new segment)."""
        moved = [c for c in self.candidates if c.index >= index]
        self.candidates = [c for c in self.candidates if c.index < index]
        return moved

    def absorb(self, other: Segment) -> None:
        """Take over a following segment whose starting cut was dropped."""
        self.candidates = thin([*self.candidates, *other.candidates])


def thin(cands: list[Candidate]) -> list[Candidate]:
    cands = sorted(cands, key=lambda c: c.index)
    while len(cands) > CANDIDATES:
        cands = cands[::2]
    return cands
