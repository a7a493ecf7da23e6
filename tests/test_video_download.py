"""A video's download: its keyframes and every analysis field, as JSON and Markdown, in a zip."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from adref.boards.download import file_name, video_zip
from adref.warehouse.catalog import Warehouse
from adref.warehouse.corrections import Edit, save_corrections
from tests.board_library import KOREAN_TITLE, build_library


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = build_library(tmp_path_factory.mktemp("download") / "wh")
    save_corrections(warehouse, "youtube:sea", Edit(genre="brand_film", note="좋음"), "mina")
    return warehouse


def test_the_zip_holds_keyframes_json_and_markdown(wh: Warehouse) -> None:
    data = video_zip(wh, "youtube:sea")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        assert z.testzip() is None
        analysis = json.loads(z.read("analysis.json"))
        md = z.read("analysis.md").decode()
        frame = z.read("keyframes/shot-0000_00m00.0s.jpg")
    assert sorted(n for n in names if n.startswith("keyframes/")) == [
        "keyframes/shot-0000_00m00.0s.jpg",
        "keyframes/shot-0001_00m01.5s.jpg",
        "keyframes/shot-0002_00m04.0s.jpg",
        "keyframes/shot-0003_00m07.5s.jpg",
    ]
    assert frame.startswith(b"\xff\xd8")
    assert all(".." not in n and not n.startswith("/") for n in names)
    assert analysis["video"]["title"] == KOREAN_TITLE
    (a,) = analysis["analyses"]
    assert a["genre"] == "tvc" and a["features"]["colour"] == "warm reds"
    assert [g["description"] for g in a["groups"]] == [f"group {i}" for i in range(4)]
    assert analysis["effective"]["genre"] == {
        "value": "brand_film",
        "model_value": "tvc",
        "corrected_by": "mina",
        "corrected_at": analysis["effective"]["genre"]["corrected_at"],
    }
    assert "vector" not in analysis["shots"][0]
    assert [(t["shot_index"], t["text"], t["box"]) for t in analysis["shot_texts"]] == [
        (0, "지금 구매하세요", [100, 40, 300, 60]),
        (1, "SUMMER SALE 50%", [100, 40, 300, 60]),
    ]
    assert md.startswith(f"# {KOREAN_TITLE}\n")
    assert "브랜드필름 / Brand film (`brand_film`)" in md and "| mina (" in md
    for field in ("genre_reason", "hook", "summary", "model_tags", "tokens_in", "cost_usd"):
        assert f"- **{field}**:" in md
    for i in range(4):
        assert f"group {i}" in md


def test_the_file_name_is_safe(wh: Warehouse, tmp_path: Path) -> None:
    name = file_name("generic:../../etc/passwd")
    assert "/" not in name and ".." not in name and name.endswith(".zip")
