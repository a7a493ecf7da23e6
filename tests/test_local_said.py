"""The ``local`` analyser reading the lines read on screen: language, call to action, brands."""

from __future__ import annotations

from typing import Literal

import pytest

from adref.grouping import group_shots
from adref.models import ShotText, TranscriptSegment, VideoMeta
from adref.providers.base import AnalysisRequest
from adref.providers.local import LocalProvider
from adref.providers.local.said import (
    ad_language,
    brand_candidates,
    call_to_action,
    cta_pattern,
    read_said,
    read_voice,
)
from adref.settings import CTA_PHRASES, Settings
from tests.factories import make_shots, make_stream


def lines(*said: tuple[int, str]) -> list[ShotText]:
    return [
        ShotText(
            shot_index=shot,
            start_s=shot * 2.0,
            text=text,
            confidence=0.9,
            box=(20, 20 + 30 * n, 200, 24),
        )
        for n, (shot, text) in enumerate(said)
    ]


# A made-up 5-shot Korean ad for a soda called FIZZ (피즈 in Hangul), ending on its CTA.
KOREAN_AD = lines(
    (0, "여름엔 FIZZ"),
    (1, "피즈 레몬 탄산수"),
    (2, "상쾌한 하루를 시작하세요"),
    (3, "피즈는 무설탕"),
    (4, "FIZZ"),
    (4, "지금 구매하세요 fizz.co.kr"),
)
ENGLISH_AD = lines(
    (0, "Meet Lumo"),
    (1, "The Lumo Lamp lights your desk"),
    (2, "Three colours. One switch."),
    (3, "Lumo"),
    (3, "Shop now at lumo.com"),
)


def test_language_follows_the_letters_korean_winning_at_a_third() -> None:
    assert ad_language(t.text for t in KOREAN_AD) == "ko"
    assert ad_language(t.text for t in ENGLISH_AD) == "en"
    # Mostly English with a Korean tagline: still a Korean ad.
    assert ad_language(["NEW SUMMER COLLECTION", "새로운 여름"]) == "ko"
    assert ad_language(["SALE 50% OFF EVERYTHING MUST GO", "신상"]) == "en"
    assert ad_language(["期間限定セール"]) == "ja"
    assert ad_language(["50%", "OK"]) is None  # too few letters
    assert ad_language([]) is None


def test_a_call_to_action_phrase_is_found_in_any_case_and_spacing() -> None:
    assert call_to_action(KOREAN_AD, CTA_PHRASES) == "지금 구매하세요 fizz.co.kr"
    assert call_to_action(ENGLISH_AD, CTA_PHRASES) == "Shop now at lumo.com"
    assert call_to_action(lines((0, "SHOPNOW")), CTA_PHRASES) == "SHOPNOW"
    assert call_to_action(lines((0, "지금구매")), CTA_PHRASES) == "지금구매"
    assert call_to_action(lines((0, "검색창에  피즈")), CTA_PHRASES) == "검색창에 피즈"
    # Whole words for Latin phrases: a visitor is not asked to visit.
    assert call_to_action(lines((0, "Every visitor smiles")), CTA_PHRASES) is None
    assert call_to_action(lines((0, "A quiet morning")), CTA_PHRASES) is None
    # The last one wins: the end card's, not an early super's.
    said = lines((0, "Learn more inside"), (4, "Download the app"))
    assert call_to_action(said, CTA_PHRASES) == "Download the app"


def test_the_phrases_are_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADREF_CTA_PHRASES", "매장에서 만나요, Come in")
    phrases = Settings().cta_phrases
    assert phrases == ["매장에서 만나요", "Come in"]
    assert call_to_action(lines((0, "매장에서만나요")), phrases) == "매장에서만나요"
    assert call_to_action(ENGLISH_AD, phrases) is None
    assert cta_pattern(()) is None and call_to_action(ENGLISH_AD, []) is None


def test_brand_candidates_are_the_most_repeated_names() -> None:
    assert brand_candidates(KOREAN_AD, CTA_PHRASES)[:2] == ["FIZZ", "피즈"]
    assert brand_candidates(ENGLISH_AD, CTA_PHRASES)[0] == "Lumo"
    # Common words of supers are not names, however often written; one mention is not enough.
    said = lines((0, "NEW Sale"), (1, "NEW Sale"), (2, "Only Today"), (3, "Aurora"))
    assert brand_candidates(said, CTA_PHRASES) == []
    # Lowercase words are not names either.
    assert brand_candidates(lines((0, "soda"), (1, "soda")), CTA_PHRASES) == []


def analyse(
    texts: list[ShotText], language: Literal["ko", "en"] = "en", n_shots: int = 5
) -> AnalysisRequest:
    shots = make_shots([("warm", 2.0)] * (n_shots - 1) + [("white_card", 2.0)])
    shots[-1] = shots[-1].model_copy(update={"has_text": True})
    shots[0] = shots[0].model_copy(update={"has_text": True})
    stream = make_stream(2.0 * n_shots)
    return AnalysisRequest(
        meta=VideoMeta(video_id="sha256:said"),
        stream=stream,
        shots=shots,
        grouping=group_shots(shots, stream),
        output_language=language,
        texts=texts,
    )


def test_the_local_analysis_is_grounded_in_the_supers() -> None:
    content = LocalProvider().analyze(analyse(KOREAN_AD)).content
    assert content.ad_language == "ko"
    assert content.call_to_action == "on screen: “지금 구매하세요 fizz.co.kr”"
    assert content.brand_cues[:2] == ["FIZZ", "피즈"]
    assert "text “여름엔 FIZZ”" in (content.hook or "")
    assert "6 lines read on screen, in Korean" in (content.summary or "")
    korean = LocalProvider().analyze(analyse(ENGLISH_AD, "ko")).content
    assert korean.call_to_action == "화면 문구: “Shop now at lumo.com”"
    assert "화면 문구 5줄 (영어)" in (korean.summary or "")


def test_an_end_card_without_a_cta_phrase_is_quoted_not_invented() -> None:
    content = LocalProvider().analyze(analyse(lines((4, "LUMO"), (4, "Light, simply.")))).content
    assert content.call_to_action == (
        "end card reads “LUMO / Light, simply.” (no call-to-action phrase found)"
    )
    assert content.brand_cues == []  # written once: not yet a candidate
    assert content.ad_language == "en"


def test_without_lines_read_nothing_is_invented() -> None:
    content = LocalProvider().analyze(analyse([])).content
    assert content.ad_language is None and content.brand_cues == []
    assert content.call_to_action == "end card with on-screen text (text not read)"


def test_the_phrases_shape_the_local_prompt_version() -> None:
    request = analyse(KOREAN_AD)
    default = LocalProvider(Settings()).prompt_version(request)
    other = LocalProvider(Settings(cta_phrases=["Come in"])).prompt_version(request)
    assert default != other
    # The words read are facts, not the version: the analyze task's key carries them.
    assert LocalProvider(Settings()).prompt_version(analyse(ENGLISH_AD)) == default


def test_read_said_bundles_the_three() -> None:
    said = read_said(ENGLISH_AD, CTA_PHRASES)
    assert (said.language, said.cta, said.brands[0]) == ("en", "Shop now at lumo.com", "Lumo")


def said_aloud(*segments: tuple[float, float, str]) -> list[TranscriptSegment]:
    return [TranscriptSegment(start_s=a, end_s=b, text=t) for a, b, t in segments]


# The FIZZ ad's voice-over: 15 words over 7.5 s of speech (two segments overlap by 1 s).
FIZZ_VOICE = said_aloud(
    (0.5, 3.0, "여름엔 역시 피즈"),
    (3.5, 6.5, "상쾌한 레몬 탄산수 피즈 무설탕으로 가볍게"),
    (5.5, 7.0, "한 잔 더"),
    (7.5, 9.0, "지금 바로 만나보세요"),
)


def test_read_voice_gives_language_cta_opening_and_words_a_minute() -> None:
    voice = read_voice(FIZZ_VOICE, None, CTA_PHRASES, hook_s=3.0)
    assert voice is not None
    assert voice.language == "ko"  # from the letters, no engine's language given
    assert voice.cta == "지금 바로 만나보세요"
    assert voice.opening == "여름엔 역시 피즈"
    assert voice.words == 15 and voice.speech_s == pytest.approx(2.5 + 3.0 + 0.5 + 1.5)
    assert voice.words_per_minute == pytest.approx(15 * 60 / 7.5)
    # The engine's language wins over the letters; blanks are nothing said.
    assert read_voice(FIZZ_VOICE, "en", CTA_PHRASES, 3.0).language == "en"  # type: ignore[union-attr]
    assert read_voice(said_aloud((0.0, 2.0, "  ")), "ko", CTA_PHRASES, 3.0) is None
    assert read_voice([], None, CTA_PHRASES, 3.0) is None
    # The hook quotes the first sentence said, cut at a word: a segment may run far past 3 s.
    long = said_aloud(
        (
            0.0,
            10.6,
            "Summer is here, meet Fizz, the lemon soda with no sugar, light and fresh. Buy one.",
        )
    )
    assert read_voice(long, None, CTA_PHRASES, 3.0).opening == (  # type: ignore[union-attr]
        "Summer is here, meet Fizz, the lemon soda with no sugar…"
    )
    assert (
        read_voice(said_aloud((0.0, 4.0, "Hello there. Buy now.")), None, CTA_PHRASES, 3.0).opening
        == "Hello there."
    )  # type: ignore[union-attr]
    late = read_voice(said_aloud((4.0, 6.0, "Hi.")), None, CTA_PHRASES, 3.0)
    assert late is not None and late.opening is None and late.cta is None
    assert late.language is None  # two letters are too few


def test_the_local_analysis_uses_the_voice_over() -> None:
    request = analyse([], language="en").model_copy(
        update={"transcript": FIZZ_VOICE, "transcript_language": "ko"}
    )
    content = LocalProvider().analyze(request).content
    assert content.ad_language == "ko"
    assert content.call_to_action == "said: “지금 바로 만나보세요”"
    assert "voice-over “여름엔 역시 피즈”" in (content.hook or "")
    assert "voice-over in Korean at 120 words a minute" in (content.summary or "")
    # On screen, a phrase as written wins over the one said; both phrases are in the summary.
    both = analyse(KOREAN_AD, language="ko").model_copy(
        update={"transcript": FIZZ_VOICE, "transcript_language": "ko"}
    )
    content = LocalProvider().analyze(both).content
    assert content.call_to_action == "화면 문구: “지금 구매하세요 fizz.co.kr”"
    assert "화면 문구 6줄 (한국어)" in (content.summary or "")
    assert "한국어 내레이션 분당 120단어" in (content.summary or "")
    # A language the words do not name is left out of the phrase, not guessed.
    other = request.model_copy(update={"transcript_language": "sv"})
    assert "voice-over at 120 words a minute" in (
        LocalProvider().analyze(other).content.summary or ""
    )
