"""``--provider anthropic,openai,local``: try in order, move on after a hard failure.

A provider is skipped before it is called when its planned cost would pass a spending cap, and
left after a hard failure (auth, quota, retries used up, a refusal). An invalid answer is not a
reason to move on: it fails the run with the raw answer saved, as a model that answers badly
should be looked at, not hidden. Every step is recorded so the run can say what happened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from adref.errors import InputError, ProviderError, ProviderHardError
from adref.providers.base import AnalysisRequest, ProviderResult
from adref.providers.registry import get_provider
from adref.providers.spending_caps import SpentToday, over_cap
from adref.settings import Settings

log = logging.getLogger(__name__)


def chain_names(spec: str) -> list[str]:
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise InputError("no provider given", "the provider list is empty", "e.g. --provider local")
    if len(set(names)) != len(names):
        raise InputError(f"provider {spec!r} names one provider twice")
    for name in names:
        get_provider(name)  # an unknown name fails now, not after the first call
    return names


@dataclass
class _Spent:
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0

    def add(self, exc: ProviderError) -> None:
        self.tokens_in += exc.tokens_in
        self.tokens_out += exc.tokens_out
        self.cost_usd += exc.cost_usd


@dataclass
class ChainOutcome:
    provider: str
    result: ProviderResult
    tokens_in: int = 0  # every call's, failed ones included
    tokens_out: int = 0
    cost_usd: float = 0.0
    notes: list[str] = field(default_factory=list)


def run_chain(
    spec: str, request: AnalysisRequest, settings: Settings, spent_today: SpentToday
) -> ChainOutcome:
    """The first answer of the chain; ``spent_today`` reads the day's spend (asked only for a
    paid call), e.g. ``lambda: adref.warehouse.spend.spent_today(Warehouse.of(settings))``."""
    names = chain_names(spec)
    notes: list[str] = []
    failed = _Spent()  # what providers that failed still cost: the run pays it
    last: ProviderHardError | None = None
    for position, name in enumerate(names):
        provider = get_provider(name)
        planned = provider.estimate(request).cost_usd
        if (why := over_cap(planned, failed.cost_usd, settings, spent_today)) is not None:
            notes.append(f"{name}: skipped, {why}")
            log.warning("%s skipped: %s", name, why)
            last = ProviderHardError(f"{name} not called", why, provider=name)
            continue
        try:
            result = provider.analyze(request)
        except ProviderHardError as exc:
            last = exc
            failed.add(exc)
            notes.append(f"{name}: {exc.what}" + (f" ({exc.why})" if exc.why else ""))
            if position + 1 < len(names):
                log.warning(
                    "%s failed (%s); falling back to %s", name, exc.what, names[position + 1]
                )
            continue
        except ProviderError as exc:  # an invalid answer ends the run: with all it cost
            exc.charge(failed.tokens_in, failed.tokens_out, failed.cost_usd)
            exc.notes = notes
            raise
        if notes:
            notes.append(f"answered by {name}")
        return ChainOutcome(
            provider=name,
            result=result,
            tokens_in=failed.tokens_in + result.tokens_in,
            tokens_out=failed.tokens_out + result.tokens_out,
            cost_usd=failed.cost_usd + result.cost_usd,
            notes=notes,
        )
    assert last is not None
    if len(names) > 1:
        last = ProviderHardError(
            "every provider in the chain failed",
            "; ".join(notes)[:500],
            "add local at the end of --provider to always get an analysis",
            provider=names[-1],
        )
        last.charge(failed.tokens_in, failed.tokens_out, failed.cost_usd)
        last.notes = notes
    raise last
