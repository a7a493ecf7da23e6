"""One threaded decoding pass that hands out tiny frames cheaply and full frames on request.

Decoding 1080p H.264 is the floor of the detect stage; everything else must ride along nearly
free. So per frame we never convert the full picture to BGR: the Y, U and V planes are read in
place and only the pixels PySceneDetect's auto-downscale reads (``downscale``: two neighbours
per axis for each pixel of a ~256-pixel-wide frame) are colour-converted, by the same FFmpeg
conversion OpenCV gives PySceneDetect, then mixed with OpenCV's own fixed-point arithmetic: the
detectors get the frame SceneManager would hand them, bit for bit. The decoded frame itself is
kept by reference only where a caller wants a keyframe, and converted once, at thumbnail size.
FFmpeg decodes on a thread of its own a few packets ahead (``_ReadAhead``): it lets go of the GIL
while it works, so on two cores decoding and detecting overlap.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import av
import av.error
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from adref.errors import InputError
from adref.video.downscale import plan

log = logging.getLogger(__name__)

# Planar 8-bit formats sampled in place: chroma subsampling (horizontal, vertical), and the
# format of the tiny picture their gathered pixels are converted in. FFmpeg converts 4:2:0 and
# 4:2:2 with the same per-pixel arithmetic (every Y, U, V triple: tests/test_decode_tiny.py),
# and in 4:2:2 each pixel needs a pair of columns to itself, not a 2x2 block: half the work.
_PLANAR = {
    "yuv420p": (2, 2, "yuv422p"),
    "yuvj420p": (2, 2, "yuvj422p"),
    "yuv422p": (2, 1, "yuv422p"),
    "yuvj422p": (2, 1, "yuvj422p"),
    "yuv444p": (1, 1, "yuv444p"),
    "yuvj444p": (1, 1, "yuvj444p"),
    "gray": (1, 1, "gray"),
}
_LIMITED_GAIN = 255 / 219  # one step of video-range luma in full-range steps
_PAD_ROWS = 2  # FFmpeg's scaler treats the last rows of a picture apart (4:2:2); keep them spare
# ... and a row's last pixels when its width is not a multiple of its SIMD step (16 pixels here
# to planar GBR, and they come out differently): rows are made a multiple of a wider step, the
# spare pixels never read.
_ROW_MULTIPLE = 64
_AHEAD = 8  # decoded packets waiting for the detectors: enough to ride out a slow frame
UNSPECIFIED_MATRIX = 2  # AVCOL_SPC_UNSPECIFIED: FFmpeg's scaler then converts as BT.601
# FFmpeg's scaler starts a thread per core by default; beside the decoding threads, which keep
# every core busy, handing it tiny pictures only adds switches (~0.15 CPU s per 30 s of 1080p).
SCALER_THREADS = 1
# Per kind of frame (format, size, colour tags): whether the tiny picture gives it exactly the
# BGR of a whole-frame conversion. Asked once a process: FFmpeg's answer does not change.
_EXACT_IN_PLACE: dict[tuple[str, int, int, int, int], bool] = {}


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
        self._stream.thread_type = thread_type(self._stream.codec_context.name)
        self._stream.codec_context.thread_count = decode_threads()
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
        self.downscale = plan(ctx.width, ctx.height)
        self.small_size = self.downscale.size
        rows = self.downscale.rows
        self._rows_padded = np.concatenate([rows, np.repeat(rows[-1:], _PAD_ROWS)])
        self._reformatter = VideoReformatter()
        self._tiny: dict[str, _Tiny] = {}
        self._unreadable_matrix: int | None = None
        self._ahead: _ReadAhead[list[av.VideoFrame]] | None = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the decoding thread first: it must not touch a closed container."""
        if self._ahead is not None:
            self._ahead.close()
        self._container.close()

    def frames(self) -> Iterator[DecodedFrame]:
        """Every decodable frame in presentation order; broken packets are counted and skipped."""
        nominal = 1
        if self.header.average_rate:
            nominal = max(1, round(1 / (self.header.average_rate * self.header.time_base)))
        if self._ahead is not None:
            self._ahead.close()
        self._ahead = ahead = _ReadAhead(self._decoded_packets(), _AHEAD)
        try:
            yield from self._numbered(ahead, nominal)
        finally:
            ahead.close()

    def _numbered(
        self, packets: Iterable[list[av.VideoFrame]], nominal: int
    ) -> Iterator[DecodedFrame]:
        """Frames with times relative to the first, always moving forward."""
        first_pts: int | None = None
        last_pts = -1
        index = 0
        for decoded in packets:
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
                small, luma, gain = self._small(frame)
                yield DecodedFrame(index, rel, int(frame.duration or 0), small, luma, gain, frame)
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

    def _small(self, frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, float]:
        """Detect-size BGR exactly as PySceneDetect would see it; luma and its gain.

        OpenCV hands PySceneDetect frames converted by FFmpeg's scaler (which honours the
        frame's colour matrix and range tags), and one level off is enough to flip the hue of a
        neutral grey. So the pixels the downscale reads are gathered into a tiny picture of the
        frame's own family (each alone in its chroma block, so none borrows a neighbour's
        colour; kept from frame to frame) and converted by that same scaler: the same BGR, bit
        for bit, at a few hundred microseconds. Frames FFmpeg itself would convert another way
        (``_exact_in_place``) are converted whole. Luma (one source pixel per detect pixel)
        stays in the range it was stored in; its gain is what frame differences need.
        """
        self._check_colours(frame)
        if self._exact_in_place(frame):
            return self._in_place(frame)
        return self._converted(frame)

    def _exact_in_place(self, frame: av.VideoFrame) -> bool:
        """Whether ``_in_place`` gives frames like this one exactly what ``_converted`` would.

        FFmpeg converts most 8-bit planar frames by a direct path, which the tiny picture
        reproduces, but some sizes (4:2:0 of odd height, 4:2:2 of odd width) by its general
        scaler, with other arithmetic. Asked of a frame of noise, once a process per kind of
        frame (the tiny picture is planned for the stream's size, so only frames of that size
        qualify, and the answer depends on nothing else the reader holds). Interlaced frames are converted field by field (each line takes its colour from
        its own field's chroma), which the tiny picture does not do: they are converted whole.
        """
        fmt = frame.format.name
        size = (frame.width, frame.height)
        if (
            fmt not in _PLANAR
            or frame.interlaced_frame
            or size != (self.header.coded_width, self.header.coded_height)
        ):
            return False
        kind = (fmt, *size, int(frame.colorspace), int(frame.color_range))
        exact = _EXACT_IN_PLACE.get(kind)
        if exact is None:
            noise = av.VideoFrame(*size, fmt)
            noise.colorspace, noise.color_range = frame.colorspace, frame.color_range
            rng = np.random.default_rng(0)
            for plane in noise.planes:
                view = _plane(plane)
                view[:] = rng.integers(0, 256, view.shape, np.uint8)
            exact = np.array_equal(self._in_place(noise)[0], self._converted(noise)[0])
            if not exact:
                log.debug("%s: %dx%d %s frames are converted whole", self.path.name, *size, fmt)
            _EXACT_IN_PLACE[kind] = exact
        return exact

    def _in_place(self, frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, float]:
        """The tiny picture's way (see ``_small``)."""
        down = self.downscale
        fmt = frame.format.name
        cx = _PLANAR[fmt][0]
        gh, gw = len(down.rows), len(down.cols)
        tiny = self._tiny.get(fmt) or self._tiny_picture(fmt)
        for plane, (rows, cols, into) in zip(frame.planes, tiny.parts, strict=False):
            _gather(_plane(plane), rows, cols, into)
        luma = tiny.luma.copy()
        picture = tiny.picture
        picture.colorspace = frame.colorspace
        picture.color_range = frame.color_range
        full = fmt.startswith("yuvj") or fmt == "gray" or int(frame.color_range) == 2
        gain = 1.0 if full else _LIMITED_GAIN
        if cx == 1:
            grid = self._convert(picture, "bgr24").to_ndarray()[:gh, :gw]
            return down.apply(grid), luma, gain
        # Each pixel is in twice: converted to planar GBR, in each plane a pair is one 16-bit
        # word, and the pixel its low byte.
        g, b, r = (
            _plane(p)[:gh].view("<u2")[:, :gw] for p in self._convert(picture, "gbrp").planes
        )
        return down.apply_planes((b, g, r)), luma, gain

    def _check_colours(self, frame: av.VideoFrame) -> None:
        matrix = int(frame.colorspace)
        if readable_colours(frame) or matrix == self._unreadable_matrix:
            return
        self._unreadable_matrix = matrix
        log.warning(
            "%s: FFmpeg cannot convert its colour matrix (%s); it is read as unspecified"
            " (BT.601): cuts are found as usual, colours are approximate",
            self.path.name,
            _matrix_name(matrix),
        )

    def _convert(self, tiny: av.VideoFrame, fmt: str) -> av.VideoFrame:
        """FFmpeg's conversion of the tiny picture: to planar GBR it is the same arithmetic as
        to BGR (tests/test_decode_tiny.py) and half as costly, but for a row's last pixels
        when its width is not a multiple of the SIMD step (hence ``_ROW_MULTIPLE``)."""
        return self._reformatter.reformat(tiny, format=fmt, threads=SCALER_THREADS)

    def _tiny_picture(self, fmt: str) -> _Tiny:
        """The tiny picture for frames of this format, made once: what fills each of its
        planes (in 4:2:2, each luma pixel twice: one per pixel of its chroma pair)."""
        cx, cy, tiny_format = _PLANAR[fmt]
        rows, cols = self._rows_padded, self.downscale.cols
        width = -(-len(cols) * cx // _ROW_MULTIPLE) * _ROW_MULTIPLE
        picture = av.VideoFrame(width, len(rows), tiny_format)
        sources = [(rows, np.repeat(cols, cx))]
        if fmt != "gray":
            sources += [(rows // cy, cols // cx)] * 2
        planes = [_plane(p) for p in picture.planes]
        parts = [(r, c, into[:, : len(c)]) for (r, c), into in zip(sources, planes, strict=False)]
        tiny = _Tiny(picture, parts, self.downscale.corner(planes[0][:, ::cx]))
        self._tiny[fmt] = tiny
        return tiny

    def _converted(self, frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, float]:
        """Frames not read in place (10-bit, packed RGB, 4:1:1 ..., sizes FFmpeg converts by its
        general scaler, interlaced frames): the whole frame converted with OpenCV's own flags
        (bicubic: where FFmpeg has no direct conversion, its chroma is upsampled by them), then
        OpenCV's own resize, as SceneManager does. A frame of another size than the stream's is
        scaled by FFmpeg (SceneManager skips such frames)."""
        sw, sh = self.small_size
        bgr: np.ndarray
        if frame.width != self.header.coded_width or frame.height != self.header.coded_height:
            bgr = frame.reformat(
                width=sw, height=sh, format="bgr24", threads=SCALER_THREADS
            ).to_ndarray()
        else:
            whole = frame.reformat(
                format="bgr24", interpolation="BICUBIC", threads=SCALER_THREADS
            ).to_ndarray()
            same = (sw, sh) == (frame.width, frame.height)
            bgr = whole if same else cv2.resize(whole, (sw, sh), interpolation=cv2.INTER_LINEAR)
        return bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), 1.0  # BGR is full range


@dataclass(frozen=True)
class _Tiny:
    """A tiny picture, kept from frame to frame, and views of its pixels."""

    picture: av.VideoFrame
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # per plane: frame rows, columns, into
    luma: np.ndarray  # the first neighbour of each detect pixel, as stored


# Decoders whose frames differ from run to run with frame threads (FFmpeg 8's VP3/Theora: a
# race; measured, 2 of 12 decodings of one clip differed). They decode with slice threads only.
_FRAME_THREADS_UNSAFE = frozenset({"theora", "vp3"})


def thread_type(codec: str) -> str:
    """FFmpeg's threading for a decoder: by frames and slices, but slices only where frame
    threads do not give the same frames every time."""
    return "SLICE" if codec in _FRAME_THREADS_UNSAFE else "AUTO"


def usable_cores() -> int:
    """The cores this process may run on (its affinity, where the system says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def decode_threads() -> int:
    """FFmpeg's decoding threads: three per core the process may use, at most 16 (the cap of
    FFmpeg's own automatic count, one per core and one more). The detectors' thread runs beside
    them; with more frames in flight a decoding thread is ready whenever a core is free."""
    return min(16, 3 * usable_cores())


T = TypeVar("T")
_END = object()


class _ReadAhead(Generic[T]):
    """Items of ``source`` made on a thread of their own, at most ``depth`` ahead of the caller.

    An exception in ``source`` reaches the caller where the item would have; ``close`` stops
    the thread and waits for it, so nothing still runs once it returns (the source's next item,
    if one is being made, is finished first: FFmpeg cannot be interrupted mid-packet).
    """

    def __init__(self, source: Iterator[T], depth: int) -> None:
        self._queue: queue.Queue[object] = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(source,), name="adref-decode", daemon=True
        )
        self._thread.start()

    def _run(self, source: Iterator[T]) -> None:
        try:
            for item in source:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the caller, who raises it
            self._put(_Failed(exc))
            return
        self._put(_END)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield cast(T, item)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def _gather(plane: np.ndarray, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = plane[rows][:, cols]``, at half the cost: whole rows first (memory in order),
    then the columns, as rows of the transposed picture (numpy copies whole rows far faster
    than it picks bytes out of them; OpenCV transposes in SIMD)."""
    across = cv2.transpose(np.take(plane, rows, axis=0))
    if cv2.transpose(np.take(across, cols, axis=0), dst=out) is not out:
        raise AssertionError("OpenCV did not write the gathered pixels in place")


def _plane(plane: av.video.plane.VideoPlane) -> np.ndarray:
    buf = np.frombuffer(cast(Any, plane), np.uint8)[: plane.height * plane.line_size]
    return buf.reshape(plane.height, plane.line_size)[:, : plane.width]


def to_bgr(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """Convert one decoded frame to BGR at (width, height) as stored; used once per keyframe."""
    out = frame.reformat(
        width=width, height=height, format="bgr24", interpolation="AREA", threads=SCALER_THREADS
    )
    return out.to_ndarray()


def readable_colours(frame: av.VideoFrame) -> bool:
    """Whether FFmpeg's scaler converts this frame's colour matrix; if not, the frame is tagged
    unspecified, to be read as an untagged video is (BT.601).

    FFmpeg refuses a few rare matrices (YCgCo, BT.2020 constant luminance) and OpenCV then hands
    PySceneDetect black frames. Failing the video would lose it; read this way, its cuts are
    found as usual and only its colours are approximate.
    """
    if _convertible(frame.format.name, int(frame.colorspace)):
        return True
    frame.colorspace = UNSPECIFIED_MATRIX
    return False


@functools.lru_cache(maxsize=64)
def _convertible(fmt: str, matrix: int) -> bool:
    """Asked of a tiny picture once per format and matrix; any other error than FFmpeg's "not
    supported" is left for the real conversion to report."""
    probe = av.VideoFrame(16, 16, fmt)
    probe.colorspace = matrix
    try:
        probe.reformat(format="bgr24")
    except av.error.FFmpegError as exc:
        return exc.errno != errno.EOPNOTSUPP
    return True


_MATRICES = {
    8: "YCgCo",
    10: "BT.2020 constant luminance",
    11: "SMPTE ST 2085",
    12: "chroma-derived non-constant luminance",
    13: "chroma-derived constant luminance",
    14: "ICtCp",
}


def _matrix_name(matrix: int) -> str:
    return _MATRICES.get(matrix, f"AVColorSpace {matrix}")


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
