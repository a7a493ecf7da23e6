"""Whether Notion publishing is set up: off, half set, or on (and, with --online, reachable)."""

from __future__ import annotations

from adref.doctor.check import Check
from adref.errors import AdrefError
from adref.notion.client import NotionTransient
from adref.notion.config import notion_config
from adref.notion.setup import PROPERTIES, read_schema
from adref.settings import Settings


def notion_checks(settings: Settings, *, online: bool = False) -> list[Check]:
    """No row when Notion is off and nothing about it is set: most installs never use it."""
    database = (settings.notion_database_id or "").strip()
    config = notion_config(settings) if database else None
    if config is None:
        if not database:
            return []
        fix = (
            "set NOTION_API_KEY (or ADREF_NOTION_API_KEY, or the Prefect Secret block "
            f"{settings.notion_secret_block!r})"
        )
        return [Check("notion", "warning", "a database id is set but no token: off", fix)]
    if not online:
        return [Check("notion", "ok", f"database {database} (not asked; --online reads it)")]
    api = config.api()
    try:
        schema = read_schema(api, database)
    except NotionTransient as exc:
        return [Check("notion", "warning", exc.one_line(), "try again later")]
    except AdrefError as exc:
        return [Check("notion", "error", f"{exc.what}: {exc.why}", exc.hint)]
    finally:
        api.close()
    missing = [name for name in PROPERTIES if name not in schema.types]
    if schema.mismatched:
        others = ", ".join(f"{n} ({t})" for n, t in schema.mismatched.items())
        fix = "adref leaves them empty; rename them in Notion, then run adref notion setup"
        return [Check("notion", "warning", f"properties of another type: {others}", fix)]
    if missing:
        named = ", ".join(missing[:4]) + (", …" if len(missing) > 4 else "")
        detail = f"{len(missing)} of adref's properties missing ({named})"
        return [Check("notion", "warning", detail, "adref notion setup adds them")]
    return [Check("notion", "ok", f"database {database} reachable, every property in place")]
