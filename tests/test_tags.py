"""One tag, one spelling: full-width letters, decomposed Hangul and odd spaces are one tag
wherever tags enter (sites, models, --tag, the edit form) and wherever they are compared."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from adref import tags
from adref.search import SearchQuery, search
from adref.sources.meta import meta_from_info
from adref.warehouse.catalog import Warehouse
from adref.warehouse.corrections import Edit, effective, save_corrections
from tests.search_support import settings_for, video
from tests.test_warehouse import make_write

SUMMER_NFD = unicodedata.normalize("NFD", "여름")  # 6 jamo, as macOS and some sites send it


def test_spellings_of_one_tag_share_a_key_and_keep_the_first_spelling() -> None:
    assert SUMMER_NFD != "여름" and tags.normal(SUMMER_NFD) == "여름"
    assert tags.normal("ＳＡＬＥ\u00a0３０％") == "SALE 30%"
    assert tags.normal("  new\u3000 arrival ") == "new arrival"
    assert tags.key("#Summer") == tags.key("ｓｕｍｍｅｒ") == "summer"
    assert tags.unique(["#Summer", "summer", SUMMER_NFD, "여름", "", "   ", None, "ＳＡＬＥ"]) == [
        "#Summer",
        "여름",
        "SALE",
    ]


def test_site_tags_are_stored_in_one_spelling() -> None:
    meta = meta_from_info({"id": "x", "tags": [SUMMER_NFD, "여름", "ＳＡＬＥ", "sale", 7]}, "u")
    assert meta.site_tags == ["여름", "SALE", "7"]


def test_user_tags_of_a_re_run_merge_whatever_their_spelling(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    wh.init()
    wh.write_video(make_write("youtube:t1", user_tags=[SUMMER_NFD]))
    wh.write_video(make_write("youtube:t1", user_tags=["여름", "ｐｉｃｋ"]))
    with wh.connect() as con:
        row = con.execute("SELECT user_tags FROM videos").fetchone()
    assert row is not None and row[0] == ["여름", "pick"]


def test_corrected_tags_are_normalised_and_deduplicated(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "wh")
    wh.init()
    wh.write_video(make_write("youtube:t2"))
    save_corrections(
        wh, "youtube:t2", Edit(tags=["ＳＡＬＥ", "sale", SUMMER_NFD, "여름"]), author="mina"
    )
    assert effective(wh, "youtube:t2").value("tags") == ["SALE", "여름"]


def test_a_tag_filter_finds_a_decomposed_site_tag(tmp_path: Path) -> None:
    root = tmp_path / "wh"
    wh = Warehouse(root)
    wh.init()
    wh.write_video(video("youtube:t3", site_tags=(SUMMER_NFD,)))
    wh.write_video(video("youtube:t4", site_tags=("겨울",)))
    page = search(settings_for(root), SearchQuery(tags=("여름",)))
    assert [h.video_id for h in page.hits] == ["youtube:t3"]
    assert ("여름", 1) in page.facets["tag"]
