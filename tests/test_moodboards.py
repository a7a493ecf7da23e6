"""Moodboards: owners change their boards, others only look; positions stay 0..n-1."""

from __future__ import annotations

from pathlib import Path

import pytest

from adref.errors import InputError
from adref.warehouse import moodboards as mb
from adref.warehouse.catalog import Warehouse
from tests.board_library import KOREAN_TITLE, build_library


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return build_library(tmp_path_factory.mktemp("boards") / "wh")


def positions(wh: Warehouse, board_id: str) -> list[tuple[str, int | None, int]]:
    return [(i.video_id, i.shot_index, i.position) for i in mb.read_board(wh, board_id).items]


def test_a_board_is_made_filled_reordered_and_read_with_what_showing_needs(
    wh: Warehouse,
) -> None:
    board = mb.create_board(wh, "mina", "  여름 캠페인  ", "bright and blue")
    assert mb.add_item(wh, board, "mina", "youtube:sea", 0)
    assert not mb.add_item(wh, board, "mina", "youtube:sea", 0), "the same shot twice is one item"
    assert mb.add_items(wh, board, "mina", [("vimeo:city", 2), ("youtube:sea", 3)]) == 2
    mb.move_item(wh, board, "mina", "youtube:sea", 3, 0)
    assert positions(wh, board) == [
        ("youtube:sea", 3, 0),
        ("youtube:sea", 0, 1),
        ("vimeo:city", 2, 2),
    ]
    mb.move_item(wh, board, "mina", "youtube:sea", 3, 99)  # clamped to the end
    mb.remove_item(wh, board, "mina", "youtube:sea", 0)
    assert positions(wh, board) == [("vimeo:city", 2, 0), ("youtube:sea", 3, 1)]
    mb.set_note(wh, board, "mina", "youtube:sea", 3, " 파도 느낌 ")
    mb.update_board(wh, board, "mina", name="Summer", description="for the client")

    view = mb.read_board(wh, board)
    assert (view.board.name, view.board.description, view.board.owner) == (
        "Summer",
        "for the client",
        "mina",
    )
    sea = view.items[1]
    assert (sea.title, sea.note, sea.start_s) == (KOREAN_TITLE, "파도 느낌", 1.5 + 2.5 + 3.5)
    assert sea.keyframe_path is not None and (wh.root / sea.keyframe_path).is_file()
    assert mb.list_boards(wh, "mina")[0].id == board
    assert mb.list_boards(wh, "mina")[0].item_count == 2
    mb.delete_board(wh, board, "mina")
    assert board not in [b.id for b in mb.list_boards(wh)]
    with wh.connect() as con:
        left = con.execute("SELECT count(*) FROM moodboard_items WHERE moodboard_id = ?", [board])
        assert left.fetchone() == (0,)


def test_only_the_owner_changes_a_board_and_everyone_may_look(wh: Warehouse) -> None:
    board = mb.create_board(wh, "mina", "Mine")
    mb.add_item(wh, board, "mina", "vimeo:city", 0)
    attempts = [
        lambda: mb.add_item(wh, board, "jin", "vimeo:city", 1),
        lambda: mb.update_board(wh, board, "jin", name="Theirs"),
        lambda: mb.set_note(wh, board, "jin", "vimeo:city", 0, "hi"),
        lambda: mb.move_item(wh, board, "jin", "vimeo:city", 0, 0),
        lambda: mb.remove_item(wh, board, "jin", "vimeo:city", 0),
        lambda: mb.delete_board(wh, board, "jin"),
    ]
    for attempt in attempts:
        with pytest.raises(mb.NotOwner, match="belongs to mina: only its owner may change it"):
            attempt()
    view = mb.read_board(wh, board)
    assert view.board.name == "Mine" and [i.shot_index for i in view.items] == [0]
    assert [b.id for b in mb.list_boards(wh, "jin")] == []


def test_bad_input_is_refused_whole(wh: Warehouse) -> None:
    with pytest.raises(InputError, match="needs a name"):
        mb.create_board(wh, "mina", "   ")
    with pytest.raises(InputError, match="nobody is logged in"):
        mb.create_board(wh, "", "Anon")
    board = mb.create_board(wh, "mina", "Strict")
    with pytest.raises(InputError, match="cannot add shot 99 of vimeo:city"):
        mb.add_items(wh, board, "mina", [("vimeo:city", 0), ("vimeo:city", 99)])
    assert positions(wh, board) == [], "nothing of a refused batch is added"
    with pytest.raises(InputError, match="no moodboard nope"):
        mb.read_board(wh, "nope")


def test_a_video_detected_again_keeps_its_boards_on_the_same_moments(tmp_path: Path) -> None:
    """Other detection settings give other shots: an item stays on the moment it held (the
    shot now holding its old shot's middle), never on a shot that no longer exists."""
    from tests.factories import make_shots
    from tests.test_warehouse import make_write

    wh = Warehouse(tmp_path / "wh")
    four = make_write("youtube:re", shots=4).model_copy(
        update={"shots": make_shots([("warm", 2.0)] * 4)}  # 0-2, 2-4, 4-6, 6-8 s
    )
    wh.write_video(four)
    other = make_write("vimeo:other", shots=2)
    wh.write_video(other)
    board = mb.create_board(wh, "mina", "Moments")
    mb.add_items(wh, board, "mina", [("youtube:re", 1), ("vimeo:other", 0), ("youtube:re", 3)])
    both = mb.create_board(wh, "mina", "Two become one")
    mb.add_items(wh, both, "mina", [("youtube:re", 0), ("youtube:re", 1)])

    two = four.model_copy(update={"shots": make_shots([("warm", 4.0)] * 2)})  # 0-4, 4-8 s
    wh.write_video(two)
    assert positions(wh, board) == [
        ("youtube:re", 0, 0),
        ("vimeo:other", 0, 1),
        ("youtube:re", 1, 2),
    ]
    assert positions(wh, both) == [("youtube:re", 0, 0)]
    assert all(i.keyframe_path for i in mb.read_board(wh, board).items), "no item points at nothing"
