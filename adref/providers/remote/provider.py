"""Model providers over the vendors' SDKs: plan, spend-check, call, repair or re-ask once.

One class holds everything the vendors share; each vendor adds only how to build its client.
The shape of a call: the effective prompt (repo defaults + Prefect Variables) is read once, the
scene groups' keyframes are sized for the vendor, the local analyser's measurements go in as
facts, and the answer must validate against the same schema for every vendor. Retries happen
here and only here (the SDKs are built with theirs off): 429 waits as long as Retry-After says
(up to ``ADREF_PROVIDER_RETRY_CAP_S``), 5xx and timeouts back off, and when the retries are
used up the provider has failed hard, so a fallback chain moves on. An invalid answer is
repaired when the repair is certain, else re-asked once with the validation problem; a second
invalid answer fails with the raw answers saved for inspection. Nothing half-valid is returned.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from abc import abstractmethod
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from adref import categories
from adref.analysis import AnalysisContent
from adref.errors import AnswerInvalid, ProviderError, ProviderHardError, ProviderTransient
from adref.models import safe_id
from adref.providers.base import AnalysisRequest, CallEstimate, Provider, ProviderResult
from adref.providers.remote.answer import AnswerProblem, answer_schema, parse_answer, reask_feedback
from adref.providers.remote.concurrency import model_slot
from adref.providers.remote.cost_estimates import cost_usd, estimate_call
from adref.providers.remote.images import prepare_images, select_frames
from adref.providers.remote.keys import api_key
from adref.providers.remote.prompt import (
    PromptSpec,
    effective_prompt,
    facts_from_local,
    prompt_version,
    render,
)
from adref.providers.remote.vendor_call import Vendor, VendorAnswer, VendorCall, VendorClient
from adref.settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_OUTPUT_TOKENS = 4096


def pause(seconds: float) -> None:
    """The one place a retry waits, so a test can record the wait asked for instead of sleeping."""
    time.sleep(seconds)


@dataclass
class _Usage:
    tokens_in: int = 0
    tokens_out: int = 0


class RemoteProvider(Provider):
    vendor: ClassVar[Vendor]

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        # One provider object serves one plan-estimate-call sequence (a chain step): the prompt
        # is read from Prefect once and the images are sized once, not again for the call.
        self._spec: PromptSpec | None = None
        self._plans: dict[int, tuple[AnalysisRequest, VendorCall]] = {}

    @abstractmethod
    def make_client(self, key: str) -> VendorClient:
        """The vendor's SDK client for this key and the settings' endpoint and timeout."""

    # -- planning (no network) ---------------------------------------------------------------

    def prompt_version(self, request: AnalysisRequest) -> str:
        return self._version(self._prompt(), request)

    def _prompt(self) -> PromptSpec:
        if self._spec is None:
            self._spec = effective_prompt()
        return self._spec

    def _version(self, spec: PromptSpec, request: AnalysisRequest) -> str:
        schema = answer_schema(list(spec.genres), list(spec.formats))
        text = prompt_version(spec, schema, output_language=request.output_language)
        # How the pictures are cut and how much of the words is sent shape the answer too:
        # a change is a new analysis. (The words themselves are facts: the task's cache key.)
        s = self.settings
        raw = f"{text}|{s.image_mode}|{s.prompt_text_tokens}|{s.prompt_speech_tokens}"
        return hashlib.sha256(raw.encode()).hexdigest()[:12]

    def plan_call(self, request: AnalysisRequest) -> VendorCall:
        planned = self._plans.get(id(request))
        if planned is not None and planned[0] is request:
            return planned[1]
        call = self._plan_call(request, self._prompt())
        self._plans[id(request)] = (request, call)
        return call

    def _plan_call(self, request: AnalysisRequest, spec: PromptSpec) -> VendorCall:
        mode, cap = self.settings.image_mode, self.settings.max_analysis_images
        images = prepare_images(select_frames(request), self.vendor, mode, cap)
        system, user_text = render(
            spec,
            request,
            facts_from_local(request),
            [image.label for image in images],
            self.settings.prompt_text_tokens,
            self.settings.prompt_speech_tokens,
        )
        return VendorCall(
            model=self.model_for(request),
            system=system,
            user_text=user_text,
            images=images,
            schema=answer_schema(list(spec.genres), list(spec.formats)),
            max_output_tokens=MAX_OUTPUT_TOKENS,
            timeout_s=self.settings.provider_timeout_s,
        )

    def estimate(self, request: AnalysisRequest) -> CallEstimate:
        call = self.plan_call(request)
        tokens_in, tokens_out, cost = estimate_call(self.vendor, call, self.settings)
        return CallEstimate(
            provider=self.name,
            model=call.model,
            calls=1,
            images=len(call.images),
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost,
        )

    # -- the call ----------------------------------------------------------------------------

    def analyze(self, request: AnalysisRequest) -> ProviderResult:
        started = time.perf_counter()
        spec = self._prompt()
        call = self.plan_call(request)
        client = self.make_client(api_key(self.name, self.settings))
        used = _Usage()
        try:
            with categories.using(spec.genres, spec.formats):
                content, model = self._answer(client, call, request, spec, used)
        except ProviderError as exc:
            # Answers that came back still cost money, even when the run then fails.
            exc.charge(used.tokens_in, used.tokens_out, self._cost(call, used))
            raise
        return ProviderResult(
            content=content,
            model=model,
            prompt_version=self._version(spec, request),
            tokens_in=used.tokens_in,
            tokens_out=used.tokens_out,
            cost_usd=self._cost(call, used),
            latency_s=time.perf_counter() - started,
        )

    def _answer(
        self,
        client: VendorClient,
        call: VendorCall,
        request: AnalysisRequest,
        spec: PromptSpec,
        used: _Usage,
    ) -> tuple[AnalysisContent, str]:
        """A valid answer, repaired or asked for once more; else AnswerInvalid, raw saved."""
        groups = request.grouping.analysis_groups or [
            g.group_index for g in request.grouping.groups
        ]
        answers: list[str] = []
        problem: AnswerProblem | None = None
        for attempt in (1, 2):
            answer = self._send(client, call)
            if answer.tokens_in < 0 or answer.tokens_out < 0:  # a gateway's bug: would lower
                log.warning(  # the day's spend and let the cap pass
                    "%s reported negative token usage (%d in, %d out): counted as none",
                    self.name,
                    answer.tokens_in,
                    answer.tokens_out,
                )
            used.tokens_in += max(0, answer.tokens_in)
            used.tokens_out += max(0, answer.tokens_out)
            answers.append(answer.text)
            self._refused(answer)
            try:
                return self._parse(answer, request, spec, groups), answer.model or call.model
            except AnswerProblem as exc:
                problem = exc
                log.warning("%s answer %d was not valid: %s", self.name, attempt, exc.reason)
                call = replace(
                    call,
                    previous_answer=answer.text,
                    retry_feedback=reask_feedback(exc),
                    # A cut-off answer gets room to finish the second time.
                    max_output_tokens=call.max_output_tokens
                    * (2 if answer.finish_reason == "length" else 1),
                )
        raw_path = self._save_raw(request, answers)
        raise AnswerInvalid(
            f"{self.name} gave no valid analysis",
            f"twice invalid, last: {problem.reason if problem else 'unknown'}"[:400],
            f"the raw answers are in {raw_path}",
            provider=self.name,
            raw_path=str(raw_path),
        )

    def _cost(self, call: VendorCall, used: _Usage) -> float:
        return cost_usd(self.vendor, call.model, used.tokens_in, used.tokens_out, self.settings)

    def _send(self, client: VendorClient, call: VendorCall) -> VendorAnswer:
        tries = self.settings.provider_retries + 1
        for attempt in range(1, tries + 1):
            try:
                with model_slot(self.name, self.settings):
                    return client.send(call)
            except ProviderTransient as exc:
                if attempt == tries:
                    raise ProviderHardError(
                        f"{self.name} kept failing",
                        f"{tries} tries, last: {exc.why or exc.what}",
                        "try again later or use another provider",
                        provider=self.name,
                    ) from None
                wait = self._wait(attempt, exc.retry_after_s)
                log.warning("%s: %s; retry %d in %.1f s", self.name, exc.what, attempt, wait)
                pause(wait)
        raise AssertionError("the loop returns or raises")

    def _wait(self, attempt: int, retry_after_s: float | None) -> float:
        cap = self.settings.provider_retry_cap_s
        if retry_after_s is not None:
            return min(cap, max(0.0, retry_after_s))
        backoff = self.settings.retry_delay_s * 2 ** (attempt - 1)
        return min(cap, backoff * random.uniform(0.8, 1.2))

    def _refused(self, answer: VendorAnswer) -> None:
        if answer.finish_reason in ("refusal", "safety"):
            why = (answer.refusal or answer.finish_reason).strip()[:200]
            raise ProviderHardError(
                f"{self.name} declined to analyse this video",
                why,
                "another provider in the chain (or local) can still analyse it",
                provider=self.name,
            )

    def _parse(
        self,
        answer: VendorAnswer,
        request: AnalysisRequest,
        spec: PromptSpec,
        groups: list[int],
    ) -> AnalysisContent:
        return parse_answer(
            answer.text,
            group_indexes=groups,
            site_tags=request.meta.site_tags,
            genre_table=spec.genres,
            format_table=spec.formats,
        )

    def _save_raw(self, request: AnalysisRequest, answers: list[str]) -> Path:
        folder = self.settings.home.expanduser() / "answers"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = folder / f"{safe_id(request.meta.video_id)}-{self.name}-{stamp}.txt"
        sep = "\n\n----- next answer -----\n\n"
        path.write_text(sep.join(answers), encoding="utf-8")
        return path
