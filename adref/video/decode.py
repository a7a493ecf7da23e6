"""One threaded decoding pass that hands out tiny frames cheaply and full frames on request.

Decoding 1080p H.264 is the floor of the detect stage; everything else must ride along nearly
free. So per frame we never convert the full picture to BGR: the Y, U and V planes are read in
place and only the sampled pixels are resized and colour-converted (a ~256-pixel-wide frame, the
size PySceneDetect's SceneManager would auto-downscale to). The decoded frame itself is kept by
reference only where a caller wants a keyframe, and converted once, at thumbnail size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import av
import av.error
import cv2
import numpy as np

from adref.errors import InputError

log = logging.getLogger(__name__)

DETECT_MIN_WIDTH = 256  # PySceneDetect's DEFAULT_MIN_WIDTH for auto-downscale

# BGR from video-range YCbCr, as 3x4 affine matrices for cv2.transform (rows: B, G, R).
_MATRICES: dict[str, tuple[float, float, float, float, float]] = {
    # name: (Kr, Kb, luma scale, chroma scale, luma offset)
    "bt601": (0.299, 0.114, 255 / 219, 255 / 224, 16),
    "bt709": (0.2126, 0.0722, 255 / 219, 255 / 224, 16),
    "bt601_full": (0.299, 0.114, 1.0, 1.0, 0),
    "bt709_full": (0.2126, 0.0722, 1.0, 1.0, 0),
}
_FAST_FORMATS = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"})


def _yuv_to_bgr_matrix(name: str) -> np.ndarray:
    kr, kb, ys, cs, yo = _MATRICES[name]
    kg = 1 - kr - kb
    r_v = 2 * (1 - kr) * cs
    b_u = 2 * (1 - kb) * cs
    g_u = -2 * (1 - kb) * kb / kg * cs
    g_v = -2 * (1 - kr) * kr / kg * cs
    rows = np.array([[ys, b_u, 0.0], [ys, g_u, g_v], [ys, 0.0, r_v]], np.float64)
    offset = -rows @ np.array([yo, 128.0, 128.0])
    return np.hstack([rows, offset[:, None]]).astype(np.float32)


_TRANSFORMS = {name: _yuv_to_bgr_matrix(name) for name in _MATRICES}
_LIMITED_GAIN = 255 / 219  # one step of video-range luma in full-range steps


def detect_size(width: int, height: int) -> tuple[int, int]:
    """The size SceneManager's auto-downscale would give a frame of this size."""
    longest = max(width, height)
    if longest < DETECT_MIN_WIDTH:
        return width, height
    factor = longest / DETECT_MIN_WIDTH
    return max(1, round(width / factor)), max(1, round(height / factor))


@dataclass(frozen=True)
class StreamHeader:
    """What the container says before decoding, with sizes as stored (not yet rotated)."""

    coded_width: int
    coded_height: int
    codec: str
    average_rate: Fraction | None
    time_base: Fraction
    frames: int  # 0 when the container does not say
    duration_s: float | None
    sample_aspect: Fraction


@dataclass
class DecodedFrame:
    index: int
    pts: int  # in the stream's time base, relative to the first frame
    duration: int  # the frame's own duration in time-base units (0 if unknown)
    small: np.ndarray  # BGR, detect size, upright as stored (rotation not applied)
    luma: np.ndarray  # Y at detect size, as stored (video or full range)
    luma_gain: float  # full-range steps per step of ``luma`` (differences, not levels)
    source: av.VideoFrame  # the decoded frame; keep a reference only when it is needed
    recolour: np.ndarray | None  # 3x4 transform that gives ``small`` the source's true colours


class VideoReader:
    """Open a video for one threaded pass; raise InputError for anything that is not one."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.decode_errors = 0
        self._container = _open(self.path)
        still = av.stream.Disposition.attached_pic | av.stream.Disposition.still_image
        streams = [s for s in self._container.streams.video if not s.disposition & still]
        if not streams:
            self._container.close()
            raise InputError(
                f"{self.path.name} has no video stream",
                hint="Give a video file (audio files, even with cover art, cannot be analysed)",
            )
        self._stream = max(
            streams, key=lambda s: (s.codec_context.width or 0) * (s.codec_context.height or 0)
        )
        self._stream.thread_type = "AUTO"
        ctx = self._stream.codec_context
        if not ctx.width or not ctx.height:
            self._container.close()
            raise InputError(f"{self.path.name} has a video stream without a picture size")
        tb = self._stream.time_base or Fraction(1, 90000)
        duration_s: float | None = None
        if self._stream.duration:
            duration_s = float(self._stream.duration * tb)
        elif self._container.duration:
            duration_s = self._container.duration / av.time_base
        rate = self._stream.average_rate or self._stream.guessed_rate
        sar = ctx.sample_aspect_ratio
        self.header = StreamHeader(
            coded_width=ctx.width,
            coded_height=ctx.height,
            codec=ctx.name,
            average_rate=Fraction(rate) if rate else None,
            time_base=Fraction(tb),
            frames=int(self._stream.frames or 0),
            duration_s=duration_s,
            sample_aspect=Fraction(sar) if sar and sar > 0 else Fraction(1),
        )
        self.small_size = detect_size(ctx.width, ctx.height)
        sw, sh = self.small_size
        self._even = sw % 2 == 0 == sh % 2

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def frames(self) -> Iterator[DecodedFrame]:
        """Every decodable frame in presentation order; broken packets are counted and skipped."""
        first_pts: int | None = None
        last_pts = -1
        index = 0
        nominal = 1
        if self.header.average_rate:
            nominal = max(1, round(1 / (self.header.average_rate * self.header.time_base)))
        for decoded in self._decoded_packets():
            for frame in decoded:
                pts = frame.pts
                if pts is None:
                    rel = last_pts + nominal if index else 0
                else:
                    if first_pts is None:
                        first_pts = pts - (last_pts + nominal if index else 0)
                    rel = pts - first_pts
                if index and rel <= last_pts:  # broken or repeated timestamps: keep time moving
                    rel = last_pts + nominal
                last_pts = rel
                source = _matrix_name(frame)
                small, luma, gain, made_with = self._small(frame, source)
                yield DecodedFrame(
                    index,
                    rel,
                    int(frame.duration or 0),
                    small,
                    luma,
                    gain,
                    frame,
                    recolour(made_with, source),
                )
                index += 1

    def _decoded_packets(self) -> Iterator[list[av.VideoFrame]]:
        """Frames packet by packet; a broken packet is skipped, a broken container ends reading."""
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as exc:  # the detect stage judges what was decoded
                self.decode_errors += 1
                log.debug("stopped reading %s: %s", self.path.name, exc)
                return
            try:
                yield list(packet.decode())
            except av.error.FFmpegError as exc:
                self.decode_errors += 1
                log.debug("skipped an undecodable packet in %s: %s", self.path.name, exc)

    def _small(
        self, frame: av.VideoFrame, matrix: str
    ) -> tuple[np.ndarray, np.ndarray, float, str]:
        """Detect-size BGR; luma and its gain; the YCbCr matrix the BGR was made with.

        Luma stays in the range it was stored in: converting it to full range cost more than
        every use of it (frame differences) needs, which is just its gain.
        """
        sw, sh = self.small_size
        fmt = frame.format.name
        if fmt not in _FAST_FORMATS or frame.width != self.header.coded_width:
            bgr = frame.reformat(width=sw, height=sh, format="bgr24").to_ndarray()
            return bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), 1.0, matrix  # BGR is full range
        gain = 1.0 if matrix.endswith("_full") else _LIMITED_GAIN
        planes = frame.planes
        y = _plane(planes[0])
        u = _plane(planes[1])
        v = _plane(planes[2])
        if self._even and fmt == "yuv420p" and not matrix.endswith("_full"):
            # Most video: sample 4:2:0 into a tiny 4:2:0 picture (half the chroma rows read)
            # and let OpenCV's integer BT.601 conversion make it BGR, as OpenCV decodes any
            # video for PySceneDetect. Features correct the colours later (``recolour``).
            n, q = sw * sh, sw * sh // 4
            buf = np.empty(n * 3 // 2, np.uint8)  # fresh each frame: its Y plane is kept
            luma = buf[:n].reshape(sh, sw)
            cv2.resize(y, (sw, sh), dst=luma, interpolation=cv2.INTER_NEAREST)
            cv2.resize(
                u,
                (sw // 2, sh // 2),
                dst=buf[n : n + q].reshape(sh // 2, sw // 2),
                interpolation=cv2.INTER_NEAREST,
            )
            cv2.resize(
                v,
                (sw // 2, sh // 2),
                dst=buf[n + q :].reshape(sh // 2, sw // 2),
                interpolation=cv2.INTER_NEAREST,
            )
            bgr601 = cv2.cvtColor(buf.reshape(sh * 3 // 2, sw), cv2.COLOR_YUV2BGR_I420)
            return bgr601, luma, gain, "bt601"
        ys = cv2.resize(y, (sw, sh), interpolation=cv2.INTER_NEAREST)
        us = cv2.resize(u, (sw, sh), interpolation=cv2.INTER_NEAREST)
        vs = cv2.resize(v, (sw, sh), interpolation=cv2.INTER_NEAREST)
        small = cv2.transform(cv2.merge([ys, us, vs]), _TRANSFORMS[matrix])
        return small, ys, gain, matrix


@lru_cache(maxsize=16)
def recolour(made_with: str, source: str) -> np.ndarray | None:
    """The BGR-to-BGR transform from one YCbCr matrix's decoding to another's (None if same)."""
    if made_with == source:
        return None
    back = np.vstack([_TRANSFORMS[made_with].astype(np.float64), [0, 0, 0, 1]])
    forth = np.vstack([_TRANSFORMS[source].astype(np.float64), [0, 0, 0, 1]])
    return (forth @ np.linalg.inv(back))[:3].astype(np.float32)


def _plane(plane: av.video.plane.VideoPlane) -> np.ndarray:
    buf = np.frombuffer(cast(Any, plane), np.uint8)[: plane.height * plane.line_size]
    return buf.reshape(plane.height, plane.line_size)[:, : plane.width]


def _matrix_name(frame: av.VideoFrame) -> str:
    full = frame.format.name.startswith("yuvj") or int(frame.color_range) == 2
    # Untagged video is treated as BT.601, as FFmpeg's scaler (and so OpenCV) does.
    return ("bt709" if int(frame.colorspace) == 1 else "bt601") + ("_full" if full else "")


def to_bgr(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """Convert one decoded frame to BGR at (width, height) as stored; used once per keyframe."""
    out = frame.reformat(width=width, height=height, format="bgr24", interpolation="AREA")
    return out.to_ndarray()


def upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a display rotation (degrees counter-clockwise) to stored pixels."""
    if rotation == 90:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    if rotation == 180:
        return cv2.rotate(image, cv2.ROTATE_180)
    if rotation == 270:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    return image


def normalise_rotation(degrees: float | int | None) -> int:
    if not degrees:
        return 0
    return round(float(degrees) / 90.0) % 4 * 90


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise InputError(f"{path} does not exist")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a video file")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty", hint="The download or copy did not finish")
    try:
        return av.open(str(path), mode="r", metadata_errors="replace")
    except av.error.FFmpegError as exc:
        raise InputError(
            f"{path.name} cannot be read as a video",
            why=str(getattr(exc, "strerror", None) or exc),
            hint="Check that the file is a complete video (mp4, mov, webm, mkv ...)",
        ) from None
