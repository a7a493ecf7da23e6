"""The deployments adref registers: what a user can start from the Prefect UI.

Entrypoints are module paths, not files: the worker runs in the environment adref is installed
in, so there is nothing to pull or clone before a run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeploymentSpec:
    flow_name: str
    name: str
    entrypoint: str
    description: str
    tags: tuple[str, ...] = ("adref",)
    cron: str | None = None  # a schedule (UTC), editable in the Prefect UI


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        flow_name="analyze-video",
        name="analyze-video",
        entrypoint="adref.flows.analyze_video.analyze_video",
        description=(
            "Analyse one video and store it in the warehouse. `source` is a video URL, or a "
            "file inside one of the input folders (ADREF_INPUT_DIRS). `provider` may be a "
            "fallback chain such as `anthropic,openai,local`."
        ),
    ),
    DeploymentSpec(
        flow_name="reanalyze-video",
        name="reanalyze-video",
        entrypoint="adref.flows.reanalyze.reanalyze_video",
        description=(
            "Analyse a stored video again with another provider, model or prompt, from the "
            "warehouse alone (nothing is downloaded or decoded). Both analyses are kept."
        ),
    ),
    DeploymentSpec(
        flow_name="compact-warehouse",
        name="daily",
        entrypoint="adref.flows.compact.compact_warehouse",
        description=(
            "Merge the warehouse's small Parquet files (each run adds a few) and drop files "
            "only snapshots older than `keep_days` use. Daily at 04:30 UTC."
        ),
        cron="30 4 * * *",
    ),
    DeploymentSpec(
        flow_name="ingest",
        name="ingest",
        entrypoint="adref.flows.ingest.ingest",
        description=(
            "Read the watch list (the YAML file ADREF_WATCHLIST and the Prefect Variable "
            "`adref_watchlist`), expand its playlists, channels and folders, and start one "
            "`analyze-video` run per video not yet in the warehouse nor already queued "
            "(at most ADREF_INGEST_MAX_NEW_RUNS per ingest). Hourly; a markdown artifact says "
            "what was found, skipped and started."
        ),
        cron="0 * * * *",
    ),
)


def full_name(spec: DeploymentSpec) -> str:
    """``flow/deployment``, as ``prefect deployment run`` and ``run_deployment`` take it."""
    return f"{spec.flow_name}/{spec.name}"
