"""A small warehouse for the board tests: real keyframe JPEGs, a Korean title, distinct looks.

Built through the warehouse's own write functions (``Warehouse.write_video`` and
``media.store_keyframes``), as the pipeline builds one.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from adref.models import Shot
from adref.warehouse.catalog import Warehouse
from adref.warehouse.media import store_keyframes
from tests.factories import LOOKS, make_shots
from tests.test_warehouse import make_write

KOREAN_TITLE = "여름 음료 광고 — 바다"
VIDEOS = {
    "youtube:sea": (KOREAN_TITLE, ["cool", "cool", "warm", "green"]),
    "vimeo:city": ("City lights at night", ["night", "night", "red", "purple", "grey"]),
}


def jpeg_of(look: str, label: str) -> bytes:
    colour = LOOKS[look].palette[0][0]
    img = Image.new("RGB", (320, 180), colour)
    ImageDraw.Draw(img).text((12, 12), label, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


def with_frames(video_id: str, looks: list[str]) -> list[Shot]:
    shots = make_shots([(look, 1.5 + i) for i, look in enumerate(looks)])
    return [
        s.model_copy(update={"keyframe_jpeg": jpeg_of(looks[s.shot_index], f"{video_id} {i}")})
        for i, s in enumerate(shots)
    ]


def build_library(root: Path) -> Warehouse:
    wh = Warehouse(root)
    wh.init()
    for video_id, (title, looks) in VIDEOS.items():
        shots = with_frames(video_id, looks)
        paths = store_keyframes(wh.media, video_id, shots)
        write = make_write(video_id, shots=len(shots), title=title, owner="mina")
        write = write.model_copy(update={"shots": shots, "keyframe_paths": paths})
        wh.write_video(write)
    return wh
