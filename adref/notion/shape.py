"""Data shaped to what Notion accepts, so a request is never refused for its size or spelling.

Notion refuses a select option with a comma, a rich text object over 2,000 characters, more
than 100 rich text objects in one array, more than 100 blocks in one append, and a URL over
2,000 characters. Each limit is met here (split, replaced, cut), never left to a 400.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

MAX_TEXT = 2000  # characters in one rich text object
MAX_RICH_TEXTS = 100  # rich text objects in one array
MAX_BLOCKS = 100  # blocks in one children append (and in pages.create)
MAX_OPTION = 100  # characters of a select option
MAX_OPTIONS = 100  # options in one multi-select value
MAX_URL = 2000
COMMA_STAND_IN = "，"  # a full-width comma: reads the same, and Notion accepts it

Block = dict[str, Any]


def text_pieces(text: str) -> list[str]:
    """``text`` in pieces of at most ``MAX_TEXT`` characters, cut at a line or word break when
    one is near the end, and never inside a surrogate pair (Python counts code points, as
    Notion does for this limit)."""
    pieces: list[str] = []
    rest = text
    while len(rest) > MAX_TEXT:
        cut = max(
            rest.rfind("\n", MAX_TEXT // 2, MAX_TEXT), rest.rfind(" ", MAX_TEXT // 2, MAX_TEXT)
        )
        cut = cut + 1 if cut > 0 else MAX_TEXT
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def rich_text(text: str | None, link: str | None = None, bold: bool = False) -> list[Block]:
    """A rich text array for ``text``: as many objects as its length needs, at most 100."""
    pieces = text_pieces(text or "")[:MAX_RICH_TEXTS]
    out: list[Block] = []
    for piece in pieces:
        item: Block = {"type": "text", "text": {"content": piece}}
        if link and len(link) <= MAX_URL:
            item["text"]["link"] = {"url": link}
        if bold:
            item["annotations"] = {"bold": True}
        out.append(item)
    return out


def option(name: str) -> str | None:
    """A select option's name: no comma, no line break, at most 100 characters; None if empty."""
    clean = " ".join(name.replace(",", COMMA_STAND_IN).split())[:MAX_OPTION].strip()
    return clean or None


def options(names: Iterable[str]) -> list[str]:
    """Option names for a multi-select: shaped, duplicates (as Notion compares them) dropped."""
    seen: dict[str, None] = {}
    for name in names:
        shaped = option(name)
        if shaped is not None:
            seen.setdefault(shaped, None)
    return list(seen)[:MAX_OPTIONS]


# -- property values ---------------------------------------------------------------------


def title_value(text: str) -> Block:
    return {"title": rich_text(text)}


def text_value(text: str | None) -> Block:
    return {"rich_text": rich_text(text)}


def select_value(name: str | None) -> Block:
    shaped = option(name) if name else None
    return {"select": {"name": shaped} if shaped else None}


def multi_select_value(names: Iterable[str]) -> Block:
    return {"multi_select": [{"name": n} for n in options(names)]}


def number_value(value: float | None) -> Block:
    return {"number": value}


def url_value(url: str | None) -> Block:
    ok = url is not None and url.startswith(("http://", "https://")) and len(url) <= MAX_URL
    return {"url": url if ok else None}


def date_value(at: datetime | None) -> Block:
    return {"date": {"start": at.isoformat()} if at is not None else None}


# -- blocks ------------------------------------------------------------------------------


def heading(text: str, level: int = 2) -> Block:
    kind = f"heading_{level}"
    return {"object": "block", "type": kind, kind: {"rich_text": rich_text(text)}}


def paragraphs(text: str | None, link: str | None = None) -> list[Block]:
    """One paragraph per 100 rich text pieces: a text of any length fits, nothing is cut."""
    pieces = rich_text_all(text or "", link)
    return [
        {"object": "block", "type": "paragraph", "paragraph": {"rich_text": list(chunk)}}
        for chunk in chunked(pieces, MAX_RICH_TEXTS)
    ]


def rich_text_all(text: str, link: str | None = None) -> list[Block]:
    out: list[Block] = []
    for piece in text_pieces(text):
        out += rich_text(piece, link)
    return out


def bullet(text: str) -> Block:
    return {
        "object": "block",
        "type": "bulleted_list_item",
        "bulleted_list_item": {"rich_text": rich_text(text)},
    }


def image_uploaded(upload_id: str, caption: str = "") -> Block:
    return {
        "object": "block",
        "type": "image",
        "image": {
            "type": "file_upload",
            "file_upload": {"id": upload_id},
            "caption": rich_text(caption),
        },
    }


def image_linked(url: str, caption: str = "") -> Block:
    return {
        "object": "block",
        "type": "image",
        "image": {"type": "external", "external": {"url": url}, "caption": rich_text(caption)},
    }


def columns(cells: Sequence[list[Block]]) -> Block:
    """A row of columns, each holding its blocks (Notion needs at least two columns)."""
    return {
        "object": "block",
        "type": "column_list",
        "column_list": {
            "children": [
                {"object": "block", "type": "column", "column": {"children": cell}}
                for cell in cells
            ]
        },
    }


def chunked(items: Sequence[Any], size: int = MAX_BLOCKS) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
