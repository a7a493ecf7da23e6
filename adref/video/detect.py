"""The detect stage: shot boundaries and per-shot features from one decoding pass.

PySceneDetect's detectors decide the cuts (AdaptiveDetector, or ContentDetector, for hard cuts;
ThresholdDetector for fades through black), but we feed them ourselves: SceneManager would decode
the video a second time for our features and convert every full frame to BGR. Here each frame is
decoded once (FFmpeg's threads), turned into a ~256-pixel-wide frame straight from its YUV planes
(the size SceneManager's auto-downscale gives; see ``decode``), and handed to the detectors and
to cheap per-frame measures (light, motion, camera pan). Keyframe candidates are kept by
reference, a few per stretch (``segments``); when a shot is settled its keyframe is converted
once and its image features are measured on a worker thread (``shots``).

Both detectors may report one transition (a cut into black, then the fade's mid point); cuts
closer than ``min_shot_s`` are merged, keeping the hard-cut detector's, so fades only add the
boundaries it did not see and the cuts stay PySceneDetect's. A boundary is settled, and its shot
finished, once no later cut can still merge with it.
"""

from __future__ import annotations

import bisect
import logging
import statistics
import threading
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import scenedetect
from pydantic import BaseModel, ConfigDict
from scenedetect import ContentDetector, FrameTimecode, ThresholdDetector
from scenedetect.common import Timecode

from adref.errors import InputError
from adref.models import DetectResult, Shot, StreamInfo
from adref.settings import Settings
from adref.video.decode import DecodedFrame, VideoReader, normalise_rotation
from adref.video.scoring import FastAdaptiveDetector, FastContentDetector
from adref.video.segments import Candidate, Segment
from adref.video.shots import Geometry, ShotPlan, describe, lower_priority, sample_pixels

log = logging.getLogger(__name__)

DETECT_VERSION = "3"  # bump whenever cuts or features would change for the same input

_RING = 4  # most recent frames kept, for cuts reported a few frames late
_PAN_STEP = 4  # frames between camera-pan measurements
_PAN_SIZE = (128, 72)
_PAN_MIN_RESPONSE = 0.2  # phase-correlation peak below which a shift is noise
_MOTION_SCALE = 24.0  # mean abs luma change per 1/25 s that counts as full motion
_ANALYSIS_SHORT_SIDE = 270
_TRUNCATED = 0.8  # decoding less than this share of what the container promises is an error
_PENDING_SHOTS = 4  # shots the worker may lag behind before the main thread helps it


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
    with _single_threaded_opencv(), VideoReader(Path(path)) as reader:
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
    if progress is not None:
        progress(1.0)
    return result


_cv_lock = threading.Lock()
_cv_users = 0
_cv_threads = 0


@contextmanager
def _single_threaded_opencv() -> Iterator[None]:
    """FFmpeg's decoder threads already keep every core busy; OpenCV's own pool would only
    compete with them (and spin) for the tiny images we hand it. Counted, so overlapping
    detect runs in one process restore OpenCV's setting only when the last one ends."""
    global _cv_users, _cv_threads
    with _cv_lock:
        if _cv_users == 0:
            _cv_threads = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _cv_users += 1
    try:
        yield
    finally:
        with _cv_lock:
            _cv_users -= 1
            if _cv_users == 0:
                cv2.setNumThreads(_cv_threads)


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
        self.segments: list[Segment] = [Segment(0, "start", self.base_stride, 0)]
        self.shots: list[Shot] = []
        self.rotation = 0
        self.last_duration = 0
        self._prev_luma: np.ndarray | None = None
        self._pan_prev: np.ndarray | None = None
        self._pan_window = cv2.createHanningWindow(_PAN_SIZE, cv2.CV_32F)
        self._last_tc: FrameTimecode | None = None
        self._last_key: Candidate | None = None
        self._planned = 0
        self.pending: deque[tuple[Future[Shot], ShotPlan]] = deque()
        self.worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="adref-shot", initializer=lower_priority
        )
        self.geometry = Geometry((2, 2), 0, (2, 2), (2, 2), (2, 2))

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
        # sumElems: cv2.mean of a 3-channel image costs ~15x as much for the same numbers.
        pixels = frame.small.shape[0] * frame.small.shape[1]
        b, g, r, _ = (x / pixels for x in cv2.sumElems(frame.small))
        light = (0.114 * b + 0.587 * g + 0.299 * r) / 255.0
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
            mean = (b + g + r) / 3.0
            if i == 0 or mean < self.fade.threshold or self.fade.last_fade["type"] != "in":
                for cut in self.fade.process_frame(tc, np.array([[mean]], np.float32)):
                    self._add_cut(self._index_of(cut), "fade")
        self._settle(t)

    def _measure_motion(self, frame: DecodedFrame, t: float) -> None:
        luma = frame.luma
        if self._prev_luma is None or self._prev_luma.shape != luma.shape:
            self.motion.append(0.0)
        else:
            dt = max(1e-3, t - self.times[-2])
            change = cv2.norm(luma, self._prev_luma, cv2.NORM_L1) / luma.size * frame.luma_gain
            self.motion.append(change / (dt * 25.0))
        self._prev_luma = luma
        if frame.index % _PAN_STEP:
            return
        tiny = cv2.resize(luma, _PAN_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
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
        moved = seg.split(index)
        if not moved:
            recent = [f for f in self.ring if f.index >= index][:1]
            moved = [Candidate(f.index, f.source, f.small, self.light[f.index]) for f in recent]
        new = Segment(index, kind, self.base_stride, 0, moved)
        if k == len(segs) - 1:  # the new segment is the open one: keep sampling into it
            new.next_sample = moved[-1].index + new.stride if moved else index + 1
        segs.insert(k + 1, new)

    def _merge(self) -> None:
        """Drop cuts closer than min_shot_s to the previous one, keeping the hard-cut detector's."""
        segs = self.segments
        j = 1
        while j < len(segs):
            prev, cur = segs[j - 1], segs[j]
            if self._apart(prev.start, cur.start):
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

    def _apart(self, a: int, b: int) -> bool:
        """Whether frame b starts at least min_shot_s after frame a, reckoned as the detectors
        reckon it (exact time-base arithmetic, then one float): two float times subtracted lose
        an exact 15-frame gap at 29.97 fps, and with it a cut PySceneDetect keeps."""
        return float((self.pts[b] - self.pts[a]) * self.tb) >= self.params.min_shot_s

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
        self._drain()
        return DetectResult(
            stream=self._stream_info(n),
            shots=self.shots,
            detector=f"pyscenedetect-{scenedetect.__version__}:{self.params.detector}"
            + ("+threshold" if self.fade is not None else ""),
            params=self.params.model_dump(),
        )

    def _check_complete(self, n: int) -> None:
        """Judge by time where the container states a duration: its frame count also counts
        the frames an edit list hides (a clip trimmed without re-encoding keeps them)."""
        header = self.reader.header
        end = self._end_time(n)
        if header.duration_s:
            short = end < _TRUNCATED * header.duration_s - 1.0
        else:
            short = header.frames > 0 and n < _TRUNCATED * header.frames - 2
        if short:
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

    def _finish_shot(self, seg: Segment, end: int) -> None:
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

        def score(c: Candidate) -> float:
            edge = 0.5 if c.index in (start, end - 1) else 0.0
            return abs(self.times[c.index] - mid) / span + edge

        key = min(bright, key=score)
        self._last_key = key
        motion = self.motion[start + 1 : end]
        pans = [(vx, vy) for i, vx, vy in self.pan if start + _PAN_STEP <= i < end]
        keep = bisect.bisect_left([p[0] for p in self.pan], end)
        del self.pan[:keep]
        plan = ShotPlan(
            shot_index=self._planned,
            start_frame=start,
            end_frame=end,
            start_s=t0,
            end_s=t1,
            keyframe_s=self.times[key.index],
            keyframe=key.source,
            pooled=self._pool(bright),
            motion=min(1.0, (sum(motion) / len(motion)) / _MOTION_SCALE) if motion else 0.0,
            pan_x=float(np.mean([p[0] for p in pans])) if pans else 0.0,
            pan_y=float(np.mean([p[1] for p in pans])) if pans else 0.0,
        )
        self._planned += 1
        while len(self.pending) >= _PENDING_SHOTS:
            # The worker is behind (a busy machine starves a low-priority thread): do its
            # oldest job here if it has not started it, else wait for it.
            future, waiting = self.pending.popleft()
            self.shots.append(
                describe(waiting, self.geometry) if future.cancel() else future.result()
            )
        self.pending.append((self.worker.submit(describe, plan, self.geometry), plan))

    def _drain(self) -> None:
        """Finish the queued shots: the worker from the oldest, this thread from the newest."""
        done: dict[int, Shot] = {}
        for future, plan in reversed(self.pending):
            if future.cancel():
                done[plan.shot_index] = describe(plan, self.geometry)
        for future, plan in self.pending:
            if plan.shot_index not in done:
                done[plan.shot_index] = future.result()
        self.pending.clear()
        self.shots.extend(done[i] for i in sorted(done))

    def _pool(self, frames: list[Candidate]) -> np.ndarray:
        """Pixels sampled from the shot's frames (already in the stream's true colours)."""
        return sample_pixels(np.concatenate([c.small.reshape(-1, 3) for c in frames]), 8192)

    def _geometry(self) -> Geometry:
        """Sizes for the keyframe: one conversion at the larger of thumbnail and analysis size."""
        disp_w, disp_h = self._display_size()
        tw = self.params.thumbnail_width
        th = max(2, round(tw * disp_h / disp_w / 2) * 2)
        scale = _ANALYSIS_SHORT_SIDE / min(disp_w, disp_h)
        aw, ah = max(2, round(disp_w * scale)), max(2, round(disp_h * scale))
        big_w, big_h = (tw, th) if tw * th >= aw * ah else (aw, ah)
        stored = (big_h, big_w) if self.rotation in (90, 270) else (big_w, big_h)
        return Geometry(stored, self.rotation, (big_w, big_h), (tw, th), (aw, ah))
