"""What the ad says, read by rule from the lines the text stage read on screen (no model).

Three things a reader of the supers can tell without understanding them:

- the ad's language: the script with most letters (a Hangul syllable counting as two), where
  Korean wins at a third of the letters
  (Korean ads carry English brand names and slogans; an English ad rarely carries Hangul);
- a call to action: the first line, from the last shot back, holding one of the configured phrases
  (``ADREF_CTA_PHRASES``, Korean and English), matched ignoring case and spacing;
- brand name candidates: the capitalised Latin words and the Hangul words repeated most across
  shots (a brand is written again and again; a super's other words seldom are), common words of
  supers and the phrases' own words left out.

The voice-over, when the speech step heard one, tells the same way: its language (the engine's,
else its letters'), a call-to-action phrase said (the last segment holding one), the line said
first, and how fast it is spoken: words a minute of speech (words as written between spaces, a
Korean eojeol counting as one; minutes of the segments' spans, overlaps counted once).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from adref.models import ShotText, TranscriptSegment

KOREAN_SHARE = 0.33  # Hangul this share of the letters on screen makes a Korean ad
SYLLABLE_LETTERS = 2  # a Hangul syllable block writes about what two Latin letters do
MIN_LETTERS = 4  # fewer letters than this read on screen say nothing about the language
MAX_BRANDS = 3
MIN_BRAND_SHOTS = 2  # a candidate is written in at least this many shots...
MIN_BRAND_LINES = 3  # ...or this many lines (a one-shot ad repeats it in one super)

OPENING_CHARS = 60  # the hook's line said, at most
_SENTENCE_END = re.compile(r"(?<=[.!?。？！])\s")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'&.\-]*[A-Za-z0-9]|[\uac00-\ud7a3]{2,}")
# Particles a Hangul word carries at its end: "브랜드는" and "브랜드" are the same name.
_PARTICLES = (
    "에서",
    "으로",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "의",
    "에",
    "와",
    "과",
    "도",
    "로",
)


# Words of supers that are not names: articles, offers, prices, times, the usual verbs.
def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_COMMON = _set(
    """a an and the of for to in on at by with from your you our we it is are be this that
    all new now more most get buy shop order sale off free only up get just now today here
    best big save deal deals event limited time day days week special price plus pro app
    www com co kr net org http https"""
) | _set(
    """지금 바로 오늘 최대 할인 이벤트 특가 무료 구매 구매하기 구매하세요 주문 주문하기 신규 고객
    가입 혜택 기간 한정 단독 출시 새로운 모든 우리 당신 여러분 함께 더욱 가장 정말 이제 만나보세요
    확인하세요 지금바로 그리고 하지만 위한 있는 없는 하는"""
)


@dataclass(frozen=True)
class Said:
    """What the supers tell: the ad's language, its call-to-action line, brand candidates."""

    language: str | None
    cta: str | None  # the line with the call to action, as read
    brands: list[str]


@dataclass(frozen=True)
class Voice:
    """What the voice-over tells: its language, a call to action said, its first line, pace."""

    language: str | None
    cta: str | None  # the segment with the call to action, as transcribed
    opening: str | None  # the first sentence of the first segment begun within ``hook_s``
    words: int
    speech_s: float  # seconds of speech (the segments' spans, overlaps once)

    @property
    def words_per_minute(self) -> float | None:
        return self.words * 60 / self.speech_s if self.words and self.speech_s > 0 else None


def read_said(texts: Sequence[ShotText], cta_phrases: Sequence[str]) -> Said:
    ordered = sorted(texts, key=lambda t: (t.start_s, t.shot_index, t.box[1], t.box[0]))
    return Said(
        language=ad_language(t.text for t in ordered),
        cta=call_to_action(ordered, cta_phrases),
        brands=brand_candidates(ordered, cta_phrases),
    )


def read_voice(
    transcript: Sequence[TranscriptSegment],
    language: str | None,
    cta_phrases: Sequence[str],
    hook_s: float,
) -> Voice | None:
    """None when nothing was said (or no engine listened)."""
    segments = sorted((s for s in transcript if s.text.strip()), key=lambda s: s.start_s)
    if not segments:
        return None
    pattern = cta_pattern(tuple(cta_phrases))
    said_cta = [s for s in segments if pattern is not None and pattern.search(s.text)]
    opening = next((s for s in segments if s.start_s < hook_s), None)
    return Voice(
        language=language or ad_language(s.text for s in segments),
        cta=" ".join(said_cta[-1].text.split()) if said_cta else None,
        opening=_lead(opening.text) if opening else None,
        words=sum(len(s.text.split()) for s in segments),
        speech_s=_covered(segments),
    )


def _lead(text: str, limit: int = OPENING_CHARS) -> str:
    """The first sentence of ``text``, cut at a word under ``limit`` characters: a segment can
    run for many seconds past the hook."""
    first = _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0] if " " in first[:limit] else first[:limit]
    return cut.rstrip(",;: ") + "…"


def _covered(segments: Sequence[TranscriptSegment]) -> float:
    """Seconds covered by the segments (sorted by start), each overlap counted once."""
    total, reach = 0.0, float("-inf")
    for s in segments:
        start = max(s.start_s, reach)
        if s.end_s > start:
            total += s.end_s - start
        reach = max(reach, s.end_s)
    return total


def ad_language(lines: Iterable[str]) -> str | None:
    """An ISO 639-1 code from the letters of ``lines``, or None when too few were there."""
    counts = Counter[str]()
    for line in lines:
        counts["ko"] += SYLLABLE_LETTERS * len(_HANGUL.findall(line))
        counts["en"] += len(_LATIN.findall(line))
        counts["ja"] += len(_KANA.findall(line))
        counts["zh"] += len(_HAN.findall(line))
    if counts["ja"]:  # Japanese writes Han characters among its kana
        counts["ja"] += counts.pop("zh")
    total = sum(counts.values())
    if total < MIN_LETTERS:
        return None
    if counts["ko"] / total >= KOREAN_SHARE:
        return "ko"
    return counts.most_common(1)[0][0]


def call_to_action(texts: Sequence[ShotText], phrases: Sequence[str]) -> str | None:
    """The last line read that holds a call-to-action phrase (the end card's, most often)."""
    pattern = cta_pattern(tuple(phrases))
    if pattern is None:
        return None
    for t in reversed(texts):
        if pattern.search(t.text):
            return " ".join(t.text.split())
    return None


@lru_cache(maxsize=8)
def cta_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for all phrases: any spacing between their words (OCR drops and adds
    spaces, Korean spacing varies), no case, and whole words where they begin or end in Latin
    letters ("visit" does not match "visitor")."""
    parts = []
    for phrase in phrases:
        words = phrase.split()
        if not words:
            continue
        body = r"\s*".join(re.escape(w) for w in words)
        head = r"\b" if words[0][0].isascii() and words[0][0].isalnum() else ""
        tail = r"\b" if words[-1][-1].isascii() and words[-1][-1].isalnum() else ""
        parts.append(f"{head}{body}{tail}")
    if not parts:
        return None
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


def brand_candidates(texts: Sequence[ShotText], phrases: Sequence[str] = ()) -> list[str]:
    """The capitalised Latin words and Hangul words written most often across shots, as first
    written; only words repeated (``MIN_BRAND_SHOTS`` shots or ``MIN_BRAND_LINES`` lines)."""
    excluded = set(_COMMON) | {w.casefold() for p in phrases for w in p.split()}
    shots: dict[str, set[int]] = {}
    lines: Counter[str] = Counter()
    first_seen: dict[str, str] = {}
    for t in texts:
        for raw in _TOKEN.findall(t.text):
            word = _name(raw)
            if word is None or word.casefold() in excluded:
                continue
            key = word.casefold()
            first_seen.setdefault(key, word)
            shots.setdefault(key, set()).add(t.shot_index)
            lines[key] += 1
    ranked = sorted(
        (k for k in shots if len(shots[k]) >= MIN_BRAND_SHOTS or lines[k] >= MIN_BRAND_LINES),
        key=lambda k: (-len(shots[k]), -lines[k], list(first_seen).index(k)),
    )
    return [first_seen[k] for k in ranked[:MAX_BRANDS]]


def _name(token: str) -> str | None:
    """A token that may be a name: a capitalised Latin word of two letters or more, or a Hangul
    word of two syllables or more with its particle cut off; else None."""
    if _HANGUL.match(token):
        for particle in _PARTICLES:
            if token.endswith(particle) and len(token) - len(particle) >= 2:
                return token[: -len(particle)]
        return token
    letters = [c for c in token if c.isalpha()]
    if len(letters) < 2 or not token[0].isupper():
        return None
    return token.rstrip(".-'")
