"""Open a file the way the decoder will and describe its picture, or say plainly why it cannot.

Every later stage trusts this answer, so a file that would fail or mislead them (empty, not a
video, audio only, cut off half way, undecodable) is refused here with a message a user can act
on. Sizes are the displayed ones: phones store landscape frames and a rotation, and
anamorphic files store a pixel aspect; users and layouts care about what a player shows.
"""

from __future__ import annotations

import itertools
import math
import statistics
from pathlib import Path

import av
import av.container
import av.error
import av.stream
import av.video.frame
import av.video.stream

from adref.errors import InputError
from adref.models import StreamInfo

__all__ = ["probe_video"]

_STILL_IMAGE_FORMATS = ("image2", "_pipe")  # ffmpeg's demuxers for single pictures
_REENCODE_HINT = "Re-encode it to H.264 MP4, or give another copy of the video"
_GET_AGAIN_HINT = "It was probably cut off during a download or copy: download or copy it again"
_VIDEO_HINT = "Give a video file such as .mp4, .mov, .webm or .mkv"
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "MP4/MOV"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"FLV", "FLV"),
    (0, b"OggS", "Ogg"),
    (0, b"\x00\x00\x01\xba", "MPEG-PS"),
    (0, b"\x30\x26\xb2\x75", "ASF/WMV"),
)


def probe_video(path: Path) -> StreamInfo:
    """Describe the first video stream of ``path``; raise InputError when it is not usable."""
    path = Path(path)
    size = _file_size(path)
    if size == 0:
        raise InputError(
            f"cannot read {path.name}",
            "the file is empty (0 bytes)",
            "Check that the download or copy finished, then try again",
        )
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise _unopenable(path, size, exc) from None
    with container:
        fmt = container.format.name
        if any(tag in fmt for tag in _STILL_IMAGE_FORMATS):
            kind = fmt.removesuffix("_pipe").upper() if fmt.endswith("_pipe") else "an image"
            raise InputError(
                f"{path.name} is not a video file",
                f"it is a still image ({kind}), not a moving picture",
                _VIDEO_HINT,
            )
        stream = _video_stream(container, path)
        _check_index_within_file(container, size, path)
        frame = _first_frame(container, stream, path)
        info = _describe(container, stream, frame)
        return _check_data_reaches_end(container, stream, info, path)


def _file_size(path: Path) -> int:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(
            f"cannot read {path}", "no such file", "Check the path and try again"
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read {path}", exc.strerror or str(exc)) from None
    if path.is_dir():
        raise InputError(f"cannot read {path}", "it is a folder, not a video file", _VIDEO_HINT)
    return st.st_size


def _unopenable(path: Path, size: int, exc: Exception) -> InputError:
    """Explain why FFmpeg cannot open a file, from what its first bytes look like."""
    reason = getattr(exc, "strerror", None) or str(exc)
    with path.open("rb") as f:
        head = f.read(512)
    kind = next((k for off, magic, k in _MAGIC if head[off : off + len(magic)] == magic), None)
    if kind == "MP4/MOV":
        boxes, overrun = _mp4_top_boxes(path, size)
        if "moov" not in boxes:
            why = "it starts like an MP4/MOV video but its index (the 'moov' box) is missing"
            if overrun:
                why += f" and it ends in the middle of the '{overrun}' box"
            return InputError(f"{path.name} is damaged or incomplete", why, _GET_AGAIN_HINT)
    if kind is not None:
        return InputError(
            f"{path.name} is damaged or incomplete",
            f"it starts like a {kind} video but FFmpeg cannot open it ({reason})",
            _GET_AGAIN_HINT,
        )
    return InputError(
        f"{path.name} is not a video file", _describe_bytes(head, reason), _VIDEO_HINT
    )


def _describe_bytes(head: bytes, reason: str) -> str:
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")) or b"<html" in stripped[:256]:
        return "it is an HTML web page (a page was saved instead of the video)"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as err:
            if err.start < len(head) - 4:  # a multi-byte character cut at the end is still text
                return f"FFmpeg does not recognise its format ({reason})"
        return "it contains text"
    return f"FFmpeg does not recognise its format ({reason})"


def _mp4_top_boxes(path: Path, size: int) -> tuple[list[str], str]:
    """Top-level ISO-BMFF box types, and the type of a box that runs past the end of the file."""
    boxes: list[str] = []
    with path.open("rb") as f:
        offset = 0
        while offset + 8 <= size and len(boxes) < 10_000:
            f.seek(offset)
            header = f.read(16)
            box_size = int.from_bytes(header[:4], "big")
            box_type = header[4:8].decode("latin-1")
            if box_size == 1 and len(header) == 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8:
                break
            boxes.append(box_type)
            if offset + box_size > size:
                return boxes, box_type
            offset += box_size
    return boxes, ""


def _video_stream(
    container: av.container.InputContainer, path: Path
) -> av.video.stream.VideoStream:
    pictures = [
        s
        for s in container.streams.video
        if not s.disposition & av.stream.Disposition.attached_pic  # cover art is not video
    ]
    if pictures:
        return pictures[0]
    if not container.streams.audio:
        raise InputError(f"{path.name} is not a video file", "it has no video stream", _VIDEO_HINT)
    why = "it contains audio only, no video stream"
    if container.streams.video:
        why = "it contains audio and a cover picture, no video stream"
    raise InputError(f"{path.name} has no picture", why, _VIDEO_HINT)


def _check_index_within_file(container: av.container.InputContainer, size: int, path: Path) -> None:
    """Refuse a file whose own index points past its end: it was cut off.

    MP4s written for streaming carry their index first, so a half-copied file still opens and
    decodes its first frames; only the index tells that the rest is gone.
    """
    end = 0
    for stream in container.streams:
        entries = stream.index_entries
        count = len(entries)
        for i in range(max(0, count - 32), count):
            entry = entries[i]
            if entry.pos >= 0:
                end = max(end, entry.pos + entry.size)
    if end > size:
        missing = 100.0 * (end - size) / end
        raise InputError(
            f"{path.name} is incomplete",
            f"it is {size:,} bytes but its index points to data up to byte {end:,} "
            f"(about {missing:.0f}% is missing)",
            _GET_AGAIN_HINT,
        )


def _check_data_reaches_end(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    info: StreamInfo,
    path: Path,
) -> StreamInfo:
    """For containers without a full index (Matroska, WebM, AVI), read packet headers to the end.

    Their header states a duration that survives truncation, so only the packets themselves
    show where the data stops. Demuxing reads no pixels: about 1 s per GB here. Transport
    streams have no stated duration to compare with, and are left alone. The packet count
    replaces the header's frame estimate.
    """
    if len(stream.index_entries) >= max(2, info.frame_count // 2):
        return info
    if container.format.name in ("mpegts", "mpeg") or info.duration_s <= 0:
        return info
    count, last_end = 0, 0.0
    tb = stream.time_base
    with av.open(str(path), metadata_errors="ignore") as again:
        try:
            for packet in again.demux(again.streams[stream.index]):
                if packet.pts is None or tb is None:
                    continue
                count += 1
                last_end = max(last_end, float((packet.pts + (packet.duration or 0)) * tb))
        except av.error.FFmpegError:
            pass  # a damaged tail is judged below by how far the readable data reached
    start = float(stream.start_time * tb) if stream.start_time and tb else 0.0
    reached = last_end - start
    if reached < info.duration_s - max(1.0, 0.05 * info.duration_s):
        raise InputError(
            f"{path.name} is incomplete",
            f"its header says {info.duration_s:.1f} s but its data stops at {reached:.1f} s",
            _GET_AGAIN_HINT,
        )
    return info.model_copy(update={"frame_count": count}) if count else info


def _first_frame(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path
) -> av.video.frame.VideoFrame:
    codec = stream.codec_context.name if stream.codec_context else "unknown"
    try:
        for frame in container.decode(stream):
            return frame
    except (av.error.FFmpegError, ValueError) as exc:  # ValueError: no decoder for the codec
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(
            f"cannot decode {path.name}",
            f"its {codec} video stream fails to decode ({reason})",
            _REENCODE_HINT,
        ) from None
    raise InputError(
        f"cannot decode {path.name}",
        f"its {codec} video stream holds no decodable frame",
        _REENCODE_HINT,
    )


def _describe(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    frame: av.video.frame.VideoFrame,
) -> StreamInfo:
    width, height = stream.width or frame.width, stream.height or frame.height
    sar = stream.sample_aspect_ratio
    if sar and sar > 0 and sar != 1:
        width = round(width * sar)
    rotation = _rotation(stream, frame)
    if rotation in (90, 270):
        width, height = height, width
    fps = _fps(stream)
    duration = _duration(container, stream)
    frames = stream.frames or 0
    if frames <= 0 and duration > 0 and fps > 0:
        frames = round(duration * fps)
    if duration <= 0 and frames > 0 and fps > 0:
        duration = frames / fps
    if fps <= 0 and frames > 0 and duration > 0:
        fps = frames / duration
    return StreamInfo(
        width=int(width),
        height=int(height),
        fps=round(fps, 3),
        duration_s=round(duration, 3),
        frame_count=int(frames),
        codec=stream.codec_context.name if stream.codec_context else "unknown",
        rotation=rotation,
        variable_frame_rate=_variable_frame_rate(stream),
    )


def _rotation(stream: av.video.stream.VideoStream, frame: av.video.frame.VideoFrame) -> int:
    """Counter-clockwise degrees (0, 90, 180, 270) to turn a decoded frame for display.

    FFmpeg's display-matrix convention: ``numpy.rot90(image, k=rotation // 90)`` is upright.
    Old files carry a clockwise ``rotate`` tag instead.
    """
    degrees = float(getattr(frame, "rotation", 0) or 0)
    if not degrees:
        tag = stream.metadata.get("rotate", "")
        try:
            degrees = -float(tag)
        except ValueError:
            degrees = 0.0
    return (round(degrees / 90) * 90) % 360


def _fps(stream: av.video.stream.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and rate > 0:
            return float(rate)
    return 0.0


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _variable_frame_rate(stream: av.video.stream.VideoStream) -> bool:
    """Judge from the container's index (no decoding): do frame intervals differ?

    Phones and screen recorders write variable frame rates; later stages must then use
    timestamps, not frame numbers. Without an index, compare FFmpeg's two rate estimates.
    """
    entries = stream.index_entries
    count = min(len(entries), 3000)
    if count >= 4:
        stamps = sorted(entries[i].timestamp for i in range(count))
        steps = [b - a for a, b in itertools.pairwise(stamps) if b > a]
        if len(steps) >= 3:
            typical = statistics.median(steps)
            odd = sum(1 for s in steps if abs(s - typical) > 0.1 * typical)
            return odd > max(1, 0.02 * len(steps))
    avg, base = stream.average_rate, stream.base_rate
    if avg and base and avg > 0 and base > 0:
        return not math.isclose(float(avg), float(base), rel_tol=0.01)
    return False
