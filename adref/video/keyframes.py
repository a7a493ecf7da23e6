"""Keyframe candidates: the video held as stretches between raw cuts, a few frames kept in each.

Cuts arrive late (a detector looks a few frames ahead; a fade's mid point is known only when the
picture comes back) and some are dropped again when two detectors report one transition. So the
video is held as segments split at every raw cut; a segment keeps at most ``CANDIDATES`` frames,
evenly spread (when full it drops every other one and samples half as often), which bounds memory
however long a shot is, and still offers a frame near its middle. Frames are kept by reference:
only the chosen keyframe is ever converted at full size.
"""

from __future__ import annotations

import bisect
import logging
import statistics
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import av
import numpy as np

from adref.video.decode import DecodedFrame
from adref.video.shots import sample_pixels

log = logging.getLogger(__name__)

CANDIDATES = 6
_RING = 4  # most recent frames kept, for cuts reported a few frames late
_POOL = 8192  # pixels pooled per shot for its colour statistics


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


class Candidates:
    """The open segments, oldest first; the last one is the one frames are still offered to."""

    def __init__(self, stride: int) -> None:
        self.stride = stride
        self.segments: list[Segment] = [Segment(0, "start", stride, 0)]
        self._ring: deque[tuple[DecodedFrame, float]] = deque(maxlen=_RING)

    def offer(self, frame: DecodedFrame, brightness: float) -> None:
        self._ring.append((frame, brightness))
        self.segments[-1].offer(frame, brightness)

    def cut(self, index: int, kind: str) -> None:
        """Split the segment holding frame ``index`` there (a fade marks an existing start)."""
        segs = self.segments
        if index <= segs[0].start:
            log.debug("dropped a %s cut at frame %d reported after its shot settled", kind, index)
            return
        k = bisect.bisect_right([s.start for s in segs], index) - 1
        seg = segs[k]
        if seg.start == index:
            if kind == "fade":
                seg.kind = "fade"
            return
        moved = seg.split(index)
        if not moved:
            recent = [(f, b) for f, b in self._ring if f.index >= index][:1]
            moved = [Candidate(f.index, f.source, f.small, b) for f, b in recent]
        new = Segment(index, kind, self.stride, 0, moved)
        if k == len(segs) - 1:  # the new segment is the open one: keep sampling into it
            new.next_sample = moved[-1].index + new.stride if moved else index + 1
        segs.insert(k + 1, new)

    def merge(self, apart: Callable[[int, int], bool]) -> None:
        """Drop cuts too close to the previous one (``apart`` says), keeping the hard-cut
        detector's: fades only add the boundaries it did not see."""
        segs = self.segments
        j = 1
        while j < len(segs):
            prev, cur = segs[j - 1], segs[j]
            if apart(prev.start, cur.start):
                j += 1
            elif j >= 2 and prev.kind == "fade" and cur.kind == "content":
                segs[j - 2].absorb(prev)
                del segs[j - 1]
                j -= 1
            else:
                prev.absorb(cur)
                if j == len(segs) - 1:
                    prev.stride, prev.next_sample = cur.stride, cur.next_sample
                del segs[j]


@dataclass(frozen=True)
class Choice:
    key: Candidate
    pooled: np.ndarray  # BGR pixels sampled from the shot's non-dark candidates


def choose(
    seg: Segment,
    end: int,
    times: Sequence[float],
    end_s: float,
    light: Sequence[float],
    black: float,
    fallback: list[Candidate],
) -> Choice:
    """The shot's keyframe: a non-dark frame nearest its middle, away from its edges.

    A stretch too short to have been sampled (e.g. inside a fade) takes the nearest of
    ``fallback``, its neighbours' frames, the nearest pictures of it there are.
    """
    start = seg.start
    cands = [c for c in seg.candidates if start <= c.index < end]
    if not cands:
        cands = sorted(fallback, key=lambda c: abs(c.index - start))[:1]
    if not cands:
        raise RuntimeError(f"no keyframe candidate for frames {start}-{end}")
    lights = light[start:end]
    typical = statistics.median(lights) if len(lights) else 0.0
    dark_below = max(black * 1.5, 0.6 * typical)
    bright = [c for c in cands if c.brightness >= dark_below] or cands
    t0 = times[start]
    mid = (t0 + end_s) / 2
    span = max(end_s - t0, 1e-6)

    def score(c: Candidate) -> float:
        edge = 0.5 if c.index in (start, end - 1) else 0.0
        return abs(times[c.index] - mid) / span + edge

    key = min(bright, key=score)
    pooled = sample_pixels(np.concatenate([c.small.reshape(-1, 3) for c in bright]), _POOL)
    return Choice(key, pooled)
