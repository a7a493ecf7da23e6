"""The ``local`` analyser: rule-based reading of the measured features, no key, no network.

It reports what the pixels measurably show (pacing, light, colour, faces, text, motion,
format) and what the lines read on screen tell by rule (``local.said``: the ad's language, a
call-to-action phrase from ``ADREF_CTA_PHRASES``, brand name candidates, the hook's first words)
and what the voice-over tells the same way (its language, a phrase said, its first line, words a
minute), and leaves what they cannot show (audience, the message) empty. A genre or expression format is given only on a clear cue, with the cue cited.
Measuring lives in ``local_measure``, wording in ``local_text`` and ``local_words``.
"""

from __future__ import annotations

import hashlib
import time

from adref.analysis import AnalysisContent, Features, GroupAnalysis
from adref.categories import formats, genres
from adref.errors import InputError
from adref.models import SceneGroup, Shot
from adref.providers.base import AnalysisRequest, Provider, ProviderResult
from adref.providers.local import text
from adref.providers.local.measure import measure, span
from adref.providers.local.rules import HOOK_S
from adref.providers.local.said import Said, Voice, read_said, read_voice
from adref.providers.local.words import Words
from adref.settings import CTA_PHRASES, Settings, get_settings

RULES_VERSION = "local-rules-3"  # bump on any rule or wording change: cached analyses then renew


class LocalProvider(Provider):
    name = "local"
    default_model = "adref-cv-1"

    def __init__(self, settings: Settings | None = None) -> None:
        self.cta_phrases = tuple((settings or get_settings()).cta_phrases)

    def prompt_version(self, request: AnalysisRequest) -> str:
        key = "|".join(
            (
                RULES_VERSION,
                request.output_language,
                ",".join(sorted(genres())),
                ",".join(sorted(formats())),
                "\x1f".join(self.cta_phrases),
            )
        )
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    def analyze(self, request: AnalysisRequest) -> ProviderResult:
        started = time.perf_counter()
        model = self.model_for(request)
        if model != self.default_model:
            raise InputError(
                f"the local analyser has no model {model!r}",
                f"its only model is {self.default_model}",
                "leave the model unset for the local provider",
            )
        content = describe(request, self.cta_phrases)
        return ProviderResult(
            content=content,
            model=model,
            tokens_in=0,
            tokens_out=0,
            cost_usd=0.0,
            latency_s=time.perf_counter() - started,
        )


def describe(
    request: AnalysisRequest, cta_phrases: tuple[str, ...] | list[str] = CTA_PHRASES
) -> AnalysisContent:
    """The whole analysis from the request's measured features and the lines read on screen
    (no pixels are decoded here)."""
    if not request.shots:
        raise InputError("no shots to analyse", "shot detection found nothing", "check the video")
    words = Words(request.output_language)
    m = measure(request.shots, request.stream)
    by_index = {s.shot_index: s for s in request.shots}
    groups = [
        _group(g, _group_shots(g, by_index), request.stream.aspect, words)
        for g in request.grouping.groups
    ]
    mood = text.mood_words(m, words)
    said = read_said(request.texts, cta_phrases)
    voice = read_voice(request.transcript, request.transcript_language, cta_phrases, HOOK_S)
    # A user's own category lists may lack a code the rules know: then say nothing, not a wrong code.
    genre = m.genre if m.genre in genres() else None
    return AnalysisContent(
        genre=genre,
        genre_reason=text.genre_reason(m, words) if genre else None,
        genre_confidence=m.genre_confidence if genre else None,
        expression_format=m.expression_format if m.expression_format in formats() else None,
        features=Features(
            colour=text.colour_note(m.video.look, words),
            editing=text.editing_note(m, words),
            camera=text.camera_note(m.video, words),
            mood=text.mood_note(m, mood, words),
            message=None,
        ),
        mood=mood,
        tone=words.join(mood[:2]) or None,
        target_audience=None,
        hook=text.hook(m, words, _opening_line(request), voice.opening if voice else None),
        call_to_action=_call_to_action(request, said, voice, m.end_card_text, words),
        brand_cues=said.brands,
        visual_style=text.visual_style(m, words),
        summary=text.summary(m, len(groups), words, _said_phrases(request, said, voice, words)),
        model_tags=text.tags(m, words),
        ad_language=(voice.language if voice else None) or said.language,
        groups=groups,
    )


def _opening_line(request: AnalysisRequest) -> str | None:
    """The first line read in the hook's 3 s, as read."""
    opening = sorted(
        (t for t in request.texts if t.start_s < HOOK_S), key=lambda t: (t.start_s, t.box[1])
    )
    return " ".join(opening[0].text.split()) if opening else None


def _call_to_action(
    request: AnalysisRequest, said: Said, voice: Voice | None, end_card_text: bool, words: Words
) -> str | None:
    """The line with a call-to-action phrase, as written, else as said; else what the end card
    reads; else, with no line read at all, only that the end card carries text."""
    if said.cta:
        return words("cta.read", text=said.cta)
    if voice is not None and voice.cta:
        return words("cta.said", text=voice.cta)
    last = max(request.shots, key=lambda s: s.start_s).shot_index
    end_card = [" ".join(t.text.split()) for t in request.texts if t.shot_index == last]
    if end_card:
        return words("cta.end_card_read", text=" / ".join(end_card))
    return words("cta.end_card") if end_card_text and not request.texts else None


def _said_phrases(
    request: AnalysisRequest, said: Said, voice: Voice | None, words: Words
) -> list[str]:
    """The summary's phrases on the words: lines read on screen, the voice-over's pace."""
    phrases = []
    if request.texts and said.language is not None:
        language = words(f"language.{said.language}")
        phrases.append(words("part.read", n=len(request.texts), language=language))
    if voice is not None and voice.words_per_minute is not None:
        wpm = round(voice.words_per_minute)
        if voice.language is not None and words.has(f"language.{voice.language}"):
            phrases.append(
                words("part.voice", language=words(f"language.{voice.language}"), wpm=wpm)
            )
        else:
            phrases.append(words("part.voice_any", wpm=wpm))
    return phrases


def _group_shots(group: SceneGroup, by_index: dict[int, Shot]) -> list[Shot]:
    missing = [i for i in group.shot_indices if i not in by_index]
    if missing or not group.shot_indices:
        raise InputError(
            f"scene group {group.group_index} names shots that are not in the request",
            f"missing shot indexes {missing[:5]}",
            "re-run grouping on these shots",
        )
    return sorted((by_index[i] for i in group.shot_indices), key=lambda s: s.start_s)


def _group(group: SceneGroup, shots: list[Shot], aspect: float, words: Words) -> GroupAnalysis:
    cues = span(shots, aspect)
    return GroupAnalysis(
        group_index=group.group_index,
        description=text.group_description(group, len(shots), cues, words),
        shot_type=cues.shot_type,
        camera_movement=cues.camera,
    )
