"""Full-resolution pictures of a few chosen moments of a video, as grey levels.

The detect stage keeps only 480-pixel keyframes: a super 40 pixels tall in a 1080p frame is 18
there, too small for Tesseract. So the text step decodes the moments it reads again, at full
size, with its own small PyAV loop (the detect stage's reader decodes every frame for its
features; here most frames are skipped by seeking). Only the luma plane is kept: the line
preparation separates text from background by brightness.

Times are those of the detect stage (seconds from the first frame's timestamp), so a moment is
found by the same clock. Moments are visited in order; a seek is made only when the next one
is further ahead than decoding through would cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from adref.errors import InputError
from adref.video.decode import normalise_rotation, readable_colours, thread_type, upright

# Decoding ~2 s of 1080p costs about what a seek does. Encoders put a key frame at each cut,
# so a seek to a shot lands near its start; decoding through whole shots instead was slower.
_SEEK_AFTER_S = 2.0
_CLOSE_S = 0.2  # a decoded frame this far before the asked time stands for it


def grey_frames(path: Path, times: list[float]) -> Iterator[tuple[float, np.ndarray]]:
    """(time asked for, upright grey picture at display size) for each time, in time order; a
    time past the end gets the last frame."""
    wanted = sorted(set(times))
    if not wanted:
        return
    try:
        container = av.open(str(path), mode="r", metadata_errors="replace")
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(f"{Path(path).name} cannot be read again for its text", str(exc)) from None
    with container:
        stream = _picture_stream(container, path)
        stream.thread_type = thread_type(stream.codec_context.name)
        tb = Fraction(stream.time_base or Fraction(1, 90000))
        sar = stream.codec_context.sample_aspect_ratio
        stretch = float(sar) if sar and sar > 0 else 1.0
        first = _first_pts(container, stream)
        # Frames nothing refers to (most B-frames) are not decoded at all: a third of the work
        # on a typical H.264 ad. The moment read is then the nearest decoded frame, a few
        # frames off at most, taken before the asked time when one is close, so a moment near
        # a shot's end is not read from the next shot's first frame.
        stream.codec_context.skip_frame = "NONREF"
        position: float | None = None  # time of the last decoded frame
        last: av.VideoFrame | None = None
        frames: Iterator[av.VideoFrame] | None = None
        for t in wanted:
            if frames is None or position is None or t < position or t - position > _SEEK_AFTER_S:
                container.seek(first + int(t / tb), stream=stream, backward=True)
                frames = container.decode(stream)
                last = None
            before: tuple[float, av.VideoFrame] | None = None
            found = None
            for frame in frames:
                if last is not None and position is not None and position <= t:
                    before = (position, last)
                last = frame
                position = float((frame.pts - first) * tb) if frame.pts is not None else t
                if position + 1e-3 >= t:
                    found = frame
                    break
            if before is not None and (found is None or t - before[0] <= _CLOSE_S):
                found = before[1]
            chosen = found or last
            if chosen is None:
                return
            yield t, _grey(chosen, stretch)


def _picture_stream(container: av.container.InputContainer, path: Path) -> av.VideoStream:
    still = av.stream.Disposition.attached_pic | av.stream.Disposition.still_image
    streams = [s for s in container.streams.video if not s.disposition & still]
    if not streams:
        raise InputError(f"{Path(path).name} has no video stream")
    return max(streams, key=lambda s: (s.codec_context.width or 0) * (s.codec_context.height or 0))


def _first_pts(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    """The first frame's timestamp: time zero of the detect stage's clock."""
    for frame in container.decode(stream):
        return int(frame.pts or 0)
    return 0


def _grey(frame: av.VideoFrame, stretch: float) -> np.ndarray:
    """``stretch``: the pixels' aspect (anamorphic video), applied as a player would."""
    readable_colours(frame)
    grey: np.ndarray = frame.to_ndarray(format="gray")
    if abs(stretch - 1.0) > 1e-3:
        grey = cv2.resize(grey, (round(grey.shape[1] * stretch), grey.shape[0]))
    return upright(grey, normalise_rotation(getattr(frame, "rotation", 0)))
