"""Ask a provider (or a fallback chain) what the ad is; cached on what shapes the answer.

The cache key is the chain with each provider's planned analysis id (video, provider, model,
prompt version), the groups' key and what the ad says (``AnalysisRequest.words_key``), so a
re-run makes no model call, and an edited prompt, another model or other words read on screen
ask again. When a chain fell back, the fallback's answer is what is cached for that chain: asking the
first provider again is a ``--refresh`` away.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import task
from prefect.context import TaskRunContext
from pydantic import BaseModel, Field

from adref.analysis import Analysis, AnalysisRequest
from adref.models import analysis_id, utcnow
from adref.providers.base import CallEstimate
from adref.providers.chain import chain_names, run_chain
from adref.providers.registry import get_provider
from adref.settings import Settings
from adref.tasks.policy import cache_key, retry_if_transient


class AnalyzeOutcome(BaseModel):
    """The stored analysis plus what the whole chain spent and did, for the run's record."""

    analysis: Analysis
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    notes: list[str] = Field(default_factory=list)


def plan(provider_spec: str, request: AnalysisRequest) -> str:
    """The chain's planned analysis ids, before any model is called: the task's cache identity."""
    planned = []
    for name in chain_names(provider_spec):
        provider = get_provider(name)
        model = provider.model_for(request)
        version = provider.prompt_version(request)
        planned.append(analysis_id(request.meta.video_id, name, model, version))
    return ",".join(planned)


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    request: AnalysisRequest = inputs["request"]
    if not request.grouping.key:
        raise ValueError("the scene groups carry no key: they were not made by a task")
    return cache_key(
        "analyze", plan(inputs["provider_spec"], request), request.grouping.key, request.words_key()
    )


def run_analysis(
    provider_spec: str, request: AnalysisRequest, settings: Settings
) -> AnalyzeOutcome:
    """Run the chain and stamp the answer with provenance (plain: the bench calls it too)."""
    # lazy: DuckDB, for the day's spend
    from adref.warehouse.catalog import Warehouse
    from adref.warehouse.spend import spent_today

    started = time.perf_counter()
    outcome = run_chain(
        provider_spec, request, settings, lambda: spent_today(Warehouse.of(settings))
    )
    result, name = outcome.result, outcome.provider
    version = result.prompt_version or get_provider(name).prompt_version(request)
    # The content was validated against the prompt's own categories (a Prefect Variable may
    # have added some); validating again here would use only the file's and built-in ones.
    analysis = Analysis.model_construct(
        **dict(result.content),
        analysis_id=analysis_id(request.meta.video_id, name, result.model, version),
        video_id=request.meta.video_id,
        provider=name,
        model=result.model,
        prompt_version=version,
        output_language=request.output_language,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        cost_usd=result.cost_usd,
        latency_s=result.latency_s or (time.perf_counter() - started),
        created_at=utcnow(),
    )
    return AnalyzeOutcome(
        analysis=analysis,
        tokens_in=outcome.tokens_in,
        tokens_out=outcome.tokens_out,
        cost_usd=outcome.cost_usd,
        notes=outcome.notes,
    )


@task(
    name="analyze",
    cache_key_fn=_key,
    persist_result=True,
    retry_condition_fn=retry_if_transient,
)
def analyze(provider_spec: str, request: AnalysisRequest, settings: Settings) -> AnalyzeOutcome:
    return run_analysis(provider_spec, request, settings)


@task(name="estimate")
def estimate(provider_spec: str, request: AnalysisRequest) -> list[CallEstimate]:
    """The calls, tokens and cost each provider of the chain would need: no model is called."""
    return [get_provider(name).estimate(request) for name in chain_names(provider_spec)]
