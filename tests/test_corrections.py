"""Corrections sit beside the model's answer: effective values, validation, an audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adref.errors import InputError
from adref.warehouse.catalog import Warehouse
from adref.warehouse.corrections import MAX_WORD_CHARS, Edit, effective, save_corrections
from tests.test_warehouse import make_write


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path / "wh")
    warehouse.init()
    warehouse.write_video(make_write("youtube:a1"))
    return warehouse


def test_a_correction_wins_and_the_analysis_is_untouched(wh: Warehouse) -> None:
    before = effective(wh, "youtube:a1")
    assert before.value("genre") == "tvc" and not before.fields["genre"].corrected
    assert before.value("tags") == ["car"] and before.value("mood") == ["bright", "playful"]

    saved = save_corrections(
        wh,
        "youtube:a1",
        Edit(genre="brand_film", tags=[" 여름 ", "summer", "Summer", "", "car"], note="hero"),
        author="mina",
    )
    after = effective(wh, "youtube:a1")
    assert saved == ["genre", "tags", "note"]
    assert after.value("genre") == "brand_film"
    assert after.fields["genre"].model_value == "tvc"
    assert after.fields["genre"].author == "mina" and after.fields["genre"].at is not None
    assert after.value("tags") == ["여름", "summer", "car"]
    assert after.value("note") == "hero"
    assert after.value("mood") == ["bright", "playful"] and not after.fields["mood"].corrected
    with wh.connect() as con:
        assert con.execute("SELECT genre, model_tags FROM analyses").fetchall() == [
            ("tvc", ["car"])
        ]
        row = con.execute(
            "SELECT analysis_id, old_value, new_value, author FROM corrections "
            "WHERE field = 'genre'"
        ).fetchone()
    assert row is not None and row[0] == before.analysis_id
    assert (json.loads(row[1]), json.loads(row[2]), row[3]) == ("tvc", "brand_film", "mina")


def test_saving_the_same_form_twice_stores_nothing_new_and_the_latest_wins(wh: Warehouse) -> None:
    edit = Edit(genre="spot_ad", mood=["calm"])
    assert save_corrections(wh, "youtube:a1", edit, author="mina") == ["genre", "mood"]
    assert save_corrections(wh, "youtube:a1", edit, author="mina") == []
    assert save_corrections(wh, "youtube:a1", Edit(genre="tvc"), author="jin") == ["genre"]
    eff = effective(wh, "youtube:a1")
    assert eff.value("genre") == "tvc" and eff.fields["genre"].author == "jin"
    assert eff.fields["genre"].corrected, "set back to the model's value by a person: still theirs"
    with wh.connect() as con:
        assert con.execute("SELECT count(*) FROM corrections").fetchone() == (3,)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (Edit(genre="sitcom"), "unknown genre 'sitcom'"),
        (Edit(expression_format="claymation"), "unknown expression format 'claymation'"),
        (Edit(tags=["x" * (MAX_WORD_CHARS + 1)]), "tags too long"),
        (Edit(tags=[f"t{i}" for i in range(51)]), "too many tags"),
        (Edit(note="n" * 2001), "note too long"),
    ],
)
def test_bad_values_are_one_clear_error_and_store_nothing(
    wh: Warehouse, edit: Edit, message: str
) -> None:
    with pytest.raises(InputError, match=message) as info:
        save_corrections(wh, "youtube:a1", edit, author="mina")
    assert "\n" not in str(info.value)
    with wh.connect() as con:
        assert con.execute("SELECT count(*) FROM corrections").fetchone() == (0,)


def test_unknown_video_or_no_author_is_refused(wh: Warehouse) -> None:
    with pytest.raises(InputError, match="no video youtube:zz"):
        save_corrections(wh, "youtube:zz", Edit(genre="tvc"), author="mina")
    with pytest.raises(InputError, match="needs an author"):
        save_corrections(wh, "youtube:a1", Edit(genre="tvc"), author="  ")
