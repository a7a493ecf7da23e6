"""Conformance clips as data: what to draw, how to encode it, and where decoders may differ.

Each clip is a list of segments (a flat colour, a grey, a fade, a texture, a small product on
white, a flash) drawn with numpy, piped as raw BGR into the ffmpeg that imageio-ffmpeg ships and
encoded with the clip's codec, pixel format, colour tags and container options. The expected
cuts are not written by hand: the rule is that adref finds the frames PySceneDetect's own
``SceneManager`` finds on the same file, so the oracle is PySceneDetect, run here.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from scenedetect import AdaptiveDetector, ContentDetector, SceneManager, open_video
from scenedetect.common import FrameTimecode
from scenedetect.detector import SceneDetector

from adref.video.decode import VideoReader
from adref.video.detect import detect_shots
from adref.video.params import DetectParams

BGR = tuple[int, int, int]


@dataclass(frozen=True)
class Seg:
    """``frames`` frames of one look; ``to`` makes it a linear fade from ``colour`` to ``to``."""

    frames: int
    colour: BGR = (128, 128, 128)
    to: BGR | None = None
    texture: int | None = None  # seed of a blocky texture laid over the colour
    product: bool = False  # a small dark product moving across the colour
    stripes: int = 0  # 1-pixel vertical stripes this far apart in level, around the colour
    phase: int = 0  # which columns (even 0, odd 1) hold the brighter stripes


def grey(level: int, frames: int) -> Seg:
    return Seg(frames, (level, level, level))


def fade(a: int, b: int, frames: int) -> Seg:
    return Seg(frames, (a, a, a), (b, b, b))


def shot(frames: int, seed: int) -> Seg:
    """A textured shot whose colour and texture follow from ``seed`` (distinct seeds cut)."""
    s = seed % 7
    return Seg(frames, (40 + s * 30, 200 - s * 25, 90 + s * 20), texture=seed)


@dataclass(frozen=True)
class Clip:
    name: str
    segs: tuple[Seg, ...]
    size: tuple[int, int] = (160, 96)
    fps: str = "25"
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    out_args: tuple[str, ...] = ()  # encoder and container options
    in_args: tuple[str, ...] = ()  # input options (a timestamp offset)
    vf: str = ""  # filters after the raw input (colour matrix, range, timestamps)
    ext: str = "mp4"
    grey_input: bool = False  # pipe one grey plane, so greys encode with neutral chroma
    trim_s: float = 0.0  # then cut this much off the start without re-encoding (an edit list)
    differs: str = ""  # why the cut frames may legitimately differ; "" means they must agree
    pixels: str = ""  # why the detectors' frames may differ pixel for pixel; "" means they don't

    @property
    def frame_count(self) -> int:
        return sum(s.frames for s in self.segs)


def frames(clip: Clip) -> Iterator[np.ndarray]:
    w, h = clip.size
    for seg in clip.segs:
        tex = None
        if seg.texture is not None:
            rng = np.random.default_rng(seg.texture)
            blocks = rng.integers(-60, 61, (6, 8, 3))
            tex = np.kron(blocks, np.ones((h // 6 + 1, w // 8 + 1, 1)))[:h, :w]
        for k in range(seg.frames):
            colour = np.array(seg.colour, np.float64)
            if seg.to is not None and seg.frames > 1:
                colour += (np.array(seg.to) - colour) * k / (seg.frames - 1)
            frame = np.empty((h, w, 3), np.float64)
            frame[:] = colour
            if tex is not None:
                frame += tex
            if seg.stripes:
                frame[:, seg.phase :: 2] += seg.stripes / 2
                frame[:, 1 - seg.phase :: 2] -= seg.stripes / 2
            if seg.product:
                x = int((w - w // 6) * k / max(1, seg.frames - 1))
                frame[h // 3 : h // 3 + h // 4, x : x + w // 6] = (40, 60, 150)
            yield np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def make(clip: Clip, folder: Path) -> Path:
    w, h = clip.size
    path = folder / f"{clip.name}.{clip.ext}"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo"]
    cmd += [
        "-pix_fmt",
        "gray" if clip.grey_input else "bgr24",
        "-s",
        f"{w}x{h}",
        "-r",
        clip.fps,
        *clip.in_args,
        "-i",
        "-",
    ]
    if clip.vf:
        cmd += ["-vf", clip.vf]
    cmd += ["-c:v", clip.codec, "-pix_fmt", clip.pix_fmt, *clip.out_args, str(path)]
    raw = b"".join((f[:, :, 1] if clip.grey_input else f).tobytes() for f in frames(clip))
    if not clip.trim_s:
        subprocess.run(cmd, input=raw, check=True)
        return path
    whole = path.with_name(f"{clip.name}-whole.{clip.ext}")
    subprocess.run([*cmd[:-1], str(whole)], input=raw, check=True)
    copy = [cmd[0], "-y", "-loglevel", "error", "-ss", str(clip.trim_s), "-i", str(whole)]
    subprocess.run([*copy, "-c", "copy", str(path)], check=True)
    return path


def made(clip: Clip, folder: Path) -> Path:
    """The clip's file in ``folder``, encoded the first time a test asks for it."""
    path = folder / f"{clip.name}.{clip.ext}"
    return path if path.exists() else make(clip, folder)


class _Positions(SceneDetector):
    """Records what SceneManager hands its detectors: every position (to turn cut times into
    frame indices) and, if asked, every frame as the detectors see it."""

    def __init__(self, keep_frames: bool = False) -> None:
        super().__init__()
        self.seen: list[FrameTimecode] = []
        self.frames: list[np.ndarray] = []
        self._keep = keep_frames

    def process_frame(self, timecode: FrameTimecode, frame_img: np.ndarray) -> list[FrameTimecode]:
        self.seen.append(timecode)
        if self._keep:
            self.frames.append(frame_img.copy())
        return []


def pyscenedetect_view(path: Path) -> list[np.ndarray]:
    """Every frame exactly as SceneManager hands it to a detector (decoded, downscaled)."""
    manager = SceneManager()
    positions = _Positions(keep_frames=True)
    manager.add_detector(positions)
    manager.detect_scenes(open_video(str(path)))
    return positions.frames


def adref_view(path: Path) -> list[np.ndarray]:
    """Every frame exactly as adref hands it to its detectors."""
    with VideoReader(path) as reader:
        return [f.small for f in reader.frames()]


def _detector(kind: str, params: DetectParams) -> ContentDetector:
    if kind == "content":
        return ContentDetector(threshold=params.content_threshold, min_scene_len=params.min_shot_s)
    return AdaptiveDetector(
        adaptive_threshold=params.adaptive_threshold, min_scene_len=params.min_shot_s
    )


def params_for(kind: str, fps: str) -> DetectParams:
    """adref's parameters for a comparison: fades off, PySceneDetect's 15-frame minimum."""
    min_shot = float(15 / Fraction(fps))
    return DetectParams(detector=kind, fade_threshold=0, min_shot_s=min_shot)  # type: ignore[arg-type]


def pyscenedetect_frames(path: Path, kind: str, params: DetectParams) -> list[int]:
    """The frame indices where PySceneDetect's SceneManager starts each new scene."""
    video = open_video(str(path))
    manager = SceneManager()
    positions = _Positions()
    manager.add_detector(positions)
    manager.add_detector(_detector(kind, params))
    manager.detect_scenes(video)
    index = {tc.seconds: i for i, tc in enumerate(positions.seen)}
    return [index[start.seconds] for start, _ in manager.get_scene_list()[1:]]


def adref_frames(path: Path, params: DetectParams) -> list[int]:
    return [s.start_frame for s in detect_shots(path, params).shots[1:]]
