"""Which Notion page each video and moodboard was published to, so a push updates, never duplicates.

One row per (kind, item, database): replaced in one transaction (delete, then insert), so a
page id is never half written and pushing twice leaves one row. A video deleted from adref
keeps its row: analysed again, it goes back to the same Notion page.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import duckdb

from adref.models import utcnow
from adref.warehouse.catalog import Warehouse
from adref.warehouse.write import insert_rows, run_in_transaction

Kind = Literal["video", "moodboard"]


@dataclass(frozen=True)
class NotionPage:
    page_id: str
    url: str | None
    pushed_at: datetime


def page_of(wh: Warehouse, kind: Kind, item_id: str, database_id: str) -> NotionPage | None:
    """The page this item was last published to in this database, if any."""
    if not wh.exists():
        return None
    with contextlib.closing(wh.connect(read_only=True)) as con:
        try:
            row = con.execute(
                "SELECT page_id, url, pushed_at FROM notion_pages "
                "WHERE kind = ? AND item_id = ? AND database_id = ? "
                "ORDER BY pushed_at DESC LIMIT 1",
                [kind, item_id, database_id],
            ).fetchone()
        except duckdb.CatalogException:  # a warehouse from before Notion: nothing published yet
            return None
    return None if row is None else NotionPage(str(row[0]), row[1], row[2])


def remember_page(
    wh: Warehouse, kind: Kind, item_id: str, database_id: str, page_id: str, url: str | None
) -> None:
    """Record (or replace) the item's page; the same call twice leaves the same one row."""
    wh.init()  # adds the table to a warehouse made before it existed
    row = {
        "kind": kind,
        "item_id": item_id,
        "database_id": database_id,
        "page_id": page_id,
        "url": url,
        "pushed_at": utcnow(),
    }

    def txn(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "DELETE FROM notion_pages WHERE kind = ? AND item_id = ? AND database_id = ?",
            [kind, item_id, database_id],
        )
        insert_rows(con, "notion_pages", [row])

    run_in_transaction(wh, txn, f"notion page of {kind} {item_id}")
