"""The tiny picture's formats: FFmpeg converts every (Y, U, V) of a 4:2:0 picture to the same BGR
as a 4:2:2 one, so decode.py converts 4:2:0 frames' gathered pixels in 4:2:2 (half the pixels);
and a 4:2:2 picture to the same BGR whether it is asked for BGR or planar GBR (the faster), but
for the last pixels of a row whose width is not a multiple of its SIMD step (decode.py's rows
never end in a pixel it reads: tests/test_detect_conformance.py's portrait-720x900)."""

from __future__ import annotations

import av
import numpy as np
import pytest
from av.video.reformatter import VideoReformatter

from adref.video.decode import _plane

_WIDTH = 4096  # 4096 x 4096 luma pixels: every (Y, U, V) triple once


def _every_triple(fmt: str, colorspace: int, color_range: int, to: str = "bgr24") -> np.ndarray:
    """BGR of each triple, indexed by Y | U << 8 | V << 16: each chroma sample of a ``fmt``
    picture is shared by 2 (4:2:2) or 4 (4:2:0) luma pixels, each with another Y."""
    cy = 2 if "420" in fmt else 1
    per = 2 * cy  # luma pixels per chroma sample
    height = _WIDTH
    r = np.arange(height)[:, None]
    c = np.arange(_WIDTH)[None, :]
    block = (r // cy) * (_WIDTH // 2) + c // 2
    uv = block // (256 // per)
    y = (block % (256 // per)) * per + (r % cy) * 2 + c % 2
    chroma = np.arange(height // cy)[:, None] * (_WIDTH // 2) + np.arange(_WIDTH // 2)[None, :]
    chroma_uv = chroma // (256 // per)
    frame = av.VideoFrame(_WIDTH, height, fmt)
    for plane, values in zip(frame.planes, (y, chroma_uv & 255, chroma_uv >> 8), strict=True):
        _plane(plane)[:] = values
    frame.colorspace = colorspace
    frame.color_range = color_range
    converted = VideoReformatter().reformat(frame, format=to)
    if to == "gbrp":
        green, blue, red = (_plane(p) for p in converted.planes)
        bgr = np.dstack([blue, green, red]).reshape(-1, 3)
    else:
        bgr = converted.to_ndarray().reshape(-1, 3)
    table = np.empty_like(bgr)
    table[(y | (uv << 8)).ravel()] = bgr
    return table


_TAGS = [(5, 1), (5, 2), (1, 1), (1, 2), (2, 0)]  # BT.601, BT.709: limited, full; untagged


@pytest.mark.parametrize(
    ("source", "tiny", "colorspace", "color_range"),
    [
        ("yuv420p", "yuv422p", 5, 1),  # BT.601, limited
        ("yuv420p", "yuv422p", 5, 2),  # BT.601, full
        ("yuv420p", "yuv422p", 1, 1),  # BT.709, limited
        ("yuv420p", "yuv422p", 1, 2),  # BT.709, full
        ("yuv420p", "yuv422p", 2, 0),  # untagged
        ("yuvj420p", "yuvj422p", 5, 2),
        ("yuvj420p", "yuvj422p", 1, 2),
    ],
)
def test_every_yuv_triple_converts_alike_in_420_and_422(
    source: str, tiny: str, colorspace: int, color_range: int
) -> None:
    assert np.array_equal(
        _every_triple(source, colorspace, color_range),
        _every_triple(tiny, colorspace, color_range),
    )


@pytest.mark.parametrize(("colorspace", "color_range"), _TAGS)
@pytest.mark.parametrize("tiny", ["yuv422p", "yuvj422p"])
def test_every_yuv_triple_converts_alike_to_bgr_and_planar_gbr(
    tiny: str, colorspace: int, color_range: int
) -> None:
    assert np.array_equal(
        _every_triple(tiny, colorspace, color_range),
        _every_triple(tiny, colorspace, color_range, to="gbrp"),
    )
