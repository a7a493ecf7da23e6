"""Decoding runs a few packets ahead on its own thread: the frames, their order and a decoding
error must reach the caller as if it decoded them itself, and stopping early leaves no thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from adref.video.decode import VideoReader, _ReadAhead
from adref.video.testclips import make_clip


def _decode_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "adref-decode"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ahead") / "rapid.mp4"
    make_clip("rapid", path, width=320, height=180)
    return path


def test_the_same_frames_in_the_same_order_as_decoding_in_line(clip: Path) -> None:
    with VideoReader(clip) as reader:
        ahead = [(f.index, f.pts, f.small.copy(), f.luma.copy()) for f in reader.frames()]
    with VideoReader(clip) as reader:
        in_line = [
            (i, frame.pts, *reader._small(frame)[:2])
            for i, frame in enumerate(f for packet in reader._decoded_packets() for f in packet)
        ]
    assert len(ahead) == len(in_line) > 20
    for (i, _, small, luma), (j, _, small2, luma2) in zip(ahead, in_line, strict=True):
        assert i == j
        assert np.array_equal(small, small2) and np.array_equal(luma, luma2), i
    assert [p for _, p, *_ in ahead] == sorted({p for _, p, *_ in ahead})


def test_stopping_after_a_few_frames_leaves_no_decoding_thread(clip: Path) -> None:
    with VideoReader(clip) as reader:
        for frame in reader.frames():
            if frame.index == 3:
                break
        assert not _decode_threads(), "leaving the loop stops the thread"
        frames = reader.frames()  # held: only closing the reader can stop it
        assert next(frames).index == 0
        assert _decode_threads()
    assert not _decode_threads()


def test_an_error_while_decoding_reaches_the_caller() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("broken container")

    ahead = _ReadAhead(source(), 1)
    got: list[int] = []
    with pytest.raises(RuntimeError, match="broken container"):
        got.extend(ahead)
    assert got == [1, 2]
    ahead.close()


def test_close_while_the_queue_is_full_stops_the_thread() -> None:
    made: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            made.append(n)
            yield n
            n += 1

    ahead = _ReadAhead(endless(), 2)
    while len(made) < 3:  # two queued, a third waiting to be put
        time.sleep(0.01)
    ahead.close()
    assert not _decode_threads()
    assert len(made) == 3
