"""Ask a provider what the ad is; cached on the analysis id (video, provider, model, prompt)."""

from __future__ import annotations

import time
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from adref.models import analysis_id, utcnow
from adref.providers.base import AnalysisRequest
from adref.providers.registry import get_provider
from adref.providers.schema import Analysis
from adref.tasks.policy import cache_key


def plan(provider_name: str, request: AnalysisRequest) -> tuple[str, str, str]:
    """Return (model, prompt_version, analysis_id) before any model is called."""
    provider = get_provider(provider_name)
    model = provider.model_for(request)
    version = provider.prompt_version(request)
    return model, version, analysis_id(request.meta.video_id, provider_name, model, version)


def _key(ctx: TaskRunContext, inputs: dict[str, Any]) -> str:
    return cache_key("analyze", inputs["planned_id"], inputs["group_key"])


def run_analysis(provider_name: str, request: AnalysisRequest) -> Analysis:
    """Call the provider and stamp its answer with provenance (plain: the bench calls it too)."""
    provider = get_provider(provider_name)
    started = time.perf_counter()
    result = provider.analyze(request)
    version = provider.prompt_version(request)
    return Analysis(
        **result.content.model_dump(),
        analysis_id=analysis_id(request.meta.video_id, provider_name, result.model, version),
        video_id=request.meta.video_id,
        provider=provider_name,
        model=result.model,
        prompt_version=version,
        output_language=request.output_language,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        cost_usd=result.cost_usd,
        latency_s=result.latency_s or (time.perf_counter() - started),
        created_at=utcnow(),
    )


@task(name="analyze", cache_key_fn=_key, persist_result=True)
def analyze(
    provider_name: str, request: AnalysisRequest, planned_id: str, group_key: str
) -> Analysis:
    return run_analysis(provider_name, request)
