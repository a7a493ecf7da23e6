"""Pictures for the models: every group kept, vendor-efficient sizes, labels drawn, never enlarged."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from adref.errors import InputError
from adref.models import Grouping, SceneGroup, VideoMeta
from adref.providers.base import AnalysisRequest
from adref.providers.remote.cost_estimates import image_tokens
from adref.providers.remote.image_cap import SHEET_MOST_GROUPS, ImageMode, left_out, shown_groups
from adref.providers.remote.images import (
    FRAME_BOX,
    MIN_CELL_SHORT,
    Frame,
    decode_jpeg,
    drawn_text,
    encode_jpeg,
    fit_within,
    label_box,
    plan_sheets,
    prepare,
    prepare_images,
    select_frames,
    sheet_capacity,
    sheet_fits,
    sheet_label,
)
from adref.providers.remote.vendor_call import Vendor
from tests.factories import make_shots, make_stream

VENDORS: tuple[Vendor, ...] = ("openai", "anthropic", "gemini")
MODES: tuple[ImageMode, ...] = ("frames", "contact_sheet")
# Distinct flat colours (BGR), far apart so JPEG cannot blur one into another.
COLOURS = [
    (40, 40, 220),
    (40, 200, 40),
    (220, 60, 40),
    (30, 220, 230),
    (220, 40, 220),
    (220, 220, 40),
    (128, 128, 128),
    (20, 120, 240),
    (240, 140, 20),
    (120, 20, 120),
    (200, 200, 200),
    (60, 110, 40),
    (10, 60, 130),
    (150, 90, 200),
    (90, 200, 150),
    (160, 30, 60),
    (240, 240, 240),
    (70, 70, 70),
    (30, 160, 100),
    (100, 30, 200),
]


def solid_jpeg(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    return encode_jpeg(np.full((height, width, 3), colour, np.uint8))


def make_frames(n: int, width: int = 480, height: int = 270) -> list[Frame]:
    return [
        Frame(
            group_index=i,
            start_s=i * 2.0,
            end_s=i * 2.0 + 2.0,
            jpeg=solid_jpeg(width, height, COLOURS[i % len(COLOURS)]),
            width=width,
            height=height,
            label=f"group {i} · {i * 2.0:.1f}-{i * 2.0 + 2.0:.1f} s",
        )
        for i in range(n)
    ]


def request_for(n_groups: int, analysis: list[int], size: tuple[int, int]) -> AnalysisRequest:
    """Two shots per group; the second shot of each group is its representative."""
    shots = make_shots([("warm", 1.0)] * (2 * n_groups))
    w, h = size
    shots = [
        s.model_copy(update={"keyframe_jpeg": solid_jpeg(w, h, COLOURS[s.shot_index // 2])})
        for s in shots
    ]
    groups = [
        SceneGroup(
            group_index=g,
            shot_indices=[2 * g, 2 * g + 1],
            start_s=2.0 * g,
            end_s=2.0 * g + 2.0,
            representative_shot=2 * g + 1,
        )
        for g in range(n_groups)
    ]
    return AnalysisRequest(
        meta=VideoMeta(video_id="test:1"),
        stream=make_stream(2.0 * n_groups),
        shots=shots,
        grouping=Grouping(groups=groups, analysis_groups=analysis, granularity=5, short_form=True),
    )


def centre_colour(image: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    patch = image[y + h // 2 - 3 : y + h // 2 + 3, x + w // 2 - 3 : x + w // 2 + 3]
    return patch.reshape(-1, 3).mean(axis=0)


# select_frames


def test_select_frames_one_per_analysed_group_in_time_order() -> None:
    request = request_for(5, analysis=[3, 0, 4], size=(480, 270))
    frames = select_frames(request)
    assert [f.group_index for f in frames] == [0, 3, 4]
    assert [f.jpeg for f in frames] == [request.shots[2 * g + 1].keyframe_jpeg for g in (0, 3, 4)]
    assert (frames[0].width, frames[0].height) == (480, 270)
    assert frames[1].label == "group 3 · 6.0-8.0 s"
    assert (frames[1].start_s, frames[1].end_s) == (6.0, 8.0)


def test_select_frames_never_larger_than_the_video() -> None:
    request = request_for(2, analysis=[0, 1], size=(480, 270))  # thumbnails of a smaller video
    request = request.model_copy(update={"stream": make_stream(4.0, width=320, height=180)})
    frames = select_frames(request)
    for f in frames:
        assert (f.width, f.height) == (320, 180)
        assert decode_jpeg(f.jpeg, "frame").shape[:2] == (180, 320)


def test_select_frames_rejects_an_undecodable_keyframe() -> None:
    request = request_for(2, analysis=[0, 1], size=(480, 270))
    request.shots[1] = request.shots[1].model_copy(update={"keyframe_jpeg": b"not a jpeg"})
    with pytest.raises(InputError, match="cannot be decoded"):
        select_frames(request)


# sizes


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((480, 270), (512, 512), (480, 270)),  # small enough: never enlarged
        ((480, 270), (384, 384), (384, 216)),
        ((480, 853), (512, 512), (288, 512)),
        ((1920, 1080), (384, 384), (384, 216)),
        ((100, 50), (384, 384), (100, 50)),
    ],
)
def test_fit_within(size: tuple[int, int], box: tuple[int, int], expected: tuple[int, int]) -> None:
    assert fit_within(*size, *box) == expected


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("size", [(480, 270), (480, 853), (300, 300), (200, 120)])
def test_frames_mode_sizes_are_efficient_and_never_enlarged(
    vendor: Vendor, size: tuple[int, int]
) -> None:
    w, h = size
    parts = prepare_images(make_frames(3, w, h), vendor, "frames")
    box_w, box_h = FRAME_BOX[vendor]
    for part in parts:
        assert part.width <= min(w, box_w) and part.height <= min(h, box_h)
        assert abs(part.width / part.height - w / h) < 0.02  # shape kept
        decoded = decode_jpeg(part.data, "part")
        assert decoded.shape[:2] == (part.height, part.width)
    # the vendor's minimum for one image: one OpenAI tile, one Gemini small image
    if vendor == "openai":
        assert all(
            image_tokens(vendor, "gpt-4o", p.width, p.height, p.detail) == 255 for p in parts
        )
        assert all(p.detail == "high" for p in parts)
    if vendor == "gemini":
        assert all(image_tokens(vendor, "", p.width, p.height) == 258 for p in parts)


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("n", [1, 2, 5, 10, 17, 30])
@pytest.mark.parametrize("size", [(480, 270), (480, 853)])
def test_sheet_plans_fit_the_vendor_and_keep_frames_readable(
    vendor: Vendor, n: int, size: tuple[int, int]
) -> None:
    w, h = size
    sheets = plan_sheets(n, w, h, vendor)
    assert sum(s.count for s in sheets) == n
    assert len(sheets) == -(-n // sheet_capacity(vendor, w, h))  # as few as the capacity allows
    assert max(s.count for s in sheets) - min(s.count for s in sheets) <= 1  # filled evenly
    for s in sheets:
        assert sheet_fits(vendor, s.width, s.height)
        assert min(s.cell_w, s.cell_h) >= MIN_CELL_SHORT
        assert s.cell_w <= w and s.cell_h <= h  # never enlarged
        assert s.cols * s.rows >= s.count
        assert (s.rows - 1) * s.cols < s.count  # no empty row


def test_sheet_sizes_per_vendor() -> None:
    # OpenAI: within 6 tiles with the short side at most 768; Gemini: one 768x768 tile;
    # Claude: within 1568 px and 1.15 MP.
    assert sheet_fits("openai", 1536, 768) and not sheet_fits("openai", 1537, 768)
    assert not sheet_fits("openai", 1024, 1024)  # short side over 768: OpenAI would shrink it
    assert sheet_fits("gemini", 768, 768) and not sheet_fits("gemini", 769, 500)
    assert sheet_fits("anthropic", 1568, 700) and not sheet_fits("anthropic", 1569, 100)
    assert not sheet_fits("anthropic", 1200, 1000)
    for vendor in VENDORS:
        for s in plan_sheets(10, 480, 270, vendor):
            tokens = image_tokens(vendor, "", s.width, s.height, "high")
            assert tokens <= {"openai": 1105, "anthropic": 1534, "gemini": 258}[vendor]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("size", [(480, 270), (270, 480), (480, 204)])
@pytest.mark.parametrize(("n", "max_sheets"), [(12, 1), (30, 3), (120, 10), (40, 10)])
def test_a_cap_on_sheets_squeezes_every_frame_in(
    vendor: Vendor, size: tuple[int, int], n: int, max_sheets: int
) -> None:
    w, h = size
    assert n <= shown_groups("contact_sheet", max_sheets)
    sheets = plan_sheets(n, w, h, vendor, max_sheets)
    assert sum(s.count for s in sheets) == n and len(sheets) <= max_sheets
    if n <= max_sheets * sheet_capacity(vendor, w, h):
        assert sheets == plan_sheets(n, w, h, vendor), "squeezed only when the cap needs it"
    for s in sheets:
        assert sheet_fits(vendor, s.width, s.height)
        assert min(s.cell_w, s.cell_h) >= 100  # smaller than usual, still a picture
        assert (s.rows - 1) * s.cols < s.count


def test_the_cap_on_images_limits_groups_in_frames_mode_only() -> None:
    assert shown_groups("frames", 10) == 10
    assert shown_groups("contact_sheet", 10) == 10 * SHEET_MOST_GROUPS
    frames = make_frames(19)
    sheets = prepare(frames, "gemini", "contact_sheet", max_sheets=1)
    assert len(sheets) == 1 and sheets[0].groups == tuple(range(19))
    assert left_out(12, list(range(12)), "contact_sheet", 10) is None
    note = left_out(12, [0, *range(3, 12)], "frames", 10)
    assert note is not None
    assert note.startswith("scene groups 1, 2 not shown to the model (2 of 12)")
    assert "ADREF_IMAGE_MODE=frames" in note and "ADREF_MAX_ANALYSIS_IMAGES=10" in note


def test_an_elongated_frame_still_fits_a_sheet() -> None:
    sheets = plan_sheets(3, 1200, 180, "gemini")  # 180 px short side would be 1200 px wide
    assert all(sheet_fits("gemini", s.width, s.height) for s in sheets)


# every group represented


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n", [1, 4, 10, 19])
def test_every_group_is_represented(vendor: Vendor, mode: ImageMode, n: int) -> None:
    request = request_for(n, analysis=list(range(n)), size=(480, 270))
    prepared = prepare(select_frames(request), vendor, mode)
    shown = [g for p in prepared for g in p.groups]
    assert shown == list(range(n))
    if mode == "frames":
        assert len(prepared) == n
    else:
        assert len(prepared) == len(plan_sheets(n, 480, 270, vendor))


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("size", [(480, 270), (480, 853)])
def test_contact_sheet_places_every_frame_in_order(vendor: Vendor, size: tuple[int, int]) -> None:
    frames = make_frames(12, *size)
    prepared = prepare(frames, vendor, "contact_sheet")
    placed = 0
    for p in prepared:
        assert p.layout is not None
        sheet = decode_jpeg(p.part.data, "sheet")
        assert sheet.shape[:2] == (p.part.height, p.part.width)
        assert (p.layout.width, p.layout.height) == (p.part.width, p.part.height)
        for i, group in enumerate(p.groups):
            x, y = p.layout.cell_origin(i)
            got = centre_colour(sheet, x, y, p.layout.cell_w, p.layout.cell_h)
            assert np.abs(got - np.array(COLOURS[group])).max() < 12, (group, got)
            placed += 1
    assert placed == len(frames)


def test_contact_sheet_labels_are_drawn() -> None:
    grey = (128, 128, 128)
    frames = [
        Frame(i, i, i + 1, solid_jpeg(480, 270, grey), 480, 270, f"group {i} · {i}.0-{i + 1}.0 s")
        for i in range(6)
    ]
    (p,) = prepare(frames, "gemini", "contact_sheet")
    assert p.layout is not None
    sheet = cv2.cvtColor(decode_jpeg(p.part.data, "sheet"), cv2.COLOR_BGR2GRAY)
    for i, frame in enumerate(frames):
        x, y = p.layout.cell_origin(i)
        _, _, bw, bh = label_box(drawn_text(frame.label), p.layout.cell_w, p.layout.cell_h)
        box = sheet[y : y + bh, x : x + bw]
        assert (box > 200).mean() > 0.02, f"no text drawn on frame {i}"  # white letters
        assert (box < 40).mean() > 0.3, f"no backing box on frame {i}"  # black box
        below = sheet[y + bh + 10 : y + p.layout.cell_h - 10, x + 10 : x + p.layout.cell_w - 10]
        assert np.abs(below.astype(int) - 128).max() < 20  # the picture itself is untouched
    assert p.part.label.startswith("groups 0-5 · 0.0-6.0 s")


def test_sheet_label_names_scattered_groups() -> None:
    frames = [f for f in make_frames(8) if f.group_index in (0, 2, 3, 7)]
    assert sheet_label(frames).startswith("groups 0, 2, 3, 7 · 0.0-16.0 s")
    assert sheet_label(frames[:1]) == frames[0].label
    assert drawn_text("group 2 · 4.0–7.5 s") == "group 2 | 4.0-7.5 s"


def test_no_frames_no_images() -> None:
    assert prepare_images([], "openai", "contact_sheet") == []
    assert prepare_images([], "gemini", "frames") == []
