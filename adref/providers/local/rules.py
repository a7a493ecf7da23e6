"""What a measured cue means: the ``local`` analyser's thresholds and classifications.

Each threshold is a named constant with the reason for its value, so a reader can check a
rule against their own eye and a change is one line (then bump ``RULES_VERSION`` in local.py).
"""

from __future__ import annotations

import colorsys

from adref.errors import InputError
from adref.models import Shot

# Light and colour
WARM_WARMTH = 0.12  # mean warmth above this reads as warm to a viewer (tungsten, sunset, skin)
COOL_WARMTH = -0.12  # below this reads as cool (daylight blue, teal grading)
BRIGHT_LEVEL = 0.6  # mean brightness above this is high-key (white sets, daylight)
DARK_LEVEL = 0.3  # below this is low-key (night, dramatic lighting)
VIVID_SATURATION = 0.45  # saturation above this is punchy, ad-like colour
VIVID_COLOURFULNESS = 0.5  # or colourfulness above this (many strong hues at once)
MUTED_SATURATION = 0.18  # below this (with low colourfulness) colour is restrained
MUTED_COLOURFULNESS = 0.25
MONOCHROME_SATURATION = 0.06  # below this the picture is essentially black and white
BLACK_LEVEL = 0.08  # keyframes darker than this are black frames or fades
MIN_COLOUR_SHARE = 0.08  # colours under this share of the palette are accents, not dominant

# Pacing
FAST_CUTS_PER_MIN = 30.0  # ≥ one cut every 2 s: the rhythm of fast-cut social ads
SLOW_CUTS_PER_MIN = 8.0  # ≤ one cut every 7.5 s: long takes

# People (face height as a share of frame height, derived from the largest face's area)
CLOSE_UP_FACE = 0.35  # a face a third of the frame tall or more is a close-up
MEDIUM_FACE = 0.15  # a face 15-35 % of the frame tall is a medium shot (waist/chest up)
FACE_TAG_SHARE = 0.2  # faces on screen this share of the time make people a feature
CLOSE_UP_TAG_SHARE = 0.3  # close-ups this share of the time make them a style
MULTI_FACE_COUNT = 3  # three or more faces is a group of people

# Text
TEXT_TAG_SHARE = 0.15  # text on screen this share of the time is a deliberate overlay style

# Camera (pan speeds are fractions of the frame per second)
PAN_SPEED = 0.05  # a steady shift of 5 % of the frame per second is a visible pan or tilt
DYNAMIC_MOTION = 0.10  # frame change above this without a steady shift: handheld or busy action
CAMERA_TAG_SHARE = 0.3  # pans/tilts this share of the time make camera movement a feature
STATIC_TAG_SHARE = 0.8  # a static camera this share of the time is a locked-off style

# Expression format (flatness = share of flat-colour area)
ANIMATION_FLATNESS = 0.6  # live footage rarely has this much perfectly flat colour
LIVE_ACTION_FLATNESS = 0.25  # textured frames...
LIVE_ACTION_FACES = 0.25  # ...with faces this share of the time are filmed people
TYPOGRAPHY_FLATNESS = 0.45  # flat backgrounds...
TYPOGRAPHY_TEXT_SHARE = 0.6  # ...with text most of the time...
TYPOGRAPHY_TEXT_AREA = 0.1  # ...covering a tenth of the frame: text is the picture
ANIMATION_MAX_FACES = 0.2  # drawn work rarely trips the face detector for long
MOTION_GRAPHICS_TEXT_SHARE = 0.4  # flat frames carrying text this often are motion graphics

# Genre confidences: deliberately modest, since pixels alone never prove a genre
STYLE_GENRE_CONFIDENCE = (
    0.45  # a strong look cue (flat colour), though drawn and graphic work overlap
)
FORMAT_GENRE_CONFIDENCE = 0.3  # a delivery format (vertical short, bumper) only suggests a genre

# Format
SHORT_FORM_MAX_S = 60.5  # Shorts/Reels/TikTok ad limit, with slack for rounding
BUMPER_MAX_S = 6.5  # YouTube bumper ads are 6 s
HOOK_S = 3.0  # the first 3 s decide whether a viewer stays
STANDARD_LENGTHS = (6, 10, 15, 20, 30, 45, 60)  # media-buying spot lengths, seconds
ASPECTS = (
    ("9:16", 9 / 16),
    ("4:5", 0.8),
    ("1:1", 1.0),
    ("4:3", 4 / 3),
    ("16:9", 16 / 9),
    ("21:9", 2.35),
)


def band(value: float, low: tuple[str, float], high: tuple[str, float]) -> str | None:
    if value >= high[1]:
        return high[0]
    return low[0] if value <= low[1] else None


def colour_kind(saturation: float, colourfulness: float) -> str | None:
    if saturation <= MONOCHROME_SATURATION:
        return "monochrome"
    if saturation >= VIVID_SATURATION or colourfulness >= VIVID_COLOURFULNESS:
        return "vivid"
    if saturation <= MUTED_SATURATION and colourfulness <= MUTED_COLOURFULNESS:
        return "muted"
    return None


def shot_type(shot: Shot, aspect: float) -> str | None:
    """Close-up / medium / wide from the largest face; None without a face (no cue)."""
    if shot.face_count <= 0 or shot.face_area <= 0:
        return None
    face_height = (shot.face_area * aspect) ** 0.5 if aspect > 0 else 0.0
    if face_height >= CLOSE_UP_FACE:
        return "close_up"
    return "medium" if face_height >= MEDIUM_FACE else "wide"


def camera_movement(shot: Shot) -> str:
    pan_x, pan_y = abs(shot.camera_pan_x), abs(shot.camera_pan_y)
    if max(pan_x, pan_y) >= PAN_SPEED:
        return "pan" if pan_x >= pan_y else "tilt"
    return "dynamic" if shot.motion >= DYNAMIC_MOTION else "static"


def colour_name(hex_: str) -> str:
    """A basic colour term for a palette entry (the words people search by)."""
    try:
        value = int(hex_.lstrip("#")[:6], 16)
    except ValueError:
        raise InputError(f"bad palette colour {hex_!r}", "expected #rrggbb") from None
    r, g, b = (value >> 16) / 255, ((value >> 8) & 255) / 255, (value & 255) / 255
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    hue = h * 360
    if v < 0.18:
        return "black"
    if s < 0.15:
        return "white" if v > 0.85 else "grey"
    if 20 <= hue < 50 and s < 0.35 and v > 0.7:
        return "beige"
    if hue < 15 or hue >= 345:
        return "pink" if s < 0.45 and v > 0.7 else "red"
    if hue < 45:
        return "brown" if v < 0.6 else "orange"
    if hue < 70:
        return "yellow"
    if hue < 165:
        return "green"
    if hue < 195:
        return "teal"
    if hue < 255:
        return "blue"
    if hue < 290:
        return "purple"
    return "pink"


def aspect_code(width: int, height: int) -> str:
    aspect = width / height if height else 0.0
    for code, ratio in ASPECTS:
        if abs(aspect - ratio) / ratio <= 0.04:
            return code
    return f"{aspect:.2f}:1"


def length_code(duration: float) -> str | None:
    """The media-buying length a duration matches ("15s"), "60s+" beyond a minute, else None."""
    for seconds in STANDARD_LENGTHS:
        if abs(duration - seconds) <= max(1.0, 0.08 * seconds):
            return f"{seconds}s"
    return "60s+" if duration > 60 else None


def pace(n_shots: int, cuts_per_min: float) -> str:
    if n_shots == 1:
        return "single_take"
    if cuts_per_min >= FAST_CUTS_PER_MIN:
        return "fast"
    return "slow" if cuts_per_min <= SLOW_CUTS_PER_MIN else "moderate"


def expression_format(
    flatness: float, text_share: float, text_area: float, face_share: float
) -> str | None:
    """A format only when the flat-colour cue is strong; ambiguous footage stays None."""
    if (
        flatness >= TYPOGRAPHY_FLATNESS
        and text_share >= TYPOGRAPHY_TEXT_SHARE
        and text_area >= TYPOGRAPHY_TEXT_AREA
        and face_share <= ANIMATION_MAX_FACES
    ):
        return "typography"
    if flatness >= ANIMATION_FLATNESS and face_share <= ANIMATION_MAX_FACES:
        return "2d"
    if flatness <= LIVE_ACTION_FLATNESS and face_share >= LIVE_ACTION_FACES:
        return "live_action"
    return None


def genre(
    fmt: str | None, text_share: float, short_form: bool, bumper: bool
) -> tuple[str | None, float | None]:
    """A genre only from clear cues, with a modest confidence: pixels alone rarely prove one."""
    if fmt == "typography" or (fmt == "2d" and text_share >= MOTION_GRAPHICS_TEXT_SHARE):
        return "motion_graphics", STYLE_GENRE_CONFIDENCE
    if fmt == "2d":
        return "2d_animation", STYLE_GENRE_CONFIDENCE
    if short_form:
        return "viral_video", FORMAT_GENRE_CONFIDENCE
    if bumper:
        return "spot_ad", FORMAT_GENRE_CONFIDENCE
    return None, None
