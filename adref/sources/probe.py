"""Open a file the way the decoder will and describe its picture, or say plainly why it cannot.

Every later stage trusts this answer, so a file that would fail or mislead them (empty, not a
video, audio only, cut off half way, undecodable) is refused here with a message a user can act
on. What counts as a video is decided positively: a stream in a real video codec, a picture of
some size, a frame that decodes and a duration worth analysing. FFmpeg opens far more than
videos (text read as CD+G karaoke graphics or ANSI art, subtitles, still images), and what it
merely manages to open must not be stored as an advert. Sizes are the displayed ones: phones
store landscape frames and a rotation, and anamorphic files store a pixel aspect; users and
layouts care about what a player shows.
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

__all__ = ["MIN_DURATION_S", "MIN_SIDE_PX", "VIDEO_CODECS", "probe_video"]

MIN_DURATION_S = 0.5  # shorter is a flash, not an advert: nothing for shots or a model to see
MIN_SIDE_PX = 16  # smaller is a tracking pixel or an icon, not a picture to analyse
# FFmpeg codec names of real footage: delivery, camera, editing and legacy web codecs, and
# animated GIF/APNG. An allow-list, because FFmpeg's other "video" codecs (CD+G graphics, text-
# mode art, screen-capture and game formats, still-image codecs) open text and junk files too,
# and each FFmpeg release adds more; a codec missing here is refused by name and can be added.
VIDEO_CODECS = frozenset(
    {
        *("h264", "hevc", "vvc", "av1", "vp8", "vp9", "vp3", "vp5", "vp6", "vp6a", "vp6f"),
        *("theora", "mpeg1video", "mpeg2video", "mpeg4", "msmpeg4v1", "msmpeg4v2", "msmpeg4v3"),
        *("h261", "h263", "h263p", "h263i", "flv1", "wmv1", "wmv2", "wmv3", "vc1", "cavs"),
        *("rv10", "rv20", "rv30", "rv40", "svq1", "svq3", "cinepak", "indeo3", "indeo4"),
        *("indeo5", "dirac", "prores", "dnxhd", "dvvideo", "mjpeg", "mjpegb", "jpeg2000"),
        *("cfhd", "hap", "ffv1", "huffyuv", "ffvhuff", "utvideo", "magicyuv", "rawvideo"),
        *("v210", "qtrle", "png", "gif", "apng"),
    }
)

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
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (b"\x1f\x8b", "a gzip archive"),
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
    head = _head(path)
    archive = _archive_kind(head)
    if archive is not None:
        # FFmpeg's raw-stream probes find start codes anywhere: a ZIP holding a video, or random
        # archive bytes, can read as H.264 or VVC.
        raise InputError(f"{path.name} is not a video file", f"it is {archive}", _VIDEO_HINT)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise _unopenable(path, size, head, exc) from None
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
        _check_picture_size(info, path)
        if info.duration_s <= 0:
            info = _measure_from_packets(path, stream.index, info)
        info = _check_data_reaches_end(container, stream, info, path)
        _check_duration(info, path)
        return info


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


def _unopenable(path: Path, size: int, head: bytes, exc: Exception) -> InputError:
    """Explain why FFmpeg cannot open a file, from what its first bytes look like."""
    reason = getattr(exc, "strerror", None) or str(exc)
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
    why = _content_kind(head) or f"FFmpeg does not recognise its format ({reason})"
    return InputError(f"{path.name} is not a video file", why, _VIDEO_HINT)


def _archive_kind(head: bytes) -> str | None:
    """A document or archive format no video container starts with, named."""
    return next((k for magic, k in _OTHER_MAGIC if head.startswith(magic)), None)


def _content_kind(head: bytes) -> str | None:
    """What a file's first bytes say it is, when that is plainly not a video (archives and
    documents are refused before FFmpeg opens the file, see ``_archive_kind``)."""
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")) or b"<html" in stripped[:256]:
        return "it is an HTML web page (a page was saved instead of the video)"
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # a multi-byte character cut at the end is still text
            return None
    return "it contains text"


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(512)


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
    videos = [s for s in pictures if _codec_name(s) in VIDEO_CODECS]
    if videos:
        return videos[0]
    if pictures:
        raise _not_a_video_codec(pictures[0], path)
    if not container.streams.audio:
        why = "it has no video stream"
        if container.streams.subtitles:
            codec = container.streams.subtitles[0].codec_context
            name = codec.codec.long_name if codec else "subtitles"
            why = f"it holds subtitles only ({name}), no picture"
        raise InputError(f"{path.name} is not a video file", why, _VIDEO_HINT)
    why = "it contains audio only, no video stream"
    if container.streams.video:
        why = "it contains audio and a cover picture, no video stream"
    raise InputError(f"{path.name} has no picture", why, _VIDEO_HINT)


def _codec_name(stream: av.stream.Stream) -> str:
    """FFmpeg's name for the codec, not for the decoder that reads it (AV1 decodes as libdav1d)."""
    context = stream.codec_context
    return context.codec.canonical_name if context else ""


def _not_a_video_codec(stream: av.stream.Stream, path: Path) -> InputError:
    """A picture stream FFmpeg found, but not a video: say what the file really is if it can."""
    why = _content_kind(_head(path))
    if why is None:
        context = stream.codec_context
        long_name = context.codec.long_name if context else "an unknown codec"
        why = f"FFmpeg reads it only as {long_name} ({_codec_name(stream)}), not as video"
    return InputError(f"{path.name} is not a video file", why, _VIDEO_HINT)


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


def _check_picture_size(info: StreamInfo, path: Path) -> None:
    if min(info.width, info.height) < MIN_SIDE_PX:
        raise InputError(
            f"{path.name} is too small to analyse",
            f"its picture is {info.width}x{info.height} pixels, under {MIN_SIDE_PX} on a side",
            _VIDEO_HINT,
        )


def _measure_from_packets(path: Path, index: int, info: StreamInfo) -> StreamInfo:
    """Duration and frame count of a stream whose container states neither (raw H.264, APNG).

    Reads packet headers only; packets without timestamps are counted at the stream's rate.
    """
    count, first, last_end = 0, math.inf, 0.0
    with av.open(str(path), metadata_errors="ignore") as again:
        stream = again.streams[index]
        tb = stream.time_base
        try:
            for packet in again.demux(stream):
                if packet.size == 0:
                    continue
                count += 1
                if packet.pts is not None and tb is not None:
                    start = float(packet.pts * tb)
                    first = min(first, start)
                    last_end = max(last_end, start + float((packet.duration or 0) * tb))
        except av.error.FFmpegError:
            pass  # a damaged tail: what was read still measures the rest
    duration = last_end - first if last_end > first else 0.0
    if duration <= 0 and info.fps > 0:
        duration = count / info.fps
    return info.model_copy(update={"duration_s": round(duration, 3), "frame_count": count})


def _check_duration(info: StreamInfo, path: Path) -> None:
    if info.duration_s >= MIN_DURATION_S:
        return
    frames = f"{info.frame_count} frame{'s' if info.frame_count != 1 else ''}"
    raise InputError(
        f"{path.name} is too short to analyse",
        f"it lasts {info.duration_s:.2f} s ({frames}), under the minimum of {MIN_DURATION_S:g} s",
        "Give the whole video, or a longer cut of it",
    )


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
