"""Moodboards: boards of shots people collect, each owned by the person who made it.

Anyone may look at a board; only its owner may change or delete it, checked inside each write's
transaction. A board's items keep positions 0..n-1 without gaps: every change to the order
rewrites the board's few item rows in one transaction, which is simpler than shifting positions
in place and cannot leave a gap or a duplicate. Adding a shot already on the board changes
nothing, so a double click never makes two items.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from adref.errors import InputError
from adref.models import utcnow
from adref.warehouse.catalog import Warehouse
from adref.warehouse.write import insert_rows, run_in_transaction

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_NOTE = 1000


class NotOwner(InputError):
    """A person tried to change a board someone else owns."""


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    description: str
    owner: str
    created_at: datetime
    updated_at: datetime
    item_count: int = 0


@dataclass(frozen=True)
class Item:
    video_id: str
    shot_index: int | None
    position: int
    note: str
    added_at: datetime
    keyframe_path: str | None  # relative to the warehouse root
    title: str | None
    start_s: float | None
    end_s: float | None


@dataclass(frozen=True)
class BoardView:
    board: Board
    items: tuple[Item, ...]


def _text(value: str | None, limit: int, what: str, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InputError(f"a board needs a {what}")
    if len(text) > limit:
        raise InputError(f"{what} too long", f"{len(text)} characters, at most {limit}")
    return text


def _who(owner: str) -> str:
    who = owner.strip()
    if not who:
        raise InputError("nobody is logged in", "", "log in to change moodboards")
    return who


def _board_row(con: duckdb.DuckDBPyConnection, board_id: str) -> Board:
    row = con.execute(
        "SELECT b.id, b.name, coalesce(b.description, ''), b.owner, b.created_at, b.updated_at, "
        "(SELECT count(*) FROM moodboard_items i WHERE i.moodboard_id = b.id) "
        "FROM moodboards b WHERE b.id = ?",
        [board_id],
    ).fetchone()
    if row is None:
        raise InputError(f"no moodboard {board_id}", "it may have been deleted")
    return Board(*row)


def _owned(con: duckdb.DuckDBPyConnection, board_id: str, who: str) -> Board:
    board = _board_row(con, board_id)
    if board.owner != who:
        raise NotOwner(
            f"moodboard {board.name!r} belongs to {board.owner}",
            "only its owner may change it",
        )
    return board


def _touch(con: duckdb.DuckDBPyConnection, board_id: str) -> None:
    con.execute("UPDATE moodboards SET updated_at = ? WHERE id = ?", [utcnow(), board_id])


def create_board(
    wh: Warehouse,
    owner: str,
    name: str,
    description: str = "",
    shots: list[tuple[str, int | None]] | None = None,
) -> str:
    """A new board, with ``shots`` on it if given (one transaction); returns its id."""
    who = _who(owner)
    now = utcnow()
    row = {
        "id": str(uuid.uuid4()),
        "name": _text(name, MAX_NAME, "name", required=True),
        "description": _text(description, MAX_DESCRIPTION, "description"),
        "owner": who,
        "created_at": now,
        "updated_at": now,
    }
    board_id = str(row["id"])

    def txn(con: duckdb.DuckDBPyConnection) -> None:
        insert_rows(con, "moodboards", [row])
        items: list[dict[str, Any]] = []
        if _append(con, board_id, items, shots or []):
            _rewrite(con, board_id, items)

    run_in_transaction(wh, txn, f"moodboard {board_id} created")
    return board_id


def update_board(
    wh: Warehouse,
    board_id: str,
    owner: str,
    *,
    name: str | None = None,
    description: str | None = None,
) -> None:
    """Rename and/or describe a board."""
    who = _who(owner)
    sets: dict[str, str] = {}
    if name is not None:
        sets["name"] = _text(name, MAX_NAME, "name", required=True)
    if description is not None:
        sets["description"] = _text(description, MAX_DESCRIPTION, "description")

    def txn(con: duckdb.DuckDBPyConnection) -> None:
        _owned(con, board_id, who)
        if sets:
            assignments = ", ".join(f"{k} = ${k}" for k in sets)
            con.execute(
                f"UPDATE moodboards SET {assignments}, updated_at = $now WHERE id = $id",
                {**sets, "now": utcnow(), "id": board_id},
            )

    run_in_transaction(wh, txn, f"moodboard {board_id} updated")


def delete_board(wh: Warehouse, board_id: str, owner: str) -> None:
    who = _who(owner)

    def txn(con: duckdb.DuckDBPyConnection) -> None:
        _owned(con, board_id, who)
        con.execute("DELETE FROM moodboard_items WHERE moodboard_id = ?", [board_id])
        con.execute("DELETE FROM moodboards WHERE id = ?", [board_id])

    run_in_transaction(wh, txn, f"moodboard {board_id} deleted")


def _items(con: duckdb.DuckDBPyConnection, board_id: str) -> list[dict[str, Any]]:
    cur = con.execute(
        "SELECT moodboard_id, video_id, shot_index, note, position, added_at "
        "FROM moodboard_items WHERE moodboard_id = ? ORDER BY position, added_at",
        [board_id],
    )
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _rewrite(con: duckdb.DuckDBPyConnection, board_id: str, items: list[dict[str, Any]]) -> None:
    con.execute("DELETE FROM moodboard_items WHERE moodboard_id = ?", [board_id])
    insert_rows(con, "moodboard_items", [{**it, "position": i} for i, it in enumerate(items)])
    _touch(con, board_id)


def close_gaps(con: duckdb.DuckDBPyConnection, board_id: str) -> None:
    """Number a board's items 0..n-1 again, in their order (after rows were deleted)."""
    _rewrite(con, board_id, _items(con, board_id))


def _find(items: list[dict[str, Any]], video_id: str, shot_index: int | None) -> int | None:
    for i, it in enumerate(items):
        if it["video_id"] == video_id and it["shot_index"] == shot_index:
            return i
    return None


def _append(
    con: duckdb.DuckDBPyConnection,
    board_id: str,
    items: list[dict[str, Any]],
    shots: list[tuple[str, int | None]],
) -> int:
    """Append to ``items`` the shots not yet in it, each checked to exist; returns how many."""
    added = 0
    for video_id, shot_index in shots:
        if _find(items, video_id, shot_index) is not None:
            continue
        if shot_index is None:
            exists = con.execute("SELECT 1 FROM videos WHERE video_id = ?", [video_id])
        else:
            exists = con.execute(
                "SELECT 1 FROM shots WHERE video_id = ? AND shot_index = ?",
                [video_id, shot_index],
            )
        if exists.fetchone() is None:
            what = video_id if shot_index is None else f"shot {shot_index} of {video_id}"
            raise InputError(f"cannot add {what}", "it is not in the warehouse")
        items.append(
            {
                "moodboard_id": board_id,
                "video_id": video_id,
                "shot_index": shot_index,
                "note": None,
                "added_at": utcnow(),
            }
        )
        added += 1
    return added


def _edit_items(
    wh: Warehouse,
    board_id: str,
    owner: str,
    edit: Callable[[duckdb.DuckDBPyConnection, list[dict[str, Any]]], int],
    message: str,
) -> int:
    """Run ``edit`` on the board's items in order, in one transaction the owner is checked in.

    ``edit`` changes the list in place and returns how many items it changed; the board is
    rewritten only when that is not zero.
    """
    who = _who(owner)

    def txn(con: duckdb.DuckDBPyConnection) -> int:
        _owned(con, board_id, who)
        items = _items(con, board_id)
        changed = edit(con, items)
        if changed:
            _rewrite(con, board_id, items)
        return changed

    return run_in_transaction(wh, txn, message)


def add_items(wh: Warehouse, board_id: str, owner: str, shots: list[tuple[str, int | None]]) -> int:
    """Append shots (video_id, shot_index) not yet on the board; returns how many were added.

    A shot that does not exist is refused, so a board never points at nothing.
    """

    def edit(con: duckdb.DuckDBPyConnection, items: list[dict[str, Any]]) -> int:
        return _append(con, board_id, items, shots)

    return _edit_items(wh, board_id, owner, edit, f"moodboard {board_id} items added")


def add_item(wh: Warehouse, board_id: str, owner: str, video_id: str, shot_index: int) -> bool:
    """Add one shot; False when it was already on the board."""
    return add_items(wh, board_id, owner, [(video_id, shot_index)]) == 1


def remove_item(
    wh: Warehouse, board_id: str, owner: str, video_id: str, shot_index: int | None
) -> None:
    def edit(_con: duckdb.DuckDBPyConnection, items: list[dict[str, Any]]) -> int:
        at = _find(items, video_id, shot_index)
        if at is None:
            return 0
        del items[at]
        return 1

    _edit_items(wh, board_id, owner, edit, f"moodboard {board_id} item removed")


def move_item(
    wh: Warehouse, board_id: str, owner: str, video_id: str, shot_index: int | None, to: int
) -> None:
    """Move an item to position ``to`` (clamped to the board), the others closing up."""

    def edit(_con: duckdb.DuckDBPyConnection, items: list[dict[str, Any]]) -> int:
        at = _find(items, video_id, shot_index)
        if at is None:
            raise InputError("that shot is not on the board")
        item = items.pop(at)
        items.insert(max(0, min(to, len(items))), item)
        return 1

    _edit_items(wh, board_id, owner, edit, f"moodboard {board_id} reordered")


def set_note(
    wh: Warehouse, board_id: str, owner: str, video_id: str, shot_index: int | None, note: str
) -> None:
    who = _who(owner)
    text = _text(note, MAX_NOTE, "note") or None

    def txn(con: duckdb.DuckDBPyConnection) -> None:
        _owned(con, board_id, who)
        params = [text, board_id, video_id, shot_index]
        (changed,) = con.execute(
            "UPDATE moodboard_items SET note = ? WHERE moodboard_id = ? AND video_id = ? "
            "AND shot_index IS NOT DISTINCT FROM ?",
            params,
        ).fetchone() or (0,)
        if not changed:
            raise InputError("that shot is not on the board")
        _touch(con, board_id)

    run_in_transaction(wh, txn, f"moodboard {board_id} note")


def list_boards(wh: Warehouse, owner: str | None = None) -> list[Board]:
    """Boards of ``owner`` (everyone's when None), the most recently changed first."""
    if not wh.exists():
        return []
    where, params = ("WHERE b.owner = ?", [owner]) if owner is not None else ("", [])
    with contextlib.closing(wh.connect(read_only=True)) as con:
        rows = con.execute(
            "SELECT b.id, b.name, coalesce(b.description, ''), b.owner, b.created_at, "
            "b.updated_at, (SELECT count(*) FROM moodboard_items i WHERE i.moodboard_id = b.id) "
            f"FROM moodboards b {where} ORDER BY b.updated_at DESC, b.name",
            params,
        ).fetchall()
    return [Board(*r) for r in rows]


def read_board(wh: Warehouse, board_id: str) -> BoardView:
    """A board with its items in order, each with what showing it needs."""
    with contextlib.closing(wh.connect(read_only=True)) as con:
        board = _board_row(con, board_id)
        rows = con.execute(
            "SELECT i.video_id, i.shot_index, i.position, coalesce(i.note, ''), i.added_at, "
            "coalesce(s.keyframe_path, g.keyframe_path), v.title, "
            "coalesce(s.start_s, 0.0), coalesce(s.end_s, v.duration_s) "
            "FROM moodboard_items i "
            "LEFT JOIN shots s ON s.video_id = i.video_id AND s.shot_index = i.shot_index "
            "LEFT JOIN videos v ON v.video_id = i.video_id "
            "LEFT JOIN scene_groups g ON i.shot_index IS NULL AND g.video_id = i.video_id "
            "AND g.group_index = 0 "
            "WHERE i.moodboard_id = ? ORDER BY i.position",
            [board_id],
        ).fetchall()
    return BoardView(board, tuple(Item(*r) for r in rows))


@dataclass(frozen=True)
class ShotVector:
    video_id: str
    shot_index: int
    vector: tuple[float, ...]


def shot_vectors(wh: Warehouse, video_ids: list[str]) -> list[ShotVector]:
    """Every shot of these videos with its feature vector, in video then shot order."""
    if not video_ids or not wh.exists():
        return []
    with contextlib.closing(wh.connect(read_only=True)) as con:
        rows = con.execute(
            "SELECT video_id, shot_index, vector FROM shots WHERE list_contains(?, video_id) "
            "ORDER BY video_id, shot_index",
            [video_ids],
        ).fetchall()
    return [ShotVector(v, int(i), tuple(vec or ())) for v, i, vec in rows]
