"""The provider interface: every analyser, local or remote, answers the same request the same way.

A provider gets everything measured so far (metadata, stream, shots, scene groups) and returns
an ``AnalysisContent`` plus its usage. Provenance (ids, timestamps) is added by the caller, so a
provider cannot get it wrong.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel

from adref.analysis import AnalysisContent, AnalysisRequest

# The request is core data (the warehouse rebuilds one for a re-analysis); it is named here too
# because a provider, built-in or plug-in, is written against this module.
__all__ = ["AnalysisRequest", "CallEstimate", "Provider", "ProviderResult"]


class ProviderResult(BaseModel):
    content: AnalysisContent
    model: str
    prompt_version: str | None = None  # the version the answer was asked with, when known
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0


class CallEstimate(BaseModel):
    """What analysing one video would cost, planned before any call (``--estimate``)."""

    provider: str
    model: str
    calls: int = 0
    images: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


class Provider(ABC):
    """One analyser. Subclasses set ``name`` and ``default_model`` and implement ``analyze``."""

    name: ClassVar[str]
    default_model: ClassVar[str]

    @abstractmethod
    def prompt_version(self, request: AnalysisRequest) -> str:
        """A short hash of everything that shapes the answer besides the pixels (prompt, rules)."""

    @abstractmethod
    def analyze(self, request: AnalysisRequest) -> ProviderResult:
        """Analyse one video. Raise ``adref.errors`` types; never return a half-valid answer."""

    def model_for(self, request: AnalysisRequest) -> str:
        return request.model or self.default_model

    def estimate(self, request: AnalysisRequest) -> CallEstimate:
        """The planned calls, tokens and cost, without calling. Free analysers cost nothing."""
        return CallEstimate(provider=self.name, model=self.model_for(request))
