"""The downscale is OpenCV's, bit for bit: every check compares with ``cv2.resize`` itself."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adref.video.downscale import detect_size, linear_axis, plan, resize_like_opencv

SIZES = {
    "1080p": (1920, 1080),
    "720p": (1280, 720),
    "4k": (3840, 2160),
    "4:3": (640, 480),
    "4:3-1440": (1440, 1080),
    "portrait": (1080, 1920),
    "portrait-720": (720, 1280),
    "pal": (720, 576),
    "under": (200, 112),
    "at": (256, 144),
    "at-tall": (144, 256),
    "just-over": (257, 145),
    "odd": (333, 187),
    "odd-target": (300, 170),
    "halved": (512, 288),  # OpenCV's area average
    "halved-but-one": (512, 289),  # not exact: linear
    "thin": (2000, 3),
    "needle": (3, 2000),
    **{f"factor-{k}": (256 * k, 144 * k) for k in range(2, 9)},
}


def _pyscenedetect_downscale(frame: np.ndarray) -> np.ndarray:
    """SceneManager's auto-downscale, as scene_manager.py writes it."""
    h, w = frame.shape[:2]
    longest = max(w, h)
    if longest < 256:
        return frame
    factor = longest / float(256)
    if factor <= 1.0:
        return frame
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)


def _same(frame: np.ndarray) -> None:
    """Both ways in: an interleaved BGR grid, and planes of 16-bit words whose low bytes are
    the pixels (their high bytes are noise that must not leak into the result)."""
    h, w = frame.shape[:2]
    down = plan(w, h)
    expected = _pyscenedetect_downscale(frame)
    assert down.size == (expected.shape[1], expected.shape[0])
    assert np.array_equal(resize_like_opencv(frame, down), expected)
    grid = frame[down.rows][:, down.cols]
    noise = np.random.default_rng(w * h).integers(0, 256, grid.shape, np.uint16) << 8
    words = grid.astype(np.uint16) | noise
    assert np.array_equal(down.apply_planes([words[..., c] for c in range(3)]), expected)


@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
def test_random_frames_downscale_as_opencv_does(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(size))
    w, h = size
    _same(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


@pytest.mark.parametrize("size", [*SIZES.values(), (854, 480), (1080, 1350)], ids=str)
def test_extreme_levels_and_edges(size: tuple[int, int]) -> None:
    """Saturation at 0 and 255, and one-pixel edges where the weights decide everything (and
    the largest products: in 16 or 32 bits, whichever the size's weights allow)."""
    w, h = size
    rng = np.random.default_rng(7)
    _same(np.where(rng.random((h, w, 3)) < 0.5, 0, 255).astype(np.uint8))
    columns = np.zeros((h, w, 3), np.uint8)
    columns[:, ::2] = 255
    _same(columns)
    rows = np.zeros((h, w, 3), np.uint8)
    rows[::2] = 255
    _same(rows)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(w=st.integers(1, 1400), h=st.integers(1, 1400), seed=st.integers(0, 2**16))
def test_any_size(w: int, h: int, seed: int) -> None:
    frame = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    _same(frame)


@pytest.mark.parametrize(
    ("size", "bits"),
    [((1920, 1080), 16), ((1080, 1920), 16), ((1280, 720), 16), ((640, 360), 16), ((854, 480), 32)],
)
def test_common_sizes_run_in_16_bits(size: tuple[int, int], bits: int) -> None:
    down = plan(*size)
    down.apply(np.zeros((len(down.rows), len(down.cols), 3), np.uint8))
    (fixed,) = down._fixed.values()
    assert np.dtype(fixed.vertical_type).itemsize * 8 == bits


def test_only_the_pixels_it_names_are_read() -> None:
    """Scramble every pixel outside ``rows`` x ``cols``: OpenCV's resize must not change."""
    rng = np.random.default_rng(3)
    for w, h in [(1920, 1080), (480, 270), (1280, 720), (512, 288), (333, 187)]:
        frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        down = plan(w, h)
        noise = rng.integers(0, 256, frame.shape, dtype=np.uint8)
        keep = np.zeros((h, w), bool)
        keep[np.ix_(down.rows, down.cols)] = True
        scrambled = np.where(keep[:, :, None], frame, noise)
        assert np.array_equal(
            _pyscenedetect_downscale(scrambled), _pyscenedetect_downscale(frame)
        ), (w, h)


def test_an_odd_integer_scale_reads_one_pixel_per_output_pixel() -> None:
    """1280 to 256 is 5x: OpenCV's positions fall on pixel centres (weights 2048 and 0)."""
    axis = linear_axis(1280, 256)
    assert axis.second is None
    assert list(axis.first[:3]) == [2, 7, 12]
    assert plan(1280, 720).rows.size == 144


def test_detect_size_rounds_as_python_does() -> None:
    assert detect_size(1920, 1080) == (256, 144)
    assert detect_size(256, 300) == (218, 256)
    assert detect_size(256, 144) == (256, 144)  # factor 1: no resize
    assert detect_size(300, 170) == (256, 145)
