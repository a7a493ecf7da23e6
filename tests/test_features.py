"""Per-shot features: measured on the synthetic ad (known looks) and on hand-drawn pictures."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from adref.models import DetectResult
from adref.video import features
from adref.video.detect import detect_shots
from adref.video.params import DetectParams
from adref.video.testclips import ClipTruth
from adref.video.text import text_regions


@pytest.fixture(scope="module")
def ad(clip_ad: ClipTruth) -> DetectResult:
    result = detect_shots(clip_ad.path, DetectParams())
    assert len(result.shots) == clip_ad.shot_count
    return result


def test_every_feature_is_in_range(ad: DetectResult) -> None:
    for s in ad.shots:
        assert 1 <= len(s.palette) <= features.PALETTE_SIZE
        assert sum(c.weight for c in s.palette) == pytest.approx(1.0, abs=1e-6)
        assert all(re.fullmatch(r"#[0-9a-f]{6}", c.hex) for c in s.palette)
        for value in (
            s.brightness,
            s.saturation,
            s.colourfulness,
            s.motion,
            s.face_area,
            s.flatness,
            s.text_area,
        ):
            assert 0.0 <= value <= 1.0
        assert -1.0 <= s.warmth <= 1.0
        assert len(s.vector) == features.VECTOR_LENGTH
        assert float(np.linalg.norm(s.vector)) == pytest.approx(1.0, abs=1e-4)


def test_keyframes_are_thumbnails_of_the_shot(ad: DetectResult) -> None:
    for s in ad.shots:
        image = _jpeg(s.keyframe_jpeg)
        assert image.shape[:2] == (270, 480)
        assert image.mean() > 40, "not a black frame"


def test_thumbnail_width_is_a_parameter(clip_single: ClipTruth) -> None:
    result = detect_shots(clip_single.path, DetectParams(thumbnail_width=200))
    assert _jpeg(result.shots[0].keyframe_jpeg).shape[:2] == (112, 200)


def test_warm_shots_are_warmer_than_cool_ones(ad: DetectResult, clip_ad: ClipTruth) -> None:
    warm = [ad.shots[i].warmth for i, look in enumerate(clip_ad.looks) if look == "sunset"]
    cool = [ad.shots[i].warmth for i, look in enumerate(clip_ad.looks) if look == "ocean"]
    assert min(warm) > 0.2 > -0.2 > max(cool)
    assert ad.shots[-1].brightness > ad.shots[clip_ad.looks.index("city")].brightness


def test_text_shots_have_text(ad: DetectResult, clip_ad: ClipTruth) -> None:
    for i, shot in enumerate(ad.shots):
        if clip_ad.texts[i]:
            assert shot.has_text and shot.text_area > 0.01, (i, clip_ad.texts[i])
    false_positives = [i for i, s in enumerate(ad.shots) if s.has_text and not clip_ad.texts[i]]
    assert len(false_positives) <= 1


def test_the_presenter_has_a_face(ad: DetectResult, clip_ad: ClipTruth) -> None:
    presenter = ad.shots[clip_ad.looks.index("presenter")]
    assert presenter.face_count == 1 and 0.02 < presenter.face_area < 0.5
    assert sum(s.face_count for s in ad.shots) == 1


def test_a_repeated_look_is_the_nearest_neighbour(ad: DetectResult) -> None:
    a, b, a_again = (np.asarray(ad.shots[i].vector) for i in (0, 1, 2))
    assert float(a @ a_again) > float(a @ b) + 0.2


def test_camera_pan_direction(ad: DetectResult, clip_ad: ClipTruth) -> None:
    panned = [i for i, p in enumerate(clip_ad.pans) if p and not clip_ad.texts[i]]
    assert panned
    for i in panned:
        shot = ad.shots[i]
        assert np.sign(shot.camera_pan_x) == np.sign(clip_ad.pans[i]), (i, shot.camera_pan_x)
        assert abs(shot.camera_pan_x - clip_ad.pans[i]) < 0.05
        assert abs(shot.camera_pan_y) < 0.03


def test_palette_of_two_flat_colours() -> None:
    image = np.zeros((40, 100, 3), np.uint8)
    image[:, :75] = (0, 0, 255)  # red, BGR
    image[:, 75:] = (255, 0, 0)  # blue
    palette = features.palette(image.reshape(-1, 3))
    assert [c.hex for c in palette[:2]] == ["#ff0000", "#0000ff"]
    assert palette[0].weight == pytest.approx(0.75, abs=0.01)
    assert sum(c.weight for c in palette) == pytest.approx(1.0)


def test_colour_stats_extremes() -> None:
    grey = features.colour_stats(np.full((10, 10, 3), 128, np.uint8))
    assert grey.saturation == 0.0 and grey.warmth == 0.0 and grey.colourfulness == 0.0
    assert grey.brightness == pytest.approx(128 / 255, abs=0.01)
    orange = features.colour_stats(np.full((10, 10, 3), (0, 128, 255), np.uint8))
    assert orange.warmth == pytest.approx(1.0) and orange.saturation == 1.0
    blue = features.colour_stats(np.full((10, 10, 3), (255, 60, 0), np.uint8))
    assert blue.warmth == pytest.approx(-1.0)


def test_flatness_tells_drawing_from_texture() -> None:
    drawing = np.full((270, 480, 3), 200, np.uint8)
    cv2.circle(drawing, (240, 135), 80, (30, 90, 200), -1)
    noise = np.random.default_rng(0).integers(0, 256, (270, 480, 3), dtype=np.uint8)
    assert features.flatness(drawing) > 0.9 > 0.1 > features.flatness(noise)


def test_text_heuristic_on_drawn_pictures() -> None:
    words = np.full((270, 480), 90, np.uint8)
    cv2.putText(words, "Summer sale", (40, 150), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 250, 4, cv2.LINE_AA)
    assert text_regions(words) > 0.02
    shapes = np.full((270, 480), 90, np.uint8)
    cv2.circle(shapes, (100, 130), 50, 250, -1)
    cv2.rectangle(shapes, (220, 60), (300, 220), 20, -1)
    cv2.ellipse(shapes, (400, 100), (60, 20), 0, 0, 360, 200, -1)
    assert text_regions(shapes) == 0.0


def test_jpeg_round_trip() -> None:
    image = np.zeros((90, 160, 3), np.uint8)
    image[:, 80:] = 255
    assert _jpeg(features.encode_jpeg(image)).shape == image.shape


def _jpeg(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image)
