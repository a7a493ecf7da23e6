"""The detect stage: shot boundaries and per-shot features from one decoding pass.

PySceneDetect's detectors decide the cuts (AdaptiveDetector, or ContentDetector, for hard cuts;
ThresholdDetector for fades through black), but we feed them ourselves: SceneManager would decode
the video a second time for our features and convert every full frame to BGR. Here each frame is
decoded once (threaded), turned into a ~256-pixel-wide frame straight from its YUV planes (the
size SceneManager's auto-downscale gives), and handed to the detectors and to cheap per-frame
measures (light, motion, camera pan). Keyframe candidates are kept by reference, a few per shot,
and converted once when the shot is settled, so memory stays bounded for long or busy videos.

The two detectors can both report one transition (a cut into black, then the fade's mid point);
cuts closer than ``min_shot_s`` are merged, keeping the hard-cut detector's, so fades only add
boundaries the hard-cut detector did not see (and the cuts stay PySceneDetect's). A boundary is
settled, and its shot finished, once no later cut can still merge with it.
"""

from __future__ import annotations

import bisect
import logging
import os
import statistics
import threading
from array import array
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np
import scenedetect
from pydantic import BaseModel, ConfigDict
from scenedetect import ContentDetector, FrameTimecode, ThresholdDetector
from scenedetect.common import Timecode

from adref.errors import InputError
from adref.models import DetectResult, Shot, StreamInfo
from adref.settings import Settings
from adref.video import features
from adref.video.decode import DecodedFrame, VideoReader, normalise_rotation, to_bgr, upright
from adref.video.scoring import FastAdaptiveDetector, FastContentDetector

log = logging.getLogger(__name__)

DETECT_VERSION = "1"  # bump whenever cuts or features would change for the same input

_CANDIDATES = 6  # keyframe candidates kept per open shot
_RING = 4  # most recent frames kept, for cuts reported a few frames late
_PAN_STEP = 4  # frames between camera-pan measurements
_PAN_SIZE = (128, 72)
_PAN_MIN_RESPONSE = 0.2  # phase-correlation peak below which a shift is noise
_MOTION_SCALE = 24.0  # mean abs luma change per 1/25 s that counts as full motion
_ANALYSIS_SHORT_SIDE = 270
_TRUNCATED = 0.8  # decoding less than this share of what the container promises is an error
_PENDING_SHOTS = 32  # shots waiting for the worker before the decoder waits for it


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


def detect_shots(
    path: Path, params: DetectParams, progress: Callable[[float], None] | None = None
) -> DetectResult:
    """Split a video into shots and describe each one, decoding the video exactly once."""
    # FFmpeg's decoder threads already keep every core busy; OpenCV's own pool would only
    # compete with them (and spin) for the tiny images we hand it.
    cv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with VideoReader(Path(path)) as reader:
            run = _Run(reader, params)
            try:
                expected = run.expected_frames
                every = max(1, expected // 100) if expected else 50
                for frame in reader.frames():
                    run.feed(frame)
                    if progress is not None and frame.index % every == 0 and expected:
                        progress(min(1.0, frame.index / expected))
                result = run.finish()
            finally:
                run.close()
    finally:
        cv2.setNumThreads(cv_threads)
    if progress is not None:
        progress(1.0)
    return result


@dataclass
class _Candidate:
    index: int
    source: av.VideoFrame
    small: np.ndarray
    brightness: float


@dataclass
class _Segment:
    """A stretch between two raw cuts; several merge into one shot if a cut is dropped."""

    start: int
    kind: str  # "start" | "content" | "fade"
    stride: int
    next_sample: int
    candidates: list[_Candidate] = field(default_factory=list)

    def offer(self, frame: DecodedFrame, brightness: float) -> None:
        if frame.index < self.next_sample:
            return
        self.candidates.append(_Candidate(frame.index, frame.source, frame.small, brightness))
        if len(self.candidates) > _CANDIDATES:
            self.candidates = self.candidates[::2]
            self.stride *= 2
        self.next_sample = self.candidates[-1].index + self.stride


class _Run:
    def __init__(self, reader: VideoReader, params: DetectParams) -> None:
        self.reader = reader
        self.params = params
        header = reader.header
        self.tb = header.time_base
        self.tb_s = float(header.time_base)
        rate = header.average_rate
        if not rate and header.duration_s and header.frames:
            rate = Fraction(header.frames / header.duration_s).limit_denominator(1001)
        self.rate = rate or Fraction(25)
        self.expected_frames = header.frames or (
            round(header.duration_s * float(self.rate)) if header.duration_s else 0
        )
        self._fps = FrameTimecode(0, fps=self.rate)
        self.content: ContentDetector
        if params.detector == "content":
            self.content = FastContentDetector(
                threshold=params.content_threshold, min_scene_len=params.min_shot_s
            )
        else:
            self.content = FastAdaptiveDetector(
                adaptive_threshold=params.adaptive_threshold, min_scene_len=params.min_shot_s
            )
        self.fade: ThresholdDetector | None = None
        if params.fade_threshold > 0:
            self.fade = ThresholdDetector(
                threshold=params.fade_threshold, min_scene_len=params.min_shot_s, fade_bias=0.0
            )
        self.black = params.fade_threshold / 255.0
        self.settle_s = 2 * params.min_shot_s + 0.25
        self.base_stride = max(1, round(float(self.rate) / 4))

        self.pts: list[int] = []
        self.times: list[float] = []
        self.light = array("f")
        self.motion = array("f")
        self.pan: list[tuple[int, float, float]] = []
        self.ring: deque[DecodedFrame] = deque(maxlen=_RING)
        self.segments: list[_Segment] = [_Segment(0, "start", self.base_stride, 0)]
        self.shots: list[Shot] = []
        self.rotation = 0
        self.last_duration = 0
        self._prev_gray: np.ndarray | None = None
        self._pan_prev: np.ndarray | None = None
        self._pan_window = cv2.createHanningWindow(_PAN_SIZE, cv2.CV_32F)
        self._last_tc: FrameTimecode | None = None
        self._last_key: _Candidate | None = None
        self._planned = 0
        self.pending: deque[Future[Shot]] = deque()
        self.worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="adref-shot", initializer=_lower_priority
        )
        self.geometry = _Geometry((2, 2), 0, (2, 2), (2, 2), (2, 2))

    def close(self) -> None:
        self.worker.shutdown(wait=True, cancel_futures=True)

    # -- per frame -------------------------------------------------------------------------

    def feed(self, frame: DecodedFrame) -> None:
        i = frame.index
        if i == 0:
            self.rotation = normalise_rotation(frame.source.rotation)
            self.geometry = self._geometry()
        t = frame.pts * self.tb_s
        self.pts.append(frame.pts)
        self.times.append(t)
        self.last_duration = frame.duration
        light = cv2.mean(frame.gray)[0] / 255.0
        self.light.append(light)
        self._measure_motion(frame, t)
        self.ring.append(frame)
        self.segments[-1].offer(frame, light)

        tc = FrameTimecode(Timecode(pts=frame.pts, time_base=self.tb), fps=self._fps)
        self._last_tc = tc
        for cut in self.content.process_frame(tc, frame.small):
            self._add_cut(self._index_of(cut), "content")
        if self.fade is not None:
            # ThresholdDetector reads only the frame's mean, and a bright frame while it is not
            # in a fade changes nothing in it: it sees the mean, and only when it matters.
            mean = sum(cv2.mean(frame.small)[:3]) / 3.0
            if i == 0 or mean < self.fade.threshold or self.fade.last_fade["type"] != "in":
                for cut in self.fade.process_frame(tc, np.array([[mean]], np.float32)):
                    self._add_cut(self._index_of(cut), "fade")
        self._settle(t)

    def _measure_motion(self, frame: DecodedFrame, t: float) -> None:
        gray = frame.gray
        if self._prev_gray is None or self._prev_gray.shape != gray.shape:
            self.motion.append(0.0)
        else:
            dt = max(1e-3, t - self.times[-2])
            change = cv2.norm(gray, self._prev_gray, cv2.NORM_L1) / gray.size
            self.motion.append(change / (dt * 25.0))
        self._prev_gray = gray
        if frame.index % _PAN_STEP:
            return
        tiny = cv2.resize(gray, _PAN_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
        if self._pan_prev is not None and len(self.times) > _PAN_STEP:
            (dx, dy), response = cv2.phaseCorrelate(self._pan_prev, tiny, self._pan_window)
            if response > _PAN_MIN_RESPONSE:
                dt = max(1e-3, t - self.times[-1 - _PAN_STEP])
                # Content moving left means the camera turns right: report the camera's way.
                self.pan.append((frame.index, -dx / _PAN_SIZE[0] / dt, -dy / _PAN_SIZE[1] / dt))
        self._pan_prev = tiny

    def _index_of(self, tc: FrameTimecode) -> int:
        if tc.time_base == self.tb:
            i = bisect.bisect_left(self.pts, tc.pts)
        else:  # frame-number timecodes (ThresholdDetector's): nearest frame in time
            target = tc.seconds
            i = bisect.bisect_left(self.times, target)
            if i > 0 and (
                i == len(self.times) or target - self.times[i - 1] < self.times[i] - target
            ):
                i -= 1
        return min(max(i, 0), len(self.pts) - 1)

    # -- cuts ------------------------------------------------------------------------------

    def _add_cut(self, index: int, kind: str) -> None:
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
        moved = [c for c in seg.candidates if c.index >= index]
        seg.candidates = [c for c in seg.candidates if c.index < index]
        if not moved:
            recent = [f for f in self.ring if f.index >= index][:1]
            moved = [_Candidate(f.index, f.source, f.small, self.light[f.index]) for f in recent]
        new = _Segment(index, kind, self.base_stride, 0, moved)
        if k == len(segs) - 1:  # the new segment is the open one: keep sampling into it
            new.next_sample = moved[-1].index + new.stride if moved else index + 1
        segs.insert(k + 1, new)

    def _merge(self) -> None:
        """Drop cuts closer than min_shot_s to the previous one, keeping the hard-cut detector's."""
        segs = self.segments
        j = 1
        while j < len(segs):
            prev, cur = segs[j - 1], segs[j]
            if self.times[cur.start] - self.times[prev.start] >= self.params.min_shot_s:
                j += 1
            elif j >= 2 and prev.kind == "fade" and cur.kind == "content":
                segs[j - 2].candidates = _thin([*segs[j - 2].candidates, *prev.candidates])
                del segs[j - 1]
                j -= 1
            else:
                prev.candidates = _thin([*prev.candidates, *cur.candidates])
                if j == len(segs) - 1:
                    prev.stride, prev.next_sample = cur.stride, cur.next_sample
                del segs[j]

    def _settle(self, now: float) -> None:
        self._merge()
        while len(self.segments) >= 2:
            boundary = self.segments[1].start
            t_b = self.times[boundary]
            if now - t_b < self.settle_s:
                return
            if self.fade is not None and self.fade.last_fade["type"] == "out":
                out = self.fade.last_fade["frame"]
                if out is not None and out.seconds < t_b + self.params.min_shot_s:
                    return
            done = self.segments.pop(0)
            self._finish_shot(done, boundary)

    # -- end -------------------------------------------------------------------------------

    def finish(self) -> DetectResult:
        n = len(self.pts)
        if n == 0:
            raise InputError(
                f"no frame of {self.reader.path.name} could be decoded",
                why=f"{self.reader.decode_errors} broken packets"
                if self.reader.decode_errors
                else "",
                hint="The file is corrupt or uses a codec this build cannot decode",
            )
        self._check_complete(n)
        if self._last_tc is not None:
            for cut in self.content.post_process(self._last_tc):
                self._add_cut(self._index_of(cut), "content")
            if self.fade is not None:
                for cut in self.fade.post_process(self._last_tc):
                    self._add_cut(self._index_of(cut), "fade")
        self._merge()
        while len(self.segments) >= 2:
            done = self.segments.pop(0)
            self._finish_shot(done, self.segments[0].start)
        self._finish_shot(self.segments.pop(0), n)
        while self.pending:
            self.shots.append(self.pending.popleft().result())
        return DetectResult(
            stream=self._stream_info(n),
            shots=self.shots,
            detector=f"pyscenedetect-{scenedetect.__version__}:{self.params.detector}"
            + ("+threshold" if self.fade is not None else ""),
            params=self.params.model_dump(),
        )

    def _check_complete(self, n: int) -> None:
        header = self.reader.header
        end = self._end_time(n)
        short_frames = header.frames > 0 and n < _TRUNCATED * header.frames - 2
        short_time = bool(header.duration_s) and end < _TRUNCATED * (header.duration_s or 0) - 1.0
        if short_frames or short_time:
            promised = (
                f"{header.frames} frames" if header.frames else f"{header.duration_s or 0:.1f} s"
            )
            raise InputError(
                f"{self.reader.path.name} is truncated or damaged",
                why=f"only {n} frames ({end:.1f} s) decoded of the {promised} the file declares",
                hint="Download or copy the video again",
            )

    def _end_time(self, n: int) -> float:
        last = self.times[n - 1]
        if self.last_duration > 0:
            return last + self.last_duration * self.tb_s
        if n > 1:
            deltas = [self.times[i] - self.times[i - 1] for i in range(max(1, n - 8), n)]
            return last + statistics.median(deltas)
        return last + 1.0 / float(self.rate)

    def _display_size(self) -> tuple[float, float]:
        """Width and height as a player shows them: pixel aspect applied, then rotation."""
        header = self.reader.header
        w = float(header.coded_width * header.sample_aspect)
        h = float(header.coded_height)
        return (h, w) if self.rotation in (90, 270) else (w, h)

    def _stream_info(self, n: int) -> StreamInfo:
        header = self.reader.header
        disp_w, disp_h = self._display_size()
        w, h = round(disp_w), round(disp_h)
        duration = self._end_time(n)
        vfr = False
        if n > 2:
            deltas = np.diff(np.asarray(self.times, np.float64))
            med = float(np.median(deltas))
            if med > 0:
                vfr = float(np.mean(np.abs(deltas - med) > 0.1 * med)) > 0.01
        fps = (
            float(header.average_rate)
            if header.average_rate
            else (n / duration if duration else 0.0)
        )
        if vfr and duration > 0:
            fps = n / duration
        return StreamInfo(
            width=w,
            height=h,
            fps=round(fps, 6),
            duration_s=round(duration, 6),
            frame_count=n,
            codec=header.codec,
            rotation=self.rotation,
            variable_frame_rate=vfr,
        )

    # -- one shot --------------------------------------------------------------------------

    def _finish_shot(self, seg: _Segment, end: int) -> None:
        """Settle a shot's numbers here; hand its pictures to the worker thread."""
        start = seg.start
        n = len(self.pts)
        t0 = self.times[start]
        t1 = self.times[end] if end < n else self._end_time(n)
        cands = [c for c in seg.candidates if start <= c.index < end]
        if not cands:
            # A stretch too short to have been sampled (e.g. inside a fade): its neighbours'
            # frames are the nearest pictures of it there are.
            nearby = seg.candidates + (self.segments[0].candidates if self.segments else [])
            nearby = nearby or ([self._last_key] if self._last_key else [])
            cands = sorted(nearby, key=lambda c: abs(c.index - start))[:1]
        if not cands:
            raise RuntimeError(f"no keyframe candidate for frames {start}-{end}")
        lights = self.light[start:end]
        typical = statistics.median(lights) if len(lights) else 0.0
        dark_below = max(self.black * 1.5, 0.6 * typical)
        bright = [c for c in cands if c.brightness >= dark_below] or cands
        mid = (t0 + t1) / 2
        span = max(t1 - t0, 1e-6)

        def score(c: _Candidate) -> float:
            edge = 0.5 if c.index in (start, end - 1) else 0.0
            return abs(self.times[c.index] - mid) / span + edge

        key = min(bright, key=score)
        self._last_key = key
        motion = self.motion[start + 1 : end]
        pans = [(vx, vy) for i, vx, vy in self.pan if start + _PAN_STEP <= i < end]
        keep = bisect.bisect_left([p[0] for p in self.pan], end)
        del self.pan[:keep]
        plan = _ShotPlan(
            shot_index=self._planned,
            start_frame=start,
            end_frame=end,
            start_s=t0,
            end_s=t1,
            keyframe_s=self.times[key.index],
            picture=upright(to_bgr(key.source, *self.geometry.stored), self.geometry.rotation),
            pooled=_sample(np.concatenate([c.small.reshape(-1, 3) for c in bright]), 8192),
            motion=min(1.0, (sum(motion) / len(motion)) / _MOTION_SCALE) if motion else 0.0,
            pan_x=float(np.mean([p[0] for p in pans])) if pans else 0.0,
            pan_y=float(np.mean([p[1] for p in pans])) if pans else 0.0,
        )
        self._planned += 1
        while len(self.pending) >= _PENDING_SHOTS:
            self.shots.append(self.pending.popleft().result())
        self.pending.append(self.worker.submit(_describe, plan, self.geometry))

    def _geometry(self) -> _Geometry:
        """Sizes for the keyframe: one conversion at the larger of thumbnail and analysis size."""
        disp_w, disp_h = self._display_size()
        tw = self.params.thumbnail_width
        th = max(2, round(tw * disp_h / disp_w / 2) * 2)
        scale = _ANALYSIS_SHORT_SIDE / min(disp_w, disp_h)
        aw, ah = max(2, round(disp_w * scale)), max(2, round(disp_h * scale))
        big_w, big_h = (tw, th) if tw * th >= aw * ah else (aw, ah)
        stored = (big_h, big_w) if self.rotation in (90, 270) else (big_w, big_h)
        return _Geometry(stored, self.rotation, (big_w, big_h), (tw, th), (aw, ah))


@dataclass(frozen=True)
class _Geometry:
    stored: tuple[int, int]  # conversion size, as the pixels are stored
    rotation: int
    upright: tuple[int, int]
    thumbnail: tuple[int, int]
    analysis: tuple[int, int]


@dataclass(frozen=True)
class _ShotPlan:
    """A settled shot: its numbers, and the pictures its features are measured on."""

    shot_index: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    keyframe_s: float
    picture: np.ndarray  # the keyframe, upright, at the larger of thumbnail and analysis size
    pooled: np.ndarray  # BGR pixels sampled from the shot's non-dark candidate frames
    motion: float
    pan_x: float
    pan_y: float


def _describe(plan: _ShotPlan, geo: _Geometry) -> Shot:
    """The image work of one shot; runs on the worker thread (OpenCV releases the GIL)."""
    picture = plan.picture
    thumb = picture if geo.upright == geo.thumbnail else _shrink(picture, *geo.thumbnail)
    analysis = picture if geo.upright == geo.analysis else _shrink(picture, *geo.analysis)
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
        palette=features.palette(_sample(plan.pooled, 1024)),
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


def _lower_priority() -> None:
    """Let the shot worker run on what the decoder threads leave idle (Linux: per-thread nice)."""
    try:
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + 10))
    except (AttributeError, OSError):
        log.debug("could not lower the shot worker's priority; it runs at normal priority")


def _thin(cands: list[_Candidate]) -> list[_Candidate]:
    cands = sorted(cands, key=lambda c: c.index)
    while len(cands) > _CANDIDATES:
        cands = cands[::2]
    return cands


def _shrink(image: np.ndarray, w: int, h: int) -> np.ndarray:
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def _sample(pixels: np.ndarray, limit: int) -> np.ndarray:
    if len(pixels) <= limit:
        return pixels
    step = len(pixels) / limit
    return pixels[(np.arange(limit) * step).astype(np.int64)]
