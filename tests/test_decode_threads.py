"""The same file decodes to the same frames every time: FFmpeg's VP3/Theora decoder, with frame
threads, gives frames that differ from run to run (measured: 2 of 12 decodings of this clip), so
adref decodes it with slice threads only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adref.video.decode import VideoReader, thread_type
from tests.support.conformance import Clip, fade, grey, make, shot


def test_theora_decodes_to_the_same_frames_every_time(tmp_path: Path) -> None:
    segs = (shot(3, 1), grey(128, 2), fade(0, 200, 2), shot(2, 3))
    path = make(Clip("theora", segs, size=(320, 240), codec="libtheora", ext="ogv"), tmp_path)
    runs = []
    for _ in range(12):
        with VideoReader(path) as reader:
            runs.append(np.stack([f.small for f in reader.frames()]))
    assert len(runs[0]) == 9
    assert all(np.array_equal(run, runs[0]) for run in runs[1:])


def test_only_theora_gives_up_frame_threads() -> None:
    assert thread_type("theora") == thread_type("vp3") == "SLICE"
    assert {thread_type(c) for c in ("h264", "hevc", "vp9", "libdav1d", "mpeg4")} == {"AUTO"}
