"""The database's properties: which adref needs, and adding those it lacks.

Under Notion-Version 2025-09-03 a database holds one or more data sources, and the properties
(the columns) belong to a data source: adref uses the database's first. A property a person
made with the same name but another type is left alone (their database, their choice) and
adref writes nothing to it. Every database has exactly one title property, whatever its name;
adref writes the title there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adref.errors import InputError
from adref.notion.client import NotionAPI

# Which adref item a page shows (a video id, or ``moodboard:<id>``): what a push looks a page
# up by when the warehouse does not know it, e.g. after a create that failed yet was done.
ID_PROPERTY = "adref ID"

# name → Notion property type, in the order people read them
PROPERTIES: dict[str, str] = {
    "Kind": "select",
    ID_PROPERTY: "rich_text",
    "Source": "url",
    "Genre": "select",
    "Format": "select",
    "Mood": "multi_select",
    "Tags": "multi_select",
    "Target audience": "rich_text",
    "Duration (s)": "number",
    "Aspect": "select",
    "Provider": "select",
    "Model": "select",
    "Analysed": "date",
    "Viewer": "url",
}


@dataclass
class Schema:
    database_id: str
    data_source_id: str
    title_property: str
    types: dict[str, str] = field(default_factory=dict)  # every property → its type
    added: list[str] = field(default_factory=list)
    mismatched: dict[str, str] = field(default_factory=dict)  # ours, but another type: theirs

    def writable(self, name: str) -> bool:
        return self.types.get(name) == PROPERTIES.get(name)


def read_schema(api: NotionAPI, database_id: str) -> Schema:
    database = api.call("database retrieve", api.sdk.databases.retrieve, database_id)
    sources = [s for s in database.get("data_sources") or [] if isinstance(s, dict) and s.get("id")]
    if not sources:
        raise InputError(
            f"Notion database {database_id} has no data source",
            "it may be a linked database",
            "use the id of the original database",
        )
    source_id = str(sources[0]["id"])
    source = api.call("data source retrieve", api.sdk.data_sources.retrieve, source_id)
    types = {name: str(p.get("type")) for name, p in (source.get("properties") or {}).items()}
    title = next((name for name, kind in types.items() if kind == "title"), "Name")
    mismatched = {
        name: types[name]
        for name, kind in PROPERTIES.items()
        if name in types and types[name] != kind
    }
    return Schema(database_id, source_id, title, types, mismatched=mismatched)


def ensure_schema(api: NotionAPI, database_id: str) -> Schema:
    """The database's schema, with adref's missing properties added (one request for all)."""
    schema = read_schema(api, database_id)
    missing = {name: kind for name, kind in PROPERTIES.items() if name not in schema.types}
    if missing:
        body: dict[str, Any] = {name: {kind: {}} for name, kind in missing.items()}
        api.call(
            "data source update",
            api.sdk.data_sources.update,
            schema.data_source_id,
            properties=body,
        )
        schema.types.update(missing)
        schema.added = list(missing)
    return schema
