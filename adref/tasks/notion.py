"""The optional last step of a run: the stored video published to Notion.

It never fails the run: the video is stored before it starts, and whatever goes wrong becomes
one line in the run's notes (its ``runs`` row and summary artifact), naming the command that
catches up later. Off, and silent, unless Notion is configured (a database id and a token) and
the run asks for it (``--notion``, the ``notion`` parameter, or ``ADREF_NOTION_PUBLISH``).
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from adref.errors import AdrefError
from adref.settings import Settings


def wanted(notion: bool | None, settings: Settings) -> bool:
    """Whether this run publishes: asked for (or the setting on), and a database id is set.
    The token is looked up by the step itself (it may be a Prefect Secret block)."""
    asked = settings.notion_publish if notion is None else notion
    return bool(asked and (settings.notion_database_id or "").strip())


def scrubbed(text: str, settings: Settings) -> str:
    """``text`` with the token blanked out, should anything ever have echoed it."""
    token = settings.notion_api_key.get_secret_value() if settings.notion_api_key else ""
    return text.replace(token, "***") if token.strip() else text


def publish_video(video_id: str, settings: Settings) -> list[str]:
    """Publish one video; returns the lines for the run's notes (none when it reached Notion)."""
    # lazy: the Notion SDK, and DuckDB for what is published
    from adref.notion.config import notion_config
    from adref.notion.push import Publisher

    config = notion_config(settings)
    if config is None:
        return [
            f"Notion: {video_id} not published: no Notion token (NOTION_API_KEY or the "
            f"Secret block {settings.notion_secret_block!r})"
        ]
    try:
        with Publisher(settings, config) as publisher:
            publisher.video(video_id)
    except AdrefError as exc:
        why = exc.one_line()
    except Exception as exc:  # a bug or the SDK's surprise: still not the run's failure
        why = f"{type(exc).__name__}: {exc}"
    else:
        return []
    return [
        scrubbed(
            f"Notion: {video_id} not published: {why.rstrip('.')}; "
            f"`adref notion push {video_id}` catches up",
            settings,
        )
    ]


@task(name="notion", cache_policy=NO_CACHE)
def notion(video_id: str, settings: Settings) -> list[str]:
    return publish_video(video_id, settings)
