"""How many scene groups the analysis images can show: the cap grouping applies, and the run's
note naming the groups left out.

Apart from ``images`` (which sizes and draws the pictures with OpenCV) so the flow can ask
before any picture is made, without loading OpenCV.
"""

from __future__ import annotations

from typing import Literal

ImageMode = Literal["frames", "contact_sheet"]

# Most frames a sheet takes when the cap on images squeezes them: 12 fit even Gemini's 768 px
# tile at ~120 px on their short side (16:9, 9:16 and 2.35:1 frames), where people, products and
# layout still read; smaller, a sheet would show groups in name only.
SHEET_MOST_GROUPS = 12


def shown_groups(mode: ImageMode, max_images: int) -> int:
    """How many scene groups ``max_images`` images can show: the cap grouping applies."""
    return max_images * (SHEET_MOST_GROUPS if mode == "contact_sheet" else 1)


def left_out(groups: int, shown: list[int], mode: ImageMode, max_images: int) -> str | None:
    """The run's note when some groups are not shown (which, and why), else None."""
    missing = sorted(set(range(groups)) - set(shown))
    if not missing:
        return None
    names = ", ".join(str(i) for i in missing[:20]) + (", …" if len(missing) > 20 else "")
    why = (
        f"ADREF_IMAGE_MODE=frames sends one image per group, ADREF_MAX_ANALYSIS_IMAGES="
        f"{max_images} at most"
        if mode == "frames"
        else f"{max_images} contact sheets (ADREF_MAX_ANALYSIS_IMAGES) of at most "
        f"{SHEET_MOST_GROUPS} groups each hold {shown_groups(mode, max_images)}"
    )
    return f"scene groups {names} not shown to the model ({len(missing)} of {groups}): {why}"
