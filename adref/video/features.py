"""Per-shot visual features, computed once per shot from a handful of small images.

Colour statistics and the palette pool a few frames sampled across the shot (so one odd frame
does not decide a shot's colour); layout, faces, text and flatness look at the chosen keyframe.
Everything works on small images: a shot costs milliseconds, not a decode.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass

import cv2
import numpy as np

from adref.models import PaletteColor
from adref.video.text import text_regions

PALETTE_SIZE = 5
_HIST_BINS = (8, 3, 3)  # hue, saturation, value
_GRID = 4
VECTOR_LENGTH = int(np.prod(_HIST_BINS)) + _GRID * _GRID * 3 + _GRID * _GRID
_COLOURFULNESS_SCALE = 130.0  # Hasler-Suesstrunk M of an "extremely colourful" image is ~110+
_FLAT_RANGE = 6  # local max-min (0-255) under which a pixel counts as flat
_FACE_SHORT_SIDE = 144
_cascades: queue.SimpleQueue[cv2.CascadeClassifier] = queue.SimpleQueue()


@dataclass(frozen=True)
class ColourStats:
    brightness: float
    saturation: float
    warmth: float
    colourfulness: float


@dataclass(frozen=True)
class KeyframeStats:
    face_count: int
    face_area: float
    has_text: bool
    text_area: float
    flatness: float


def colour_stats(pixels: np.ndarray) -> ColourStats:
    """Mean light, saturation, warmth and colourfulness of a BGR image (or a stack of them)."""
    bgr = pixels.reshape(-1, 1, 3)
    f = bgr.reshape(-1, 3).astype(np.float32)
    b, g, r = f[:, 0], f[:, 1], f[:, 2]
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    rg = r - g
    yb = 0.5 * (r + g) - b
    m = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    return ColourStats(
        brightness=_unit(float(luma.mean()) / 255.0),
        saturation=_unit(float(hsv[..., 1].mean()) / 255.0),
        warmth=float(np.clip((r - b).mean() / 255.0, -1.0, 1.0)),
        colourfulness=_unit(m / _COLOURFULNESS_SCALE),
    )


def palette(pixels: np.ndarray, k: int = PALETTE_SIZE) -> list[PaletteColor]:
    """Dominant colours by k-means in Lab; weights are cluster shares and sum to 1."""
    lab = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_BGR2LAB).reshape(-1, 3)
    data = lab.astype(np.float32)
    k = max(1, min(k, len(data)))
    cv2.setRNGSeed(20240)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 12, 1.0)
    start = np.zeros((len(data), 1), np.int32)
    _, labels, _ = cv2.kmeans(data, k, start, criteria, 1, cv2.KMEANS_PP_CENTERS)
    flat = np.asarray(labels).ravel()
    counts = np.bincount(flat, minlength=k).astype(np.float64)
    bgr = pixels.reshape(-1, 3).astype(np.float64)
    # Report each cluster's mean colour in BGR (exact), not its Lab centre converted back.
    sums = np.stack([np.bincount(flat, weights=bgr[:, c], minlength=k) for c in range(3)], 1)
    shares: dict[str, float] = {}
    for (b, g, r), n in zip(sums.tolist(), counts.tolist(), strict=True):
        if n <= 0:
            continue
        key = "#{:02x}{:02x}{:02x}".format(*(min(255, round(v / n)) for v in (r, g, b)))
        shares[key] = shares.get(key, 0.0) + n
    total = sum(shares.values())
    ordered = sorted(shares.items(), key=lambda kv: -kv[1])
    weights = [round(n / total, 4) for _, n in ordered]
    weights[0] = round(weights[0] + 1.0 - sum(weights), 4)
    return [PaletteColor(hex=h, weight=w) for (h, _), w in zip(ordered, weights, strict=True)]


def visual_vector(pixels: np.ndarray, keyframe: np.ndarray) -> list[float]:
    """A fixed-length, L2-normalised description for "looks like" search.

    Three blocks, each normalised before weighting: a joint HSV histogram of the shot's pixels
    (what colours), a 4x4 grid of the keyframe's mean Lab colour (where they are), and a 4x4 grid
    of edge energy (where the detail is).
    """
    hsv = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(_HIST_BINS), [0, 180, 0, 256, 0, 256])
    hist = np.sqrt(hist.ravel() / max(1.0, float(hist.sum())))
    small = cv2.resize(keyframe, (64, 64), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.float32) / 255.0 - 0.5
    grid = cv2.resize(lab, (_GRID, _GRID), interpolation=cv2.INTER_AREA).ravel()
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mag = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    edges = cv2.resize(mag, (_GRID, _GRID), interpolation=cv2.INTER_AREA).ravel()
    parts = [_l2(hist) * 0.6, _l2(grid) * 0.6, _l2(edges) * 0.4]
    vec = _l2(np.concatenate(parts))
    return [round(float(x), 6) for x in vec]


def keyframe_stats(image: np.ndarray) -> KeyframeStats:
    """Faces, text and flat-colour share of one upright BGR keyframe (analysis size)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    count, area = faces(gray)
    text_area = text_regions(gray)
    return KeyframeStats(
        face_count=count,
        face_area=area,
        has_text=text_area > 0.0,
        text_area=text_area,
        flatness=flatness(image),
    )


def faces(gray: np.ndarray) -> tuple[int, float]:
    """Frontal faces by OpenCV's bundled Haar cascade: (count, largest face's share of frame).

    Searched at a shorter side of 144 px for speed: faces under ~1/8 of the frame height (crowds,
    far shots) are not counted; ads' faces that matter (presenters, close-ups) are larger.
    """
    h, w = gray.shape
    scale = min(1.0, _FACE_SHORT_SIDE / min(h, w))
    if scale < 1.0:
        gray = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    found = _detect_faces(gray)
    if not found:
        return 0, 0.0
    largest = max(fw * fh for _, _, fw, fh in found)
    return len(found), _unit(largest / float(gray.shape[0] * gray.shape[1]))


def flatness(image: np.ndarray) -> float:
    """Share of the picture in flat colour: drawn and animated frames score high, photos low."""
    h, w = image.shape[:2]
    scale = 160.0 / max(h, w)
    small = cv2.resize(
        image, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    kernel = np.ones((3, 3), np.uint8)
    spread = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, kernel).max(axis=2)
    return _unit(float(np.count_nonzero(spread <= _FLAT_RANGE)) / spread.size)


def encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode a keyframe as JPEG")
    return buf.tobytes()


def _detect_faces(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Borrow a loaded cascade (loading one costs ~20 ms; OpenCV does not promise that one
    classifier is safe to share between threads, so each borrower has its own)."""
    try:
        cascade = _cascades.get_nowait()
    except queue.Empty:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"OpenCV's face cascade is missing at {path}") from None
    try:
        found = cascade.detectMultiScale(gray, scaleFactor=1.25, minNeighbors=5, minSize=(20, 20))
        return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]
    finally:
        _cascades.put(cascade)


def _l2(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _unit(x: float) -> float:
    return float(min(1.0, max(0.0, x)))
