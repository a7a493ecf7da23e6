"""Synthetic videos with known shot boundaries, for tests, benchmarks and the demo.

Real footage cannot ship with the project and its cuts are only known by someone's opinion; a
drawn clip knows exactly which frame starts each shot, where a fade goes through black, which
shots carry text and which look warm or cool. Frames are drawn with numpy/OpenCV and piped as raw
video into the ffmpeg that imageio-ffmpeg ships, encoded as browser-playable H.264 (yuv420p,
faststart). Everything is seeded, so the same call makes the same file.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, get_args

import cv2
import imageio_ffmpeg
import numpy as np
from pydantic import BaseModel

from adref.errors import InputError

CLIPS_VERSION = "2"  # bump when drawing or encoding changes, so cached samples are remade
ClipKind = Literal["ad", "vertical", "vfr", "single", "rapid"]
CLIP_KINDS: tuple[str, ...] = get_args(ClipKind)

BLACK_LEVEL = 12.0  # mean 0-255 below which a frame counts as black (PySceneDetect's default)
_FADE_FRAMES = 10
_BLACK_FRAMES = 2

Look = Literal["sunset", "ocean", "city", "product", "forest", "presenter", "endcard"]
WARM_LOOKS: frozenset[str] = frozenset({"sunset", "product"})
COOL_LOOKS: frozenset[str] = frozenset({"ocean", "city"})


class FadeTruth(BaseModel):
    """A fade through black: the black run and the boundary placed in its middle."""

    fade_out_start_frame: int  # first frame that starts darkening
    black_start_frame: int  # first frame below BLACK_LEVEL
    black_end_frame: int  # first frame at or above BLACK_LEVEL again (exclusive)
    fade_in_end_frame: int  # first frame at full brightness again (exclusive end of the fade)
    cut_frame: int
    cut_s: float


class ClipTruth(BaseModel):
    """What a synthetic clip is known to contain; times are presentation times in seconds."""

    kind: str
    path: Path
    width: int  # as displayed
    height: int
    fps: float  # nominal rate (the average for a variable-rate clip)
    duration_s: float  # end of the last frame
    frame_count: int
    frame_times_s: list[float]  # pts of every frame
    cut_frames: list[int]  # index of the first frame of each new shot (shot 0 not included)
    cut_times_s: list[float]
    fades: list[FadeTruth]
    looks: list[str]  # one per shot
    texts: list[str | None]  # one per shot: the overlay drawn, if any
    pans: list[float]  # one per shot: camera pan in frame widths per second (+ right)
    rotation: int = 0  # display rotation stored in the file (degrees)

    @property
    def shot_count(self) -> int:
        return len(self.cut_frames) + 1

    @property
    def text_shots(self) -> list[int]:
        return [i for i, t in enumerate(self.texts) if t]

    @property
    def warm_shots(self) -> list[int]:
        return [i for i, look in enumerate(self.looks) if look in WARM_LOOKS]

    @property
    def cool_shots(self) -> list[int]:
        return [i for i, look in enumerate(self.looks) if look in COOL_LOOKS]

    @property
    def shot_bounds(self) -> list[tuple[int, int]]:
        """(start_frame, end_frame exclusive) of every shot."""
        starts = [0, *self.cut_frames]
        ends = [*self.cut_frames, self.frame_count]
        return list(zip(starts, ends, strict=True))


@dataclass(frozen=True)
class _ShotSpec:
    look: Look
    frames: int
    variant: int = 0
    text: str | None = None
    pan: float = 0.0  # camera pan, frame widths per second (+ right: content moves left)
    fade_out: bool = False  # darken the last frames and append black frames
    fade_in: bool = False


def make_clip(
    kind: str,
    path: Path,
    *,
    width: int | None = None,
    height: int | None = None,
    fps: float = 25.0,
    duration_s: float | None = None,
    rotation: int = 0,
    crf: int = 20,
    bitrate: str | None = None,
    preset: str = "veryfast",
) -> ClipTruth:
    """Draw and encode a clip of ``kind``; return what it is known to contain.

    Kinds: ``ad`` (about 12 s by default, or ``duration_s``: cuts, a fade through black, text
    overlays, a presenter's face, warm and cool shots, an A-B-A repeat, an end card), ``vertical``
    (the ad at 9:16), ``vfr`` (a fixed 6 s schedule at 25, 12.5 and 50 fps; ``fps`` only sets the
    drawing speed), ``single`` (one panning shot) and ``rapid`` (shots of 0.56-0.8 s).

    ``rotation`` (0, 90, 180, 270) stores the pixels turned and a display-rotation tag that turns
    them back, the way phones record portrait video, so readers must honour the tag.
    ``bitrate`` (e.g. ``"8M"``) replaces constant quality with an average bitrate, so a benchmark
    sample costs as much to decode as real footage of that rate.
    """
    if kind not in CLIP_KINDS:
        raise InputError(f"unknown clip kind {kind!r}", hint=f"Use one of {', '.join(CLIP_KINDS)}")
    if rotation not in (0, 90, 180, 270):
        raise InputError(f"rotation {rotation} is not a multiple of 90 degrees")
    if kind == "vertical":
        width, height = width or 360, height or 640
    else:
        width, height = width or 640, height or 360
    if width % 2 or height % 2 or width < 64 or height < 64:
        raise InputError(f"clip size {width}x{height} must be even and at least 64x64")

    specs = _plan(kind, fps, duration_s)
    times = _frame_times(kind, specs, fps)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    renderer = _Renderer(width, height, fps)
    means: list[float] = []

    def frames() -> Iterator[np.ndarray]:
        for frame in renderer.frames(specs):
            means.append(float(frame[:: max(1, height // 90), :: max(1, width // 160)].mean()))
            yield _rotate_for_storage(frame, rotation)

    stored_w, stored_h = (height, width) if rotation in (90, 270) else (width, height)
    vfr = kind == "vfr"
    _encode(frames(), path, stored_w, stored_h, fps, vfr, rotation, crf, bitrate, preset)
    return _truth(kind, path, width, height, fps, specs, times, means, rotation)


def _plan(kind: str, fps: float, duration_s: float | None) -> list[_ShotSpec]:
    def n(seconds: float) -> int:
        return max(1, round(seconds * fps))

    if kind == "single":
        return [_ShotSpec("ocean", n(duration_s or 3.0), pan=0.08)]
    if kind == "rapid":
        total = duration_s or 6.0
        looks: list[Look] = ["sunset", "ocean", "product", "forest", "city", "endcard"]
        out: list[_ShotSpec] = []
        used, i = 0, 0
        while used < n(total):
            length = n((0.56, 0.64, 0.72, 0.6, 0.8)[i % 5])
            length = min(length, n(total) - used)
            if length < n(0.56) and out:
                last = out.pop()
                length += last.frames
                used -= last.frames
                i -= 1
            out.append(_ShotSpec(looks[i % len(looks)], length, variant=i))
            used += length
            i += 1
        return out
    if kind == "vfr":
        # 25 fps for the first 60 frames, 12.5 fps for the next 20, 50 fps after (see _frame_times).
        return [
            _ShotSpec("sunset", 30, text="NEW"),
            _ShotSpec("ocean", 30, pan=0.1),
            _ShotSpec("product", 12),
            _ShotSpec("city", 20, pan=0.15),
            _ShotSpec("forest", 50),
            _ShotSpec("endcard", 40, text="Shop now"),
        ]
    base: list[_ShotSpec] = [
        _ShotSpec("sunset", n(2.0), variant=0, text="NEW"),
        _ShotSpec("ocean", n(1.6), pan=0.06),
        _ShotSpec("sunset", n(1.4), variant=1),
        _ShotSpec("presenter", n(1.6)),
        _ShotSpec("city", n(1.6), pan=0.12, fade_out=True),
        _ShotSpec("product", n(2.0), text="SALE 30%", fade_in=True),
        _ShotSpec("endcard", n(1.4), text="Shop now"),
    ]
    if duration_s is not None and duration_s < 4.0:
        raise InputError(f"an ad clip needs at least 4 s, not {duration_s:g} s")
    base_total = sum(s.frames for s in base) + _BLACK_FRAMES
    target = n(duration_s) if duration_s else base_total
    cycle: list[tuple[Look, str | None, float]] = [
        ("forest", None, -0.08),
        ("ocean", "SUMMER", 0.0),
        ("product", None, 0.0),
        ("city", None, 0.1),
        ("sunset", None, 0.0),
        ("forest", "NEW", 0.05),
        ("product", "ONLY TODAY", 0.0),
        ("ocean", None, -0.1),
    ]
    extras: list[_ShotSpec] = []
    total = base_total
    while True:
        i = len(extras)
        look, text, pan = cycle[i % len(cycle)]
        length = n((1.5, 1.8, 2.2, 1.6, 2.0)[i % 5])
        if total + length > target:
            break
        extras.append(_ShotSpec(look, length, variant=i + 2, text=text, pan=pan))
        total += length
    plan = [*base[:2], *extras, *base[2:]]
    # Neighbours must differ in look: a cut between two shots of one look is not a cut.
    for j in range(1, len(plan)):
        if plan[j].look == plan[j - 1].look:
            plan[j] = replace(plan[j], look="forest" if plan[j].look != "forest" else "ocean")
    if total > target:
        ratio = (target - _BLACK_FRAMES) / (total - _BLACK_FRAMES)
        plan = [replace(s, frames=max(n(0.6), round(s.frames * ratio))) for s in plan]
        total = sum(s.frames for s in plan) + _BLACK_FRAMES
    plan[-1] = replace(plan[-1], frames=max(n(0.6), plan[-1].frames + target - total))
    return plan


def _frame_count(specs: list[_ShotSpec]) -> int:
    return sum(s.frames + (_BLACK_FRAMES if s.fade_out else 0) for s in specs)


def _frame_times(kind: str, specs: list[_ShotSpec], fps: float) -> list[float]:
    total = _frame_count(specs)
    if kind != "vfr":
        return [i / fps for i in range(total)]
    return [_vfr_time(i) for i in range(total)]


def _vfr_time(i: int) -> float:
    """25 fps, then 12.5 fps, then 50 fps: times are exact in milliseconds."""
    if i < 60:
        return i * 0.04
    if i < 80:
        return 2.4 + (i - 60) * 0.08
    return 4.0 + (i - 80) * 0.02


def _vfr_setpts() -> str:
    return "round(if(lt(N,60),N*0.04,if(lt(N,80),2.4+(N-60)*0.08,4.0+(N-80)*0.02))/TB)"


def _rotate_for_storage(frame: np.ndarray, rotation: int) -> np.ndarray:
    # The display matrix rotates counter-clockwise by `rotation` on playback, so store the
    # picture turned clockwise by the same amount.
    if rotation == 90:
        return cv2.rotate(frame, cv2.ROTATE_90_CLOCKWISE)
    if rotation == 180:
        return cv2.rotate(frame, cv2.ROTATE_180)
    if rotation == 270:
        return cv2.rotate(frame, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return frame


def _encode(
    frames: Iterator[np.ndarray],
    path: Path,
    width: int,
    height: int,
    fps: float,
    vfr: bool,
    rotation: int,
    crf: int,
    bitrate: str | None,
    preset: str,
) -> None:
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".mp4", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    cmd += [
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{width}x{height}",
        "-framerate",
        f"{fps}",
    ]
    if rotation:
        cmd += ["-display_rotation", str(rotation), "-noautorotate"]
    cmd += ["-i", "-"]
    # BT.709, tagged, as web video is: players and decoders then agree on the colours.
    filters = ["scale=out_color_matrix=bt709:out_range=tv"]
    if vfr:
        filters += ["settb=1/1000", f"setpts='{_vfr_setpts()}'"]
        cmd += ["-fps_mode", "passthrough", "-enc_time_base", "1/1000"]
        cmd += ["-video_track_timescale", "1000"]
    cmd += ["-vf", ",".join(filters)]
    cmd += ["-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p"]
    cmd += ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]
    cmd += ["-color_range", "tv"]
    cmd += (
        ["-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate]
        if bitrate
        else ["-crf", str(crf)]
    )
    cmd += ["-threads", "2", "-movflags", "+faststart", "-f", "mp4", str(tmp)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for frame in frames:
            proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed to encode the test clip: {err.strip()}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        proc.kill()
        proc.wait()
        tmp.unlink(missing_ok=True)
        raise


def _truth(
    kind: str,
    path: Path,
    width: int,
    height: int,
    fps: float,
    specs: list[_ShotSpec],
    times: list[float],
    means: list[float],
    rotation: int,
) -> ClipTruth:
    cuts: list[int] = []
    fades: list[FadeTruth] = []
    start = 0
    for k, spec in enumerate(specs):
        end = start + spec.frames + (_BLACK_FRAMES if spec.fade_out else 0)
        if k + 1 < len(specs):
            if spec.fade_out:
                nxt = specs[k + 1]
                fade = _fade_truth(start + spec.frames - _FADE_FRAMES, end, nxt, means, times)
                fades.append(fade)
                cuts.append(fade.cut_frame)
            else:
                cuts.append(end)
        start = end
    total = len(times)
    last_dt = times[-1] - times[-2] if total > 1 else 1.0 / fps
    duration = times[-1] + last_dt
    avg_fps = fps if kind != "vfr" else total / duration
    return ClipTruth(
        kind=kind,
        path=path,
        width=width,
        height=height,
        fps=avg_fps,
        duration_s=round(duration, 6),
        frame_count=total,
        frame_times_s=[round(t, 6) for t in times],
        cut_frames=cuts,
        cut_times_s=[round(times[c], 6) for c in cuts],
        fades=fades,
        looks=[s.look for s in specs],
        texts=[s.text for s in specs],
        pans=[s.pan for s in specs],
        rotation=rotation,
    )


def _fade_truth(
    fade_start: int, next_start: int, nxt: _ShotSpec, means: list[float], times: list[float]
) -> FadeTruth:
    """Place the boundary mid-way through the black run, as a threshold detector would."""
    lo = fade_start
    hi = min(len(means), next_start + (_FADE_FRAMES if nxt.fade_in else 1))
    black = [i for i in range(lo, hi) if means[i] < BLACK_LEVEL]
    b0, b1 = black[0], black[-1] + 1
    cut = b0 + round((b1 - b0) / 2)
    return FadeTruth(
        fade_out_start_frame=fade_start,
        black_start_frame=b0,
        black_end_frame=b1,
        fade_in_end_frame=hi,
        cut_frame=cut,
        cut_s=round(times[cut], 6),
    )


class _Renderer:
    """Draws shots at any size; layouts are relative so portrait and landscape both look right."""

    def __init__(self, width: int, height: int, fps: float) -> None:
        self.w, self.h, self.fps = width, height, fps
        rng = np.random.default_rng(7)
        self._grain: list[tuple[np.ndarray, np.ndarray]] = []
        for _ in range(4):
            noise = rng.integers(-4, 5, size=(height, width, 1), dtype=np.int16)
            noise3 = np.repeat(noise, 3, axis=2)
            pos = np.clip(noise3, 0, None).astype(np.uint8)
            neg = np.clip(-noise3, 0, None).astype(np.uint8)
            self._grain.append((pos, neg))
        self._backgrounds: dict[tuple[str, int], np.ndarray] = {}

    def frames(self, specs: list[_ShotSpec]) -> Iterator[np.ndarray]:
        index = 0
        for spec in specs:
            for i in range(spec.frames):
                frame = self._draw(spec, i, index)
                gain = 1.0
                if spec.fade_out and i >= spec.frames - _FADE_FRAMES:
                    gain = (spec.frames - 1 - i) / _FADE_FRAMES
                if spec.fade_in and i < _FADE_FRAMES:
                    gain = (i + 1) / (_FADE_FRAMES + 1)
                if gain < 1.0:
                    frame = (frame.astype(np.float32) * gain).astype(np.uint8)
                yield frame
                index += 1
            if spec.fade_out:
                for _ in range(_BLACK_FRAMES):
                    yield np.zeros((self.h, self.w, 3), np.uint8)
                    index += 1

    def _draw(self, spec: _ShotSpec, i: int, index: int) -> np.ndarray:
        t = i / self.fps
        bg = self._background(spec.look, spec.variant)
        bw = bg.shape[1]
        travel = bw - self.w
        start = 0.0 if spec.pan >= 0 else float(travel)
        offset = min(max(start + spec.pan * self.w * t, 0.0), float(travel))
        x0 = round(offset)
        frame = bg[:, x0 : x0 + self.w].copy()
        if spec.pan == 0.0:  # moving objects only in static shots, so a pan is the only motion
            _DRAWERS[spec.look](self, frame, t, spec.variant)
        if spec.text:
            self._text(frame, spec.text, spec.look)
        pos, neg = self._grain[index % 4]
        return cv2.subtract(cv2.add(frame, pos), neg)

    def _background(self, look: str, variant: int) -> np.ndarray:
        key = (look, variant % 3)
        if key not in self._backgrounds:
            self._backgrounds[key] = _BACKGROUNDS[look](self.w * 2, self.h, variant % 3)
        return self._backgrounds[key]

    def _text(self, frame: np.ndarray, text: str, look: str) -> None:
        h, w = frame.shape[:2]
        font = cv2.FONT_HERSHEY_DUPLEX
        target_w = w * (0.55 if len(text) > 4 else 0.32)
        scale = 1.0
        (tw, th), _ = cv2.getTextSize(text, font, scale, 2)
        scale = target_w / tw
        thick = max(2, round(scale * 2.2))
        (tw, th), base = cv2.getTextSize(text, font, scale, thick)
        x = (w - tw) // 2
        y = int(h * {"endcard": 0.78, "product": 0.2}.get(look, 0.3)) + th // 2
        if look == "endcard":
            pad = th // 2
            cv2.rectangle(
                frame, (x - pad, y - th - pad), (x + tw + pad, y + base + pad), (40, 40, 200), -1
            )
            cv2.putText(frame, text, (x, y), font, scale, (255, 255, 255), thick, cv2.LINE_AA)
            return
        cv2.putText(frame, text, (x + 3, y + 3), font, scale, (20, 20, 20), thick + 2, cv2.LINE_AA)
        colour = (60, 230, 255) if look == "product" else (255, 255, 255)
        cv2.putText(frame, text, (x, y), font, scale, colour, thick, cv2.LINE_AA)


def _gradient(
    w: int, h: int, top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> np.ndarray:
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    a = np.array(top, np.float32)[None, None, :]
    b = np.array(bottom, np.float32)[None, None, :]
    col = a * (1 - ramp) + b * ramp
    return np.repeat(col, w, axis=1).astype(np.uint8)


def _bg_sunset(w: int, h: int, variant: int) -> np.ndarray:
    img = _gradient(w, h, (40, 120, 255), (70, 40, 190))
    pts = [(x, int(h * (0.72 + 0.06 * math.sin(x / w * 9 + variant)))) for x in range(0, w + 8, 8)]
    poly = np.array([*pts, (w, h), (0, h)], np.int32)
    cv2.fillPoly(img, [poly], (50, 25, 70), cv2.LINE_AA)
    return img


def _bg_ocean(w: int, h: int, variant: int) -> np.ndarray:
    img = _gradient(w, h, (240, 205, 150), (150, 90, 20))
    img[: int(h * 0.45)] = _gradient(w, int(h * 0.45), (250, 215, 160), (235, 190, 120))
    for k in range(6):
        y = int(h * (0.5 + 0.08 * k))
        pts = [
            (x, y + int(h * 0.015 * math.sin(x / (w / 23) + k + variant)))
            for x in range(0, w + 6, 6)
        ]
        cv2.polylines(
            img, [np.array(pts, np.int32)], False, (235, 225, 170), max(1, h // 120), cv2.LINE_AA
        )
    return img


def _bg_city(w: int, h: int, variant: int) -> np.ndarray:
    img = _gradient(w, h, (120, 80, 35), (170, 140, 90))
    rng = np.random.default_rng(11 + variant)
    x = 0
    while x < w:
        bw = int(rng.integers(w // 40, w // 16))
        top = int(h * rng.uniform(0.25, 0.7))
        shade = int(rng.integers(50, 110))
        cv2.rectangle(img, (x, top), (x + bw, h), (shade + 30, shade + 10, shade - 20), -1)
        cv2.rectangle(
            img,
            (x + bw // 3, top + h // 20),
            (x + bw // 3 + max(2, bw // 6), h),
            (shade + 60, shade + 45, 30),
            -1,
        )
        x += bw + int(rng.integers(0, w // 80 + 1))
    return img


def _bg_product(w: int, h: int, variant: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w / 4, h * 0.55
    r = np.sqrt(((xx - cx) / (h * 0.9)) ** 2 + ((yy - cy) / (h * 0.9)) ** 2)
    glow = np.clip(1.0 - r, 0, 1)[..., None]
    dark = np.array((60, 20, 110), np.float32)
    light = np.array((120, 130, 235), np.float32)
    return (dark * (1 - glow) + light * glow).astype(np.uint8)


def _bg_forest(w: int, h: int, variant: int) -> np.ndarray:
    img = _gradient(w, h, (170, 210, 150), (30, 90, 40))
    rng = np.random.default_rng(21 + variant)
    for _ in range(max(8, w // 60)):
        x = int(rng.integers(0, w))
        base = int(h * rng.uniform(0.75, 1.0))
        tw = int(h * rng.uniform(0.12, 0.25))
        th = int(h * rng.uniform(0.35, 0.6))
        g = int(rng.integers(60, 120))
        tri = np.array([(x, base - th), (x - tw // 2, base), (x + tw // 2, base)], np.int32)
        cv2.fillPoly(img, [tri], (30, g, 20), cv2.LINE_AA)
    return img


def _bg_presenter(w: int, h: int, variant: int) -> np.ndarray:
    img = _gradient(w, h, (205, 215, 220), (150, 170, 185))
    cv2.rectangle(img, (0, int(h * 0.78)), (w, h), (120, 135, 150), -1)
    return img


def _bg_endcard(w: int, h: int, variant: int) -> np.ndarray:
    img = np.full((h, w, 3), (232, 243, 250), np.uint8)
    cv2.rectangle(img, (0, 0), (w, max(4, h // 14)), (40, 40, 200), -1)
    return img


def _draw_sunset(r: _Renderer, f: np.ndarray, t: float, variant: int) -> None:
    h, w = f.shape[:2]
    cx = int(w * (0.68 if variant % 2 == 0 else 0.32))
    cy = int(h * (0.62 - 0.05 * t))
    cv2.circle(f, (cx, cy), int(min(w, h) * 0.16), (90, 225, 255), -1, cv2.LINE_AA)
    for k in range(3):
        bx = int((w * (0.1 + 0.3 * k) + t * w * 0.05 * (k + 1)) % w)
        cv2.ellipse(
            f,
            (bx, int(h * (0.18 + 0.07 * k))),
            (w // 14, h // 40),
            0,
            0,
            360,
            (120, 170, 250),
            -1,
            cv2.LINE_AA,
        )


def _draw_ocean(r: _Renderer, f: np.ndarray, t: float, variant: int) -> None:
    h, w = f.shape[:2]
    x = int(w * (0.15 + 0.18 * t))
    y = int(h * 0.52)
    s = int(min(w, h) * 0.12)
    cv2.fillPoly(
        f,
        [np.array([(x, y - s), (x, y), (x + s * 2 // 3, y)], np.int32)],
        (250, 250, 250),
        cv2.LINE_AA,
    )
    cv2.rectangle(f, (x - s // 3, y), (x + s, y + s // 5), (60, 40, 30), -1)


def _draw_city(r: _Renderer, f: np.ndarray, t: float, variant: int) -> None:
    h, w = f.shape[:2]
    cv2.circle(
        f, (int(w * 0.8), int(h * 0.18)), int(min(w, h) * 0.06), (200, 230, 240), -1, cv2.LINE_AA
    )


def _draw_product(r: _Renderer, f: np.ndarray, t: float, variant: int) -> None:
    h, w = f.shape[:2]
    cx, cy = w // 2, int(h * 0.6)
    bw = int(min(w, h) * (0.12 + 0.03 * math.sin(t * 3.0)))
    bh = int(min(w, h) * 0.42)
    cv2.rectangle(
        f, (cx - bw, cy - bh // 2), (cx + bw, cy + bh // 2), (70, 200, 245), -1, cv2.LINE_AA
    )
    cv2.rectangle(
        f, (cx - bw // 2, cy - bh // 2 - bh // 6), (cx + bw // 2, cy - bh // 2), (40, 60, 90), -1
    )
    cv2.rectangle(
        f, (cx - bw + bw // 4, cy - bh // 3), (cx - bw // 2, cy + bh // 3), (200, 240, 255), -1
    )
    for k in range(4):
        a = t * 2.0 + k * math.pi / 2
        sx = int(cx + math.cos(a) * bw * 3)
        sy = int(cy + math.sin(a) * bh * 0.5)
        cv2.circle(f, (sx, sy), max(2, h // 60), (220, 250, 255), -1, cv2.LINE_AA)


def _draw_forest(r: _Renderer, f: np.ndarray, t: float, variant: int) -> None:
    h, w = f.shape[:2]
    x = int(w * (0.9 - 0.2 * t)) % w
    cv2.circle(f, (x, int(h * 0.3)), int(min(w, h) * 0.05), (230, 250, 255), -1, cv2.LINE_AA)


def _draw_presenter(r: _Renderer, f: np.ndarray, t: float, variant: int) -> None:
    """A frontal face drawn with the light and shadow a face detector looks for."""
    h, w = f.shape[:2]
    rad = int(min(w, h) * 0.16)
    cx = w // 2 + int(rad * 0.15 * math.sin(t * 2.0))
    cy = int(h * 0.45)
    fh = int(rad * 1.3)

    def oval(
        x: int, y: int, ax: float, ay: float, colour: tuple[int, int, int], top: bool = False
    ) -> None:
        axes = (max(1, int(ax)), max(1, int(ay)))
        cv2.ellipse(f, (x, y), axes, 0, 180 if top else 0, 360, colour, -1, cv2.LINE_AA)

    oval(cx, cy - rad // 4, rad * 1.1, fh, (25, 30, 45), top=True)  # hair
    body_y = cy + int(fh * 0.9) + int(rad * 1.2)
    oval(cx, body_y, rad * 1.7, rad * 1.3, (150, 80, 40), top=True)
    cv2.rectangle(f, (cx - int(rad * 1.7), body_y), (cx + int(rad * 1.7), h), (150, 80, 40), -1)
    cv2.rectangle(
        f, (cx - rad // 3, cy + fh // 2), (cx + rad // 3, cy + int(fh * 0.95)), (110, 140, 195), -1
    )
    yy, xx = np.mgrid[-fh : fh + 1, -rad : rad + 1].astype(np.float32)
    inside = (xx / rad) ** 2 + (yy / fh) ** 2 <= 1
    shade = 1 - 0.35 * (xx / rad) ** 2  # darker towards the cheeks' edges
    skin = np.array([150, 180, 230], np.float32)
    y0, x0 = cy - fh, cx - rad
    patch = f[y0 : cy + fh + 1, x0 : cx + rad + 1].astype(np.float32)
    patch[inside] = skin[None, :] * shade[inside][:, None]
    f[y0 : cy + fh + 1, x0 : cx + rad + 1] = patch.astype(np.uint8)
    ey, ex = cy - fh // 6, int(rad * 0.4)
    for x in (cx - ex, cx + ex):
        oval(x, ey, rad * 0.3, rad * 0.17, (80, 95, 130))  # eye socket in shadow
        oval(x, ey - int(rad * 0.2), rad * 0.28, rad / 12, (30, 35, 50), top=True)  # brow
        oval(x, ey, rad * 0.17, rad * 0.08, (170, 180, 190))
        cv2.circle(f, (x, ey), max(1, int(rad * 0.075)), (30, 25, 20), -1, cv2.LINE_AA)
    oval(cx, cy + fh // 5, rad * 0.14, rad * 0.07, (95, 115, 165))  # nose
    oval(cx, cy + int(fh * 0.48), rad * 0.32, rad * 0.09, (70, 70, 140))  # mouth


def _draw_endcard(r: _Renderer, f: np.ndarray, t: float, variant: int) -> None:
    h, w = f.shape[:2]
    rad = int(min(w, h) * (0.14 + 0.01 * math.sin(t * 4)))
    cv2.circle(f, (w // 2, int(h * 0.4)), rad, (40, 40, 200), -1, cv2.LINE_AA)
    cv2.circle(f, (w // 2, int(h * 0.4)), rad // 2, (232, 243, 250), -1, cv2.LINE_AA)


_BACKGROUNDS: dict[str, Callable[[int, int, int], np.ndarray]] = {
    "sunset": _bg_sunset,
    "ocean": _bg_ocean,
    "city": _bg_city,
    "product": _bg_product,
    "forest": _bg_forest,
    "presenter": _bg_presenter,
    "endcard": _bg_endcard,
}
_DRAWERS: dict[str, Callable[[_Renderer, np.ndarray, float, int], None]] = {
    "sunset": _draw_sunset,
    "ocean": _draw_ocean,
    "city": _draw_city,
    "product": _draw_product,
    "forest": _draw_forest,
    "presenter": _draw_presenter,
    "endcard": _draw_endcard,
}
