"""Whether Notion is on, and with which token and database.

Notion is off unless a database id is set and a token is found: ``ADREF_NOTION_API_KEY`` (or
``NOTION_API_KEY``), else the Prefect Secret block ``ADREF_NOTION_SECRET_BLOCK`` when a Prefect
API is at hand. Off, nothing about Notion is shown or done. The token stays a ``SecretStr``
until the SDK client is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from adref.errors import InputError
from adref.notion.client import NotionAPI
from adref.prefect_env import secret_block
from adref.settings import Settings


@dataclass(frozen=True)
class NotionConfig:
    token: SecretStr
    database_id: str
    base_url: str
    requests_per_s: float
    retries: int

    def api(self) -> NotionAPI:
        return NotionAPI(
            self.token.get_secret_value(),
            self.base_url,
            requests_per_s=self.requests_per_s,
            retries=self.retries,
        )


def notion_config(settings: Settings) -> NotionConfig | None:
    """The configuration, or None when Notion is off (no database id, or no token)."""
    database = (settings.notion_database_id or "").strip()
    if not database:
        return None
    token = settings.notion_api_key
    if token is None or not token.get_secret_value().strip():
        block = secret_block(settings.notion_secret_block)
        token = SecretStr(block) if block else None
    if token is None:
        return None
    return NotionConfig(
        token=SecretStr(token.get_secret_value().strip()),
        database_id=database,
        base_url=settings.notion_base_url,
        requests_per_s=settings.notion_requests_per_s,
        retries=settings.notion_retries,
    )


def require_config(settings: Settings) -> NotionConfig:
    config = notion_config(settings)
    if config is None:
        raise InputError(
            "Notion is not configured",
            "it needs a database id and a token",
            "set NOTION_DATABASE_ID and NOTION_API_KEY (or the Prefect Secret block "
            f"{settings.notion_secret_block!r})",
        )
    return config
