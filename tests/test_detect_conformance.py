"""adref's hard cuts are PySceneDetect's: the same frames its own SceneManager finds.

Each clip is made here from data (``tests/support/conformance.py``), decoded by PySceneDetect
its own way (OpenCV) and by adref's one pass, and the cut frames compared with fades off and
the same detector and parameters. No tolerance: where the two may only differ because the
decoders differ, the clip says so and why.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adref.video.detect import detect_shots
from adref.video.params import DetectParams
from tests.support.conformance import (
    Clip,
    Seg,
    adref_frames,
    adref_view,
    fade,
    frames,
    grey,
    made,
    make,
    params_for,
    pyscenedetect_frames,
    pyscenedetect_view,
    shot,
)

DETECTORS = ["adaptive", "content"]
NTSC = "30000/1001"
X265 = ("-x265-params", "log-level=none")
VP9 = ("-deadline", "realtime", "-cpu-used", "8")

# The three clips of issue 12, each of which today's adref got wrong.
GREY_FADE = Clip(
    "grey-fade-mpeg4",
    (fade(0, 255, 45), fade(255, 0, 45)) * 3,
    size=(480, 320),
    fps=NTSC,
    codec="mpeg4",
    grey_input=True,
)
TRIMMED = Clip("trimmed-edit-list", (shot(10, 1), shot(40, 2), shot(30, 3)), trim_s=1.0)
# The 0.64 s cut: a fade in from black whose picture starts after its stream does. Adaptive's
# rolling window first fills on the fade's 15th frame, the first the minimum length allows.
DELAYED_FADE_IN = Clip(
    "delayed-start-fade-in",
    (fade(0, 230, 40), shot(40, 1)),
    size=(480, 320),
    codec="mpeg4",
    grey_input=True,
    vf="setpts=PTS+0.64/TB",
)
BLACK_LEAD = Clip(
    "black-lead-then-fade-in",
    (grey(0, 16), fade(0, 230, 40), shot(40, 1)),
    size=(480, 320),
    codec="mpeg4",
    grey_input=True,
)
LAST_CUT = Clip(
    "cut-15-frames-before-end",
    (shot(40, 1), shot(40, 2), shot(40, 3), shot(15, 4), shot(15, 5)),
    fps=NTSC,
)

# Over 256 px PySceneDetect sees each pixel mixed from its neighbours (OpenCV's linear resize),
# never one source pixel: 1-pixel stripes that swap phase change every sampled pixel fully but
# the mixed ones by half on average (scores 20 and 10 for a 60-level swap, 40 and 20 for a
# 120-level one), so nearest sampling cut where PySceneDetect did not: at frame 20 for
# AdaptiveDetector (min_content_val 15), at 80 for ContentDetector (threshold 27).
STRIPES = Clip(
    "stripes-swap-at-threshold",
    (
        Seg(20, (128,) * 3, stripes=60),
        Seg(20, (128,) * 3, stripes=60, phase=1),
        Seg(20, (30,) * 3),
        Seg(20, (128,) * 3, stripes=120),
        Seg(20, (128,) * 3, stripes=120, phase=1),
    ),
    size=(480, 270),
    grey_input=True,
    out_args=("-qp", "0", "-preset", "ultrafast"),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("conformance")


def _agree(clip: Clip, folder: Path, kind: str) -> list[int]:
    path = made(clip, folder)
    params = params_for(kind, clip.fps)
    theirs = pyscenedetect_frames(path, kind, params)
    assert adref_frames(path, params) == theirs
    return theirs


@pytest.mark.parametrize("kind", DETECTORS)
def test_neutral_grey_fade_makes_no_false_cuts(folder: Path, kind: str) -> None:
    _agree(GREY_FADE, folder, kind)


def test_greys_reach_the_detector_as_pyscenedetect_sees_them(folder: Path) -> None:
    """One level off turns a neutral grey's hue from 0 to 90: compare every pixel."""
    path = made(GREY_FADE, folder)
    theirs = pyscenedetect_view(path)
    ours = adref_view(path)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a.shape == b.shape, i
        assert np.array_equal(a, b), (i, a[0, 0], b[0, 0])


@pytest.mark.parametrize("kind", DETECTORS)
def test_a_clip_trimmed_by_an_edit_list(folder: Path, kind: str) -> None:
    """Its container counts the frames the edit list hides; only the shown ones are the video."""
    assert _agree(TRIMMED, folder, kind) == [25]


@pytest.mark.parametrize("kind", DETECTORS)
def test_no_cut_where_a_delayed_picture_fades_in(folder: Path, kind: str) -> None:
    """The only cut is where the faded-in grey gives way to the picture (adaptive only)."""
    assert _agree(DELAYED_FADE_IN, folder, kind) == {"adaptive": [40], "content": []}[kind]


@pytest.mark.parametrize("kind", DETECTORS)
def test_no_cut_where_black_gives_way_to_a_fade_in(folder: Path, kind: str) -> None:
    assert _agree(BLACK_LEAD, folder, kind) == {"adaptive": [56], "content": []}[kind]


@pytest.mark.parametrize("kind", DETECTORS)
def test_a_cut_fifteen_frames_before_the_end_at_ntsc_rate(folder: Path, kind: str) -> None:
    """Exactly the minimum shot length apart: float times lost it, exact ones keep it."""
    assert _agree(LAST_CUT, folder, kind) == [40, 80, 120, 135]


@pytest.mark.parametrize("kind", DETECTORS)
def test_stripes_swapping_phase_cut_only_where_the_linear_downscale_does(
    folder: Path, kind: str
) -> None:
    """The frames PySceneDetect's downscale makes, not the nearest pixels, decide the cut."""
    assert _agree(STRIPES, folder, kind) == {"adaptive": [40, 60, 80], "content": [40, 60]}[kind]


# The corpus: one row per clip, ~2 s each. Cuts are PySceneDetect's (the oracle runs here);
# ``differs`` says where, and why, the two decoders may disagree.
MIXED = (shot(16, 1), shot(17, 2), grey(128, 16), shot(14, 3))
BW = (Seg(20, texture=4), Seg(18, (90, 90, 90), texture=5), Seg(16, (200,) * 3, texture=6))
VFR = "round(if(lt(N,20),N*0.04,if(lt(N,35),0.8+(N-20)*0.08,2.0+(N-35)*0.02))/TB)"


def _rotated(name: str, degrees: int, size: tuple[int, int], fps: str = "25") -> Clip:
    """A clip whose container asks players to turn it (the pixels stay as encoded)."""
    return Clip(
        name,
        MIXED,
        size=size,
        fps=fps,
        in_args=("-display_rotation", str(degrees), "-noautorotate"),
        pixels="OpenCV turns frames upright, adref reads them as stored (same HSV differences)",
    )


# Interlaced H.264, as broadcast spots are: OpenCV's conversion refuses such frames, adref reads
# them (see test_interlaced_frames_reach_pyscenedetect_broken).
INTERLACED = Clip(
    "interlaced-h264",
    MIXED,
    size=(320, 240),
    ext="mkv",
    out_args=("-flags", "+ildct+ilme", "-x264opts", "tff=1"),
    differs="OpenCV's conversion refuses interlaced frames: PySceneDetect sees black or stale ones",
    pixels="OpenCV's conversion refuses interlaced frames: PySceneDetect gets black or stale ones",
)

CORPUS = [
    # pixel formats
    Clip("fmt-yuv420p", MIXED),
    Clip("fmt-yuvj420p", MIXED, codec="mjpeg", pix_fmt="yuvj420p", ext="avi"),
    Clip("fmt-yuv422p", MIXED, pix_fmt="yuv422p"),
    Clip("fmt-yuv444p", MIXED, pix_fmt="yuv444p"),
    Clip(
        "fmt-yuv420p10le",
        MIXED,
        codec="libx265",
        pix_fmt="yuv420p10le",
        out_args=X265,
    ),
    Clip("fmt-gray", BW, codec="ffv1", pix_fmt="gray", ext="mkv", grey_input=True),
    Clip("fmt-rgb24", MIXED, codec="libx264rgb", pix_fmt="rgb24", ext="mkv"),
    # formats FFmpeg converts with no direct path: chroma upsampled by OpenCV's (bicubic) flags
    Clip("fmt-yuv411p", MIXED, codec="ffv1", pix_fmt="yuv411p", ext="mkv"),  # DV's NTSC format
    Clip("fmt-yuv410p", MIXED, codec="ffv1", pix_fmt="yuv410p", ext="mkv"),
    pytest.param(  # PySceneDetect logs an error: OpenCV reads no FOURCC for raw video
        Clip("fmt-nv12", MIXED, codec="rawvideo", pix_fmt="nv12", ext="avi"),
        marks=pytest.mark.expected_error_log(match="Video codec detection failed"),
    ),
    # colour matrices and ranges, tagged as encoded
    Clip("bt601-limited", MIXED, out_args=("-colorspace", "smpte170m")),
    Clip(
        "bt709-limited",
        MIXED,
        vf="scale=out_color_matrix=bt709",
        out_args=("-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"),
    ),
    Clip(
        "bt601-full",
        MIXED,
        vf="scale=out_range=full",
        out_args=("-colorspace", "smpte170m", "-color_range", "pc"),
    ),
    Clip(
        "bt709-full",
        MIXED,
        vf="scale=out_color_matrix=bt709:out_range=full",
        out_args=("-colorspace", "bt709", "-color_range", "pc"),
    ),
    # codecs
    Clip("codec-hevc", MIXED, codec="libx265", out_args=X265),
    Clip("codec-mpeg4", MIXED, codec="mpeg4", size=(480, 320), fps=NTSC),
    Clip("codec-vp9", MIXED, codec="libvpx-vp9", ext="webm", out_args=VP9),
    Clip("codec-mjpeg", MIXED, codec="mjpeg", pix_fmt="yuvj422p", ext="avi"),
    # pictures
    Clip("neutral-greys", tuple(grey(v, 12) for v in (20, 128, 135, 140, 230)), grey_input=True),
    Clip("black-and-white", BW, grey_input=True),
    Clip("fade-through-grey", (shot(16, 1), fade(128, 128, 4), shot(20, 2)), size=(200, 120)),
    Clip("fade-through-black", (fade(200, 0, 12), fade(0, 200, 12), shot(20, 2))),
    Clip(
        "white-background-product",
        (Seg(30, (255, 255, 255), product=True), Seg(25, (240, 240, 240), product=True)),
    ),
    Clip("flash-frames", (shot(20, 1), Seg(1, (255, 255, 255)), shot(20, 1), shot(12, 2))),
    # sizes around PySceneDetect's 256-pixel downscale
    Clip("width-200", MIXED, size=(200, 112)),
    Clip("width-256", MIXED, size=(256, 144)),
    Clip("width-480", MIXED, size=(480, 270), fps=NTSC),
    Clip("width-333-odd-yuv444p", MIXED, size=(333, 187), pix_fmt="yuv444p"),
    # odd sizes FFmpeg converts by its general scaler, not the direct path: whole frames
    Clip("odd-333x187-yuv420p", MIXED, size=(333, 187), codec="ffv1", ext="mkv"),
    Clip("odd-257x145-yuv422p", MIXED, size=(257, 145), codec="ffv1", pix_fmt="yuv422p", ext="mkv"),
    Clip("odd-321x241-vp9", MIXED, size=(321, 241), codec="libvpx-vp9", ext="webm", out_args=VP9),
    Clip("odd-width-333x188-yuv420p", MIXED, size=(333, 188), codec="ffv1", ext="mkv"),  # direct
    Clip("width-300-odd-target", MIXED, size=(300, 170)),  # 256x145
    Clip("width-512-halved", MIXED, size=(512, 288)),  # OpenCV's exact 2x: an area average
    Clip("portrait-270x480", MIXED, size=(270, 480)),
    Clip("width-640-4x3", MIXED, size=(640, 480)),
    # 205x256: the converted rows are 820 pixels, and FFmpeg converts the last 4 apart
    Clip("portrait-720x900", MIXED, size=(720, 900)),
    INTERLACED,
    # containers and timing
    _rotated("rotated", 90, (96, 160)),
    _rotated("rotated-over-256", 90, (480, 270)),
    _rotated("rotated-180-ntsc", 180, (640, 360), fps=NTSC),
    Clip(
        "variable-frame-rate",
        MIXED,
        vf=f"settb=1/1000,setpts='{VFR}'",
        out_args=("-fps_mode", "passthrough", "-enc_time_base", "1/1000"),
    ),
    Clip("first-pts-delayed-edit-list", MIXED, vf="setpts=PTS+0.64/TB"),
    Clip("first-pts-delayed-mkv", MIXED, vf="setpts=PTS+0.64/TB", ext="mkv"),
    Clip("mpeg-ts", MIXED, ext="ts"),
    Clip("edit-list", (shot(10, 1), *MIXED), out_args=("-g", "250"), trim_s=0.4),
    Clip("cut-in-first-15", (shot(6, 1), shot(30, 2), shot(20, 3))),
    Clip("cut-in-last-15", (shot(30, 1), shot(24, 2), shot(6, 3)), fps=NTSC),
]


@pytest.mark.parametrize("kind", DETECTORS)
@pytest.mark.parametrize("clip", CORPUS, ids=lambda c: c.name)
def test_corpus(clip: Clip, kind: str, folder: Path) -> None:
    path = made(clip, folder)
    params = params_for(kind, clip.fps)
    theirs = pyscenedetect_frames(path, kind, params)
    ours = adref_frames(path, params)
    if clip.differs and ours != theirs:
        pytest.xfail(clip.differs)
    assert ours == theirs


@pytest.mark.parametrize("clip", CORPUS, ids=lambda c: c.name)
def test_corpus_frames_as_pyscenedetect_sees_them(clip: Clip, folder: Path) -> None:
    """Pixel for pixel, unless the clip says why not (and then they must really differ)."""
    path = made(clip, folder)
    theirs = pyscenedetect_view(path)
    ours = adref_view(path)
    same = len(ours) == len(theirs) and all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True)
    )
    assert same != bool(clip.pixels), clip.pixels or "frames differ"


_colour = st.tuples(*[st.integers(0, 255)] * 3)
_grey = st.integers(0, 255).map(lambda v: (v, v, v))
_segment = st.builds(
    Seg,
    frames=st.integers(3, 30),
    colour=st.one_of(_grey, _colour),
    to=st.one_of(st.none(), _grey, _colour),  # a fade to another colour or grey
    texture=st.one_of(st.none(), st.integers(0, 50)),
)


@pytest.mark.slow  # 20 generated clips through two detectors
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    segs=st.lists(_segment, min_size=2, max_size=5),
    size=st.sampled_from([(160, 96), (480, 270)]),
    neutral=st.booleans(),
)
def test_random_flat_and_textured_sequences(
    segs: list[Seg], size: tuple[int, int], neutral: bool
) -> None:
    """``neutral`` encodes the green channel alone: exact greys, chroma at its neutral 128."""
    clip = Clip("drawn", tuple(segs), size=size, grey_input=neutral)
    with tempfile.TemporaryDirectory(prefix="adref-conformance-") as tmp:
        path = make(clip, Path(tmp))
        for kind in DETECTORS:
            params = params_for(kind, clip.fps)
            assert adref_frames(path, params) == pyscenedetect_frames(path, kind, params), kind


# Fades (on, as adref runs by default): a fade through black is a boundary of its own, a fade
# through grey is not, and neither may add more than its one boundary.
PICTURE = (60, 140, 200)


def _through(level: int, frames: int, hold: int = 0) -> tuple[Seg, ...]:
    dip = (level, level, level)
    return (
        Seg(frames, PICTURE, dip),
        *((Seg(hold, dip),) if hold else ()),
        Seg(frames, dip, PICTURE),
    )


def _twice(level: int, frames: int, hold: int = 0) -> tuple[Seg, ...]:
    middle = Seg(30, PICTURE)
    return (middle, *_through(level, frames, hold), middle, *_through(level, frames, hold), middle)


FADES = {
    "black": _twice(0, 12),
    "black-held": _twice(0, 12, hold=8),
    "black-quick": _twice(0, 4),
    "black-slow": _twice(0, 30),
}


@pytest.mark.parametrize("kind", DETECTORS)
@pytest.mark.parametrize("name", list(FADES))
@pytest.mark.parametrize("size", [(160, 96), (480, 270)], ids=["small", "large"])
def test_fading_to_black_twice_gives_one_or_three_shots(
    name: str, size: tuple[int, int], kind: str, folder: Path
) -> None:
    clip = Clip(f"fade-{name}-{size[0]}", FADES[name], size=size)
    path = made(clip, folder)
    shots = detect_shots(path, DetectParams(detector=kind)).shots  # type: ignore[arg-type]
    assert len(shots) in (1, 3), [s.start_frame for s in shots]
    dark = _dark_frames(clip)
    for s in shots[1:]:
        assert s.start_frame in dark, "a fade's boundary lies inside its dark stretch"


@pytest.mark.parametrize("kind", DETECTORS)
@pytest.mark.parametrize(
    "segs",
    [_twice(128, 12), _twice(128, 30, hold=10), _twice(255, 12), GREY_FADE.segs[:2]],
    ids=["grey", "grey-slow-held", "white", "black-to-white-and-back"],
)
def test_fading_through_grey_adds_no_boundary(
    segs: tuple[Seg, ...], kind: str, tmp_path: Path
) -> None:
    clip = Clip("fade-grey", segs, size=(480, 270), grey_input=segs == GREY_FADE.segs[:2])
    shots = detect_shots(make(clip, tmp_path), DetectParams(detector=kind)).shots  # type: ignore[arg-type]
    assert len(shots) == 1, [s.start_frame for s in shots]


def _dark_frames(clip: Clip) -> set[int]:
    """Frames whose picture is at most half as bright as the unfaded picture."""
    full = float(np.mean(PICTURE))
    return {i for i, f in enumerate(frames(clip)) if f.mean() <= full / 2}


def test_interlaced_frames_reach_pyscenedetect_broken(folder: Path) -> None:
    """Why the interlaced clip differs, and a tripwire for an OpenCV build that reads it.

    FFmpeg's scaler, asked as OpenCV asks it, refuses interlaced frames, and PySceneDetect gets
    black or stale pictures (which, depends on what ran before in the process). adref's are
    FFmpeg's own conversion of the decoded frames, resized as SceneManager resizes.
    """
    path = made(INTERLACED, folder)
    ours = adref_view(path)
    size = ours[0].shape[1::-1]
    with av.open(str(path)) as container:
        expected = [
            cv2.resize(f.to_ndarray(format="bgr24"), size, interpolation=cv2.INTER_LINEAR)
            for f in container.decode(video=0)
        ]
    assert len(ours) == len(expected) == INTERLACED.frame_count
    assert all(np.array_equal(a, b) for a, b in zip(ours, expected, strict=True))
    theirs = pyscenedetect_view(path)
    assert not any(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))
