"""Benchmark the detect stage against the decode floor and PySceneDetect, in one run, one file.

Three contenders, each timed in-process (so interpreter and import start-up are not counted;
each runs once on a tiny clip first, so neither are one-time costs such as loading a model),
one after another in rounds, in a different order each round. A contender's ratio is the median
over rounds of its time over that round's decode: on a shared machine the speed of the whole box
drifts by 10-20 % from one half-minute to the next, so times taken minutes apart (say, each
contender's best) compare states of the machine as much as code; times taken back to back do not.

- decode only: every frame decoded and nothing else, the faster of PyAV with FFmpeg's threads
  (as many as adref's reader asks for) and OpenCV's ``grab()`` (which decodes without
  converting): the floor for anything that looks at every frame (a contender can only tie it,
  or appear below it by measurement noise).
- PySceneDetect: ``SceneManager`` + ``AdaptiveDetector()`` with their defaults (OpenCV backend,
  auto-downscale), the way ``scenedetect detect-adaptive`` runs.
- adref: ``detect_shots`` with its defaults, including every per-shot feature and keyframe.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import av
import cv2
from pydantic import BaseModel

from adref.models import DetectResult
from adref.video.decode import VideoReader, decode_threads
from adref.video.detect import detect_shots
from adref.video.params import DetectParams
from adref.video.testclips import CLIPS_VERSION, make_clip

T = TypeVar("T")

SAMPLE_SECONDS = 30.0
SAMPLE_SIZE = (1920, 1080)
SAMPLE_BITRATE = "8M"


class Contender(BaseModel):
    name: str
    seconds: float  # best wall time
    cpu_seconds: float  # CPU time of that best run (all threads)
    ratios: list[float]  # each round's time over that round's decode-only time
    frames: int
    cuts_s: list[float] | None = None  # None for decode-only
    note: str = ""


class CutComparison(BaseModel):
    equal: bool
    only_adref_s: list[float]
    only_baseline_s: list[float]
    tolerance_s: float


class DetectBench(BaseModel):
    video: Path
    width: int
    height: int
    duration_s: float
    fps: float
    repeat: int
    decode: Contender
    baseline: Contender
    adref: Contender
    comparison: CutComparison

    def ratio(self, c: Contender) -> float:
        """The median of the contender's per-round ratios to decode only."""
        return statistics.median(c.ratios)

    def best_ratio(self, c: Contender) -> float:
        """Best time over best decode time: each may come from a different state of the box."""
        return c.seconds / self.decode.seconds if self.decode.seconds > 0 else float("inf")


def sample_video(folder: Path | None = None) -> tuple[Path, bool]:
    """A 30 s 1080p 8 Mb/s synthetic ad, made once and reused; returns (path, made_now)."""
    folder = folder or Path(tempfile.gettempdir()) / "adref-bench"
    w, h = SAMPLE_SIZE
    name = f"sample-ad-v{CLIPS_VERSION}-{w}x{h}-{SAMPLE_SECONDS:g}s-{SAMPLE_BITRATE}.mp4"
    path = folder / name
    if path.exists() and path.stat().st_size > 0:
        return path, False
    make_clip("ad", path, width=w, height=h, duration_s=SAMPLE_SECONDS, bitrate=SAMPLE_BITRATE)
    return path, True


def run_detect_bench(
    video: Path,
    repeat: int = 3,
    params: DetectParams | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DetectBench:
    """Time the contenders ``repeat`` rounds, each round in another order; see the module."""
    params = params or DetectParams()
    repeat = max(1, repeat)
    with VideoReader(video):  # a clear InputError for a file that is not a video, before timing
        pass
    pyav: list[_Timing[int]] = []
    opencv: list[_Timing[int]] = []
    baseline: list[_Timing[tuple[int, list[float]]]] = []
    adref: list[_Timing[DetectResult]] = []
    if on_step is not None:
        on_step("warming up")
    _warm_up(params)
    contenders: list[tuple[str, Callable[[], None]]] = [
        ("decode only (PyAV)", lambda: pyav.append(_timed(lambda: decode_pyav(video)))),
        ("decode only (OpenCV)", lambda: opencv.append(_timed(lambda: decode_opencv(video)))),
        ("PySceneDetect", lambda: baseline.append(_timed(lambda: pyscenedetect_cuts(video)))),
        ("adref detect", lambda: adref.append(_timed(lambda: detect_shots(video, params)))),
    ]
    for r in range(repeat):
        turn = r % len(contenders)
        for name, run in contenders[turn:] + contenders[:turn]:
            if on_step is not None:
                on_step(f"round {r + 1}/{repeat}: {name}")
            run()

    floors = [min(p.seconds, o.seconds) for p, o in zip(pyav, opencv, strict=True)]

    def ratios(runs: list[_Timing[T]]) -> list[float]:
        return [
            round(t.seconds / f, 4) if f > 0 else float("inf")
            for t, f in zip(runs, floors, strict=True)
        ]

    best_pyav, best_cv = _best(pyav), _best(opencv)
    if best_pyav.seconds <= best_cv.seconds:
        floor, how = best_pyav, f"PyAV threaded decode (OpenCV grab: {best_cv.seconds:.2f} s)"
    else:
        floor, how = best_cv, f"OpenCV grab (PyAV threaded decode: {best_pyav.seconds:.2f} s)"
    base = _best(baseline)
    base_frames, base_cuts = base.value
    mine = _best(adref)
    result = mine.value
    stream = result.stream
    adref_cuts = [s.start_s for s in result.shots[1:]]
    tolerance = 0.5 / stream.fps if stream.fps else 0.02
    return DetectBench(
        video=video,
        width=stream.width,
        height=stream.height,
        duration_s=stream.duration_s,
        fps=stream.fps,
        repeat=repeat,
        decode=Contender(
            name="decode only",
            seconds=floor.seconds,
            cpu_seconds=floor.cpu_seconds,
            frames=floor.value,
            ratios=[1.0] * repeat,
            note=how,
        ),
        baseline=Contender(
            name="PySceneDetect detect-adaptive",
            seconds=base.seconds,
            cpu_seconds=base.cpu_seconds,
            frames=base_frames,
            ratios=ratios(baseline),
            cuts_s=base_cuts,
            note="SceneManager + AdaptiveDetector(), defaults",
        ),
        adref=Contender(
            name="adref detect",
            seconds=mine.seconds,
            cpu_seconds=mine.cpu_seconds,
            frames=stream.frame_count,
            ratios=ratios(adref),
            cuts_s=adref_cuts,
            note=f"{result.detector}; {len(result.shots)} shots with features and keyframes",
        ),
        comparison=compare_cuts(adref_cuts, base_cuts, tolerance),
    )


def _warm_up(params: DetectParams) -> None:
    """Run every contender once, untimed, on a tiny clip: what a process pays only once (imports,
    OpenCV's first calls, loading the face cascade: 0.1-0.2 s each) stays out of round one."""
    with tempfile.TemporaryDirectory(prefix="adref-bench-") as tmp:
        clip = Path(tmp) / "warm-up.mp4"
        make_clip("ad", clip, width=320, height=180, duration_s=4.0)
        decode_pyav(clip)
        decode_opencv(clip)
        pyscenedetect_cuts(clip)
        detect_shots(clip, params)


def compare_cuts(adref: list[float], baseline: list[float], tolerance: float) -> CutComparison:
    """Match cut times within half a frame; what is left over on either side differs."""
    left = list(baseline)
    only_adref: list[float] = []
    for t in adref:
        match = next((b for b in left if abs(b - t) <= tolerance), None)
        if match is None:
            only_adref.append(t)
        else:
            left.remove(match)
    return CutComparison(
        equal=not only_adref and not left,
        only_adref_s=only_adref,
        only_baseline_s=left,
        tolerance_s=tolerance,
    )


def decode_pyav(video: Path) -> int:
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = decode_threads()  # as adref's reader decodes
        return sum(1 for _ in container.decode(stream))


def decode_opencv(video: Path) -> int:
    cap = cv2.VideoCapture(str(video))
    try:
        n = 0
        while cap.grab():
            n += 1
        return n
    finally:
        cap.release()


def pyscenedetect_cuts(video: Path) -> tuple[int, list[float]]:
    from scenedetect import AdaptiveDetector, SceneManager, open_video

    stream = open_video(str(video))
    manager = SceneManager()
    manager.add_detector(AdaptiveDetector())
    frames = manager.detect_scenes(stream)
    scenes = manager.get_scene_list()
    return int(frames), [round(start.seconds, 6) for start, _ in scenes[1:]]


@dataclass(frozen=True)
class _Timing(Generic[T]):
    seconds: float
    cpu_seconds: float
    value: T


def _timed(fn: Callable[[], T]) -> _Timing[T]:
    c0 = _cpu()
    t0 = time.perf_counter()
    out = fn()
    return _Timing(time.perf_counter() - t0, _cpu() - c0, out)


def _best(runs: list[_Timing[T]]) -> _Timing[T]:
    return min(runs, key=lambda r: r.seconds)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
