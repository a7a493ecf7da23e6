"""The detect stage: shot boundaries and per-shot features from one decoding pass.

PySceneDetect's detectors decide the cuts (AdaptiveDetector, or ContentDetector, for hard cuts;
ThresholdDetector for fades through black), but we feed them ourselves: SceneManager would decode
the video a second time for our features and convert every full frame to BGR. Here each frame is
decoded once (FFmpeg's threads), turned into a ~256-pixel-wide frame straight from its YUV planes
(the size SceneManager's auto-downscale gives; see ``decode``), and one loop hands it to small
per-frame consumers, one module each: the cut detectors (``cuts``), light and motion (``light``),
camera pan (``pan``) and keyframe candidates, a few per stretch, kept by reference
(``keyframes``). When a shot is settled its keyframe is converted once and its image features are
measured on a worker thread (``shots``).

Both detectors may report one transition (a cut into black, then the fade's mid point); cuts
closer than ``min_shot_s`` are merged, keeping the hard-cut detector's, so fades only add the
boundaries it did not see and the cuts stay PySceneDetect's. A boundary is settled, and its shot
finished, once no later cut can still merge with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import scenedetect

from adref.errors import InputError
from adref.models import DetectResult, StreamInfo
from adref.video.cuts import CutDetectors
from adref.video.decode import DecodedFrame, StreamHeader, VideoReader, normalise_rotation
from adref.video.keyframes import Candidate, Candidates, Segment, choose
from adref.video.light import LightAndMotion, channel_means
from adref.video.pan import CameraPan
from adref.video.params import DetectParams
from adref.video.shots import ShotPlan, ShotQueue, geometry
from adref.video.timeline import Timeline

log = logging.getLogger(__name__)

_TRUNCATED = 0.8  # decoding less than this share of what the container promises is an error


def detect_shots(
    path: Path, params: DetectParams, progress: Callable[[float], None] | None = None
) -> DetectResult:
    """Split a video into shots and describe each one, decoding the video exactly once."""
    with _single_threaded_opencv(), VideoReader(Path(path)) as reader:
        run = _ShotDetection(reader, params)
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


class _ShotDetection:
    """One decoding pass over a video: the loop's state (cut detectors, light and motion, pan,
    keyframe candidates) and the rule that turns raw cuts into settled shots."""

    def __init__(self, reader: VideoReader, params: DetectParams) -> None:
        self.reader = reader
        self.params = params
        header = reader.header
        rate = header.average_rate
        if not rate and header.duration_s and header.frames:
            rate = Fraction(header.frames / header.duration_s).limit_denominator(1001)
        rate = rate or Fraction(25)
        self.expected_frames = header.frames or (
            round(header.duration_s * float(rate)) if header.duration_s else 0
        )
        self.times = Timeline(header.time_base, rate)
        threshold = (
            params.content_threshold if params.detector == "content" else params.adaptive_threshold
        )
        self.cuts = CutDetectors(
            params.detector, threshold, params.fade_threshold, params.min_shot_s, self.times
        )
        self.light = LightAndMotion()
        self.pan = CameraPan()
        self.candidates = Candidates(stride=max(1, round(float(rate) / 4)))
        self.queue = ShotQueue()
        self.black = params.fade_threshold / 255.0
        self.settle_s = 2 * params.min_shot_s + 0.25
        self.rotation = 0
        self._last_key: Candidate | None = None
        self._planned = 0

    def close(self) -> None:
        self.queue.close()

    def feed(self, frame: DecodedFrame) -> None:
        if frame.index == 0:
            self.rotation = normalise_rotation(frame.source.rotation)
            display = display_size(self.reader.header, self.rotation)
            self.queue.geometry = geometry(display, self.rotation, self.params.thumbnail_width)
        tc = self.times.add(frame.pts, frame.duration)
        means = channel_means(frame.small)
        brightness = self.light.feed(frame, means, self.times)
        self.pan.feed(frame, self.times)
        self.candidates.offer(frame, brightness)
        cuts = self.cuts.feed(tc, frame.small, means)
        for index, kind in cuts:
            self.candidates.cut(index, kind)
        if cuts:
            self._merge()
        self._settle(self.times.times[-1])

    def _merge(self) -> None:
        """Drop raw cuts too close to the one before; only new cuts can make any."""
        self.candidates.merge(lambda a, b: self.times.apart(a, b, self.params.min_shot_s))

    def _settle(self, now: float) -> None:
        """Finish every shot whose end no later cut can still move."""
        segs = self.candidates.segments
        while len(segs) >= 2:
            boundary = segs[1].start
            t_b = self.times.times[boundary]
            if now - t_b < self.settle_s:
                return
            fading = self.cuts.fade_out_since()
            if fading is not None and fading < t_b + self.params.min_shot_s:
                return
            self._finish_shot(segs.pop(0), boundary)

    def finish(self) -> DetectResult:
        n = len(self.times)
        if n == 0:
            raise InputError(
                f"no frame of {self.reader.path.name} could be decoded",
                why=f"{self.reader.decode_errors} broken packets"
                if self.reader.decode_errors
                else "",
                hint="The file is corrupt or uses a codec this build cannot decode",
            )
        check_complete(self.reader, n, self.times.end())
        for index, kind in self.cuts.finish():
            self.candidates.cut(index, kind)
        self._merge()
        segs = self.candidates.segments
        while len(segs) >= 2:
            done = segs.pop(0)
            self._finish_shot(done, segs[0].start)
        self._finish_shot(segs.pop(0), n)
        shots = self.queue.drain()
        return DetectResult(
            stream=stream_info(self.reader.header, self.times, self.rotation),
            shots=shots,
            detector=f"pyscenedetect-{scenedetect.__version__}:{self.params.detector}"
            + ("+threshold" if self.cuts.fade is not None else ""),
            params=self.params.model_dump(),
        )

    def _finish_shot(self, seg: Segment, end: int) -> None:
        """Settle a shot's numbers here; hand its pictures to the worker thread."""
        start = seg.start
        times = self.times
        t0 = times.times[start]
        t1 = times.times[end] if end < len(times) else times.end()
        nearby = seg.candidates + (
            self.candidates.segments[0].candidates if self.candidates.segments else []
        )
        fallback = nearby or ([self._last_key] if self._last_key else [])
        choice = choose(seg, end, times.times, t1, self.light.light, self.black, fallback)
        self._last_key = choice.key
        pan_x, pan_y = self.pan.shot(start, end)
        self.queue.submit(
            ShotPlan(
                shot_index=self._planned,
                start_frame=start,
                end_frame=end,
                start_s=t0,
                end_s=t1,
                keyframe_s=times.times[choice.key.index],
                keyframe=choice.key.source,
                pooled=choice.pooled,
                motion=self.light.shot_motion(start, end),
                pan_x=pan_x,
                pan_y=pan_y,
            )
        )
        self._planned += 1


def check_complete(reader: VideoReader, n: int, end: float) -> None:
    """Judge by time where the container states a duration: its frame count also counts
    the frames an edit list hides (a clip trimmed without re-encoding keeps them)."""
    header = reader.header
    if header.duration_s:
        short = end < _TRUNCATED * header.duration_s - 1.0
    else:
        short = header.frames > 0 and n < _TRUNCATED * header.frames - 2
    if short:
        promised = f"{header.frames} frames" if header.frames else f"{header.duration_s or 0:.1f} s"
        raise InputError(
            f"{reader.path.name} is truncated or damaged",
            why=f"only {n} frames ({end:.1f} s) decoded of the {promised} the file declares",
            hint="Download or copy the video again",
        )


def display_size(header: StreamHeader, rotation: int) -> tuple[float, float]:
    """Width and height as a player shows them: pixel aspect applied, then rotation."""
    w = float(header.coded_width * header.sample_aspect)
    h = float(header.coded_height)
    return (h, w) if rotation in (90, 270) else (w, h)


def stream_info(header: StreamHeader, times: Timeline, rotation: int) -> StreamInfo:
    n = len(times)
    disp_w, disp_h = display_size(header, rotation)
    duration = times.end()
    vfr = False
    if n > 2:
        deltas = np.diff(np.asarray(times.times, np.float64))
        med = float(np.median(deltas))
        if med > 0:
            vfr = float(np.mean(np.abs(deltas - med) > 0.1 * med)) > 0.01
    fps = float(header.average_rate) if header.average_rate else (n / duration if duration else 0.0)
    if vfr and duration > 0:
        fps = n / duration
    return StreamInfo(
        width=round(disp_w),
        height=round(disp_h),
        fps=round(fps, 6),
        duration_s=round(duration, 6),
        frame_count=n,
        codec=header.codec,
        rotation=rotation,
        variable_frame_rate=vfr,
    )
