"""The ``local`` analyser on hand-built shots: each cue in, the matching honest words out."""

from __future__ import annotations

import re
import string
from typing import Any, Literal

import pytest

from adref.analysis import AnalysisContent
from adref.errors import InputError
from adref.grouping import group_shots
from adref.models import Shot, StreamInfo, VideoMeta
from adref.providers.base import AnalysisRequest, ProviderResult
from adref.providers.local import LocalProvider
from adref.providers.local.words import EN, KO
from adref.providers.registry import get_provider
from tests.factories import Look, make_shots, make_stream

HANGUL = re.compile(r"[\uac00-\ud7a3]")
END_CARD_EN = "end card with on-screen text (text not read)"


def analyse(
    shots: list[Shot],
    stream: StreamInfo,
    language: Literal["ko", "en"] = "en",
    granularity: int = 5,
    model: str | None = None,
) -> ProviderResult:
    request = AnalysisRequest(
        meta=VideoMeta(video_id="sha256:test"),
        stream=stream,
        shots=shots,
        grouping=group_shots(shots, stream, granularity),
        output_language=language,
        model=model,
    )
    return LocalProvider().analyze(request)


def even(looks: list[str | Look], total_s: float, **features: Any) -> list[Shot]:
    """Shots of equal length filling ``total_s``."""
    return make_shots([(look, total_s / len(looks)) for look in looks], **features)


def with_features(shots: list[Shot], index: int, **features: Any) -> list[Shot]:
    shots = shots[:]
    shots[index] = shots[index].model_copy(update=features)
    return shots


# --- colour and light --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("look", "en", "ko"), [("warm", "warm", "따뜻한 톤"), ("cool", "cool", "차가운 톤")]
)
def test_palette_temperature_gives_warm_or_cool_words(look: str, en: str, ko: str) -> None:
    shots = even([look] * 4, 20.0)
    english = analyse(shots, make_stream(20.0), "en").content
    korean = analyse(shots, make_stream(20.0), "ko").content
    assert en in english.model_tags and en in english.mood
    assert f"{en} tones" in (english.features.colour or "")
    assert ko in korean.model_tags
    assert ko in (korean.features.colour or "")
    other = "cool" if en == "warm" else "warm"
    assert other not in english.model_tags


def test_dominant_colours_are_named_with_their_share() -> None:
    content = analyse(even(["cool"] * 3, 30.0), make_stream(30.0)).content
    assert "blue" in content.model_tags
    assert re.search(r"blue \d+%", content.features.colour or "")


def test_dark_and_monochrome_frames_are_called_so() -> None:
    night = analyse(even(["night"] * 3, 30.0), make_stream(30.0)).content
    assert "dark" in night.model_tags
    grey = analyse(even(["grey"] * 3, 30.0), make_stream(30.0)).content
    assert "monochrome" in grey.model_tags and "vivid" not in grey.model_tags


# --- format and pacing -------------------------------------------------------------------


def test_vertical_fifteen_seconds_reads_as_short_form() -> None:
    shots = even(["warm", "cool", "warm", "green", "warm"], 15.0)
    content = analyse(shots, make_stream(15.0, 1080, 1920)).content
    for tag in ("9:16", "15s", "vertical", "short-form"):
        assert tag in content.model_tags
    assert "9:16 vertical short-form" in (content.summary or "")
    assert content.genre == "viral_video"
    assert content.genre_confidence is not None and content.genre_confidence <= 0.5
    assert "9:16" in (content.genre_reason or "") and "15 s" in (content.genre_reason or "")


def test_korean_format_words_for_vertical_short_form() -> None:
    shots = even(["warm", "cool", "warm"], 15.0)
    content = analyse(shots, make_stream(15.0, 1080, 1920), "ko").content
    assert {"9:16", "15s", "세로형", "숏폼"} <= set(content.model_tags)
    assert "세로형 숏폼" in (content.summary or "")


def test_a_six_second_landscape_spot_is_a_bumper() -> None:
    content = analyse(even(["warm", "cool"], 6.0), make_stream(6.0)).content
    assert {"16:9", "6s", "bumper"} <= set(content.model_tags)
    assert content.genre == "spot_ad"


def test_a_long_landscape_video_gets_no_format_genre() -> None:
    content = analyse(even(["warm", "cool", "green", "warm"] * 3, 95.0), make_stream(95.0)).content
    assert "60s+" in content.model_tags and "vertical" not in content.model_tags
    assert content.genre is None and content.genre_reason is None
    assert content.genre_confidence is None


def test_fast_and_slow_pacing() -> None:
    fast = analyse(even(["warm", "cool"] * 15, 30.0), make_stream(30.0)).content
    assert "fast-cut" in fast.model_tags
    assert "58 cuts/min" in (fast.features.editing or "")  # 29 cuts in 30 s
    assert "energetic" in fast.mood
    slow = analyse(even(["warm", "cool", "green"], 60.0), make_stream(60.0)).content
    assert "slow-paced" in slow.model_tags and "fast-cut" not in slow.model_tags
    assert "2 cuts/min" in (slow.features.editing or "")
    assert "median 20.0 s" in (slow.features.editing or "")
    assert "calm" in slow.mood


def test_a_single_shot_is_a_one_take() -> None:
    content = analyse(even(["warm"], 12.0), make_stream(12.0)).content
    assert "one-take" in content.model_tags
    assert content.hook is not None and "no cut" in content.hook
    assert len(content.groups) == 1


# --- people, text, camera ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("face_area", "expected"), [(0.15, "close_up"), (0.03, "medium"), (0.004, "wide")]
)
def test_face_size_sets_the_shot_type(face_area: float, expected: str) -> None:
    shots = even(["warm"] * 3, 30.0, face_count=1, face_area=face_area)
    content = analyse(shots, make_stream(30.0)).content
    assert {g.shot_type for g in content.groups} == {expected}
    assert "faces" in content.model_tags


def test_close_ups_read_as_intimate_and_tagged() -> None:
    shots = even(["warm"] * 3, 30.0, face_count=1, face_area=0.2)
    content = analyse(shots, make_stream(30.0)).content
    assert "close-up" in content.model_tags
    assert "intimate" in content.mood
    assert "close-up on a face" in (content.groups[0].description or "")


def test_no_face_means_no_shot_type() -> None:
    content = analyse(even(["warm", "cool"], 40.0), make_stream(40.0)).content
    assert all(g.shot_type is None for g in content.groups)
    assert "faces" not in content.model_tags
    assert "no faces detected" in (content.summary or "")


def test_a_text_end_card_is_reported_without_inventing_its_words() -> None:
    shots = with_features(
        even(["warm", "cool", "warm", "white_card"], 20.0), 3, has_text=True, text_area=0.2
    )
    english = analyse(shots, make_stream(20.0), "en").content
    assert english.call_to_action == END_CARD_EN
    assert "end card" in english.model_tags
    korean = analyse(shots, make_stream(20.0), "ko").content
    assert korean.call_to_action == KO["cta.end_card"]
    assert "판독하지 않음" in (korean.call_to_action or "")


def test_an_end_card_before_a_closing_fade_still_counts() -> None:
    shots = with_features(
        even(["warm", "cool", "white_card", "black"], 20.0), 2, has_text=True, text_area=0.2
    )
    assert analyse(shots, make_stream(20.0)).content.call_to_action == END_CARD_EN


def test_no_text_on_the_last_picture_means_no_call_to_action() -> None:
    shots = with_features(even(["warm", "cool", "green"], 30.0), 0, has_text=True, text_area=0.1)
    content = analyse(shots, make_stream(30.0)).content
    assert content.call_to_action is None
    assert "text overlay" in content.model_tags


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ({}, "static"),
        ({"camera_pan_x": 0.2}, "pan"),
        ({"camera_pan_y": -0.15}, "tilt"),
        ({"motion": 0.25}, "dynamic"),
    ],
)
def test_motion_and_pan_set_the_camera_movement(features: dict[str, float], expected: str) -> None:
    content = analyse(even(["warm"] * 3, 30.0, **features), make_stream(30.0)).content
    assert {g.camera_movement for g in content.groups} == {expected}
    assert "Camera by screen time" in (content.features.camera or "")


def test_the_hook_describes_the_first_three_seconds() -> None:
    shots = with_features(
        make_shots([("warm", 1.0), ("cool", 1.0), ("warm", 1.0), ("green", 27.0)]),
        1,
        face_count=1,
        face_area=0.05,
    )
    content = analyse(shots, make_stream(30.0)).content
    assert content.hook is not None
    assert content.hook.startswith("First 3 s: 2 cuts")
    assert "a face on screen" in content.hook
    korean = analyse(shots, make_stream(30.0), "ko").content
    assert korean.hook is not None and korean.hook.startswith("첫 3초: 컷 2회")


# --- expression format and genre ---------------------------------------------------------


def test_flat_colour_frames_read_as_2d_animation() -> None:
    shots = even(["warm", "cool", "green"] * 2, 60.0, flatness=0.8)
    content = analyse(shots, make_stream(60.0)).content
    assert content.expression_format == "2d"
    assert content.genre == "2d_animation"
    assert content.genre_reason is not None and "80% flat area" in content.genre_reason
    assert "2D graphics" in content.model_tags


def test_flat_frames_full_of_text_read_as_typography() -> None:
    shots = even(["white_card", "warm"] * 3, 60.0, flatness=0.7, has_text=True, text_area=0.2)
    content = analyse(shots, make_stream(60.0)).content
    assert content.expression_format == "typography"
    assert content.genre == "motion_graphics"


def test_textured_frames_with_people_read_as_live_action() -> None:
    shots = even(["warm", "cool"] * 3, 60.0, flatness=0.1, face_count=1, face_area=0.05)
    content = analyse(shots, make_stream(60.0)).content
    assert content.expression_format == "live_action"
    assert content.genre is None


def test_an_ambiguous_look_gets_no_expression_format() -> None:
    shots = even(["warm", "cool"] * 3, 60.0, flatness=0.4)
    content = analyse(shots, make_stream(60.0)).content
    assert content.expression_format is None
    assert content.genre is None


# --- honesty, shape, provenance ----------------------------------------------------------


def test_what_pixels_cannot_tell_stays_empty() -> None:
    shots = with_features(even(["warm", "cool", "white_card"], 30.0), 2, has_text=True)
    for language in ("ko", "en"):
        content = analyse(shots, make_stream(30.0), language).content
        assert content.target_audience is None
        assert content.brand_cues == []
        assert content.ad_language is None
        assert content.features.message is None


def test_a_neutral_moderate_video_gets_no_invented_mood() -> None:
    neutral = Look(
        (("#807a70", 1.0),), brightness=0.45, saturation=0.3, warmth=0.0, colourfulness=0.3
    )
    content = analyse(even([neutral] * 10, 40.0), make_stream(40.0)).content
    assert content.mood == [] and content.tone is None and content.features.mood is None
    assert content.genre is None and content.expression_format is None
    assert "neutral tones" in (content.summary or "").lower()


@pytest.mark.parametrize("granularity", [1, 5, 10])
def test_every_group_gets_an_analysis(granularity: int) -> None:
    shots = even(["warm", "warm", "cool", "green", "cool", "purple", "red", "white_card"], 40.0)
    result = analyse(shots, make_stream(40.0), granularity=granularity)
    request_groups = group_shots(shots, make_stream(40.0), granularity).groups
    assert [g.group_index for g in result.content.groups] == [g.group_index for g in request_groups]
    for group, analysis in zip(request_groups, result.content.groups, strict=True):
        assert analysis.description is not None
        assert f"{group.start_s:.1f}-{group.end_s:.1f} s" in analysis.description


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_result_validates_and_costs_nothing(language: Literal["ko", "en"]) -> None:
    shots = with_features(
        even(["warm", "cool", "warm", "white_card"], 15.0, face_count=1, face_area=0.1),
        3,
        has_text=True,
        face_count=0,
    )
    result = analyse(shots, make_stream(15.0, 1080, 1920), language)
    assert AnalysisContent.model_validate(result.content.model_dump()) == result.content
    assert result.model == "adref-cv-1"
    assert (result.tokens_in, result.tokens_out, result.cost_usd) == (0, 0, 0.0)
    content = result.content
    for text in (content.summary, content.hook, content.visual_style, content.tone):
        assert text
    assert content.mood
    assert len({t.lower() for t in content.model_tags}) == len(content.model_tags)
    has_hangul = bool(HANGUL.search(content.summary or ""))
    assert has_hangul == (language == "ko")


def test_english_output_has_no_korean_anywhere() -> None:
    shots = with_features(
        even(["warm", "cool", "white_card"], 15.0, face_count=1, face_area=0.1), 2, has_text=True
    )
    content = analyse(shots, make_stream(15.0, 1080, 1920), "en").content
    assert not HANGUL.search(content.model_dump_json())


def test_the_analysis_is_deterministic() -> None:
    shots = even(["warm", "cool", "green", "warm"], 20.0, face_count=1, face_area=0.05)
    first = analyse(shots, make_stream(20.0)).content
    assert analyse(shots, make_stream(20.0)).content == first


def test_prompt_version_changes_with_language_only() -> None:
    shots = even(["warm"], 5.0)
    stream = make_stream(5.0)
    grouping = group_shots(shots, stream)
    meta = VideoMeta(video_id="sha256:test")
    provider = LocalProvider()

    def version(language: Literal["ko", "en"], video_id: str = "sha256:test") -> str:
        request = AnalysisRequest(
            meta=meta.model_copy(update={"video_id": video_id}),
            stream=stream,
            shots=shots,
            grouping=grouping,
            output_language=language,
        )
        return provider.prompt_version(request)

    assert version("ko") != version("en")
    assert version("ko") == version("ko", video_id="sha256:other")
    assert re.fullmatch(r"[0-9a-f]{12}", version("ko"))


def test_another_model_name_is_refused() -> None:
    with pytest.raises(InputError, match="no model 'gpt-4o'"):
        analyse(even(["warm"], 5.0), make_stream(5.0), model="gpt-4o")
    assert analyse(even(["warm"], 5.0), make_stream(5.0), model="adref-cv-1").model == "adref-cv-1"


def test_a_group_naming_unknown_shots_is_refused() -> None:
    shots = even(["warm", "cool"], 10.0)
    stream = make_stream(10.0)
    request = AnalysisRequest(
        meta=VideoMeta(video_id="sha256:test"),
        stream=stream,
        shots=shots[:1],
        grouping=group_shots(shots, stream),
    )
    with pytest.raises(InputError, match="not in the request"):
        LocalProvider().analyze(request)


def test_the_registry_serves_the_local_provider() -> None:
    provider = get_provider("local")
    assert isinstance(provider, LocalProvider)
    assert provider.name == "local"


def test_both_word_tables_have_the_same_keys_and_placeholders() -> None:
    assert KO.keys() == EN.keys()
    formatter = string.Formatter()
    for key in EN:
        en_fields = {f for _, f, _, _ in formatter.parse(EN[key]) if f}
        ko_fields = {f for _, f, _, _ in formatter.parse(KO[key]) if f}
        assert en_fields == ko_fields, key
