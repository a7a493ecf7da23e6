"""The answer schema every vendor is asked for, and the certain repairs of what comes back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from adref.analysis import AnalysisContent, Features, GroupAnalysis
from adref.categories import formats, genres
from adref.providers.remote.answer import (
    MIN_TAGS,
    AnswerProblem,
    answer_schema,
    parse_answer,
    reask_feedback,
    repair_answer,
)
from tests.support.fake_vendor import sample_answer

GROUPS = [0, 1, 2]
FORBIDDEN = {
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "pattern",
    "format",
    "default",
    "uniqueItems",
    "oneOf",
    "allOf",
    "not",
    "$ref",
    "nullable",
}


def _schema() -> dict[str, Any]:
    return answer_schema(list(genres()), list(formats()))


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            # Property names are field names, not keywords.
            yield from (
                (k for v in value.values() for k in _keys(v))
                if key == "properties"
                else _keys(value)
            )
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


def _parse(answer: dict[str, Any] | str, site_tags: list[str] | None = None) -> AnalysisContent:
    text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    return parse_answer(text, group_indexes=GROUPS, site_tags=site_tags or [])


def _problem(answer: dict[str, Any] | str, site_tags: list[str] | None = None) -> str:
    with pytest.raises(AnswerProblem) as caught:
        _parse(answer, site_tags)
    return caught.value.reason


# The schema


def test_schema_is_strict_mode_compatible() -> None:
    schema = _schema()
    objects = list(_objects(schema))
    assert len(objects) == 3  # the answer, its features, a group
    for node in objects:
        assert node["additionalProperties"] is False
        assert node["required"] == list(node["properties"])
    assert not FORBIDDEN & set(_keys(schema))
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_has_exactly_the_fields_of_the_analysis() -> None:
    schema = _schema()
    assert list(schema["properties"]) == list(AnalysisContent.model_fields)
    assert list(schema["properties"]["features"]["properties"]) == list(Features.model_fields)
    group = schema["properties"]["groups"]["items"]
    assert list(group["properties"]) == list(GroupAnalysis.model_fields)
    nullable = schema["properties"]["hook"]["type"]
    assert nullable == ["string", "null"]


def test_schema_enums_are_the_category_codes() -> None:
    schema = _schema()
    assert schema["properties"]["genre"]["enum"] == list(genres())
    assert schema["properties"]["expression_format"]["enum"] == list(formats())
    other = answer_schema(["unboxing"], ["2d"])
    assert other["properties"]["genre"]["enum"] == ["unboxing"]


def test_schema_tells_the_model_the_rules_it_cannot_state() -> None:
    props = _schema()["properties"]
    assert "10" in props["model_tags"]["description"]
    assert "3 seconds" in props["hook"]["description"]
    assert "0" in props["genre_confidence"]["description"]
    group = props["groups"]["items"]["properties"]
    assert "close_up" in group["shot_type"]["description"]
    assert "pan" in group["camera_movement"]["description"]


def test_the_sample_answer_is_valid_and_parses_unchanged() -> None:
    answer = sample_answer()
    jsonschema.validate(answer, _schema())
    parsed = repair_answer(json.dumps(answer), group_indexes=GROUPS, site_tags=[])
    assert parsed.content.model_dump(mode="json") == answer
    assert parsed.repairs == []


def test_a_schema_violation_is_caught_by_the_schema_too() -> None:
    answer = sample_answer()
    answer["genre"] = "cinematic"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(answer, _schema())


# Certain repairs


def test_markdown_fence_is_removed() -> None:
    text = "```json\n" + json.dumps(sample_answer()) + "\n```"
    assert _parse(text).genre == "tvc"


def test_prose_around_one_object_is_removed() -> None:
    text = "Here is the analysis {as asked}:\n" + json.dumps(sample_answer()) + "\nHope it helps!"
    parsed = repair_answer(text, group_indexes=GROUPS, site_tags=[])
    assert parsed.content.summary == "A short product spot."
    assert "removed text around the JSON object" in parsed.repairs


def test_trailing_commas_are_removed_outside_strings() -> None:
    answer = sample_answer()
    answer["summary"] = "Commas, ] and }, stay."
    text = json.dumps(answer, indent=1).replace('"en"\n', '"en",\n').replace("]\n}", "],\n}")
    text = text.replace('"tag11"\n', '"tag11",\n')
    assert text.count(",\n}") + text.count(",\n ]") >= 2
    parsed = repair_answer(text, group_indexes=GROUPS, site_tags=[])
    assert parsed.content.summary == "Commas, ] and }, stay."
    assert len(parsed.content.model_tags) == 12
    assert parsed.repairs == ["removed trailing commas"]


@pytest.mark.parametrize(
    ("field", "given", "code"),
    [
        ("genre", "TVC", "tvc"),
        ("genre", "모션그래픽", "motion_graphics"),
        ("genre", "Motion Graphics", "motion_graphics"),
        ("genre", "tv commercial", "tvc"),
        ("expression_format", "실사", "live_action"),
        ("expression_format", "Live-Action", "live_action"),
    ],
)
def test_a_category_label_becomes_its_code(field: str, given: str, code: str) -> None:
    answer = sample_answer()
    answer[field] = given
    assert getattr(_parse(answer), field) == code


def test_a_string_where_a_list_belongs_is_split_on_commas() -> None:
    answer = sample_answer()
    answer["mood"] = "upbeat, warm,  calm"
    answer["model_tags"] = ", ".join(f"tag{i}" for i in range(12))
    content = _parse(answer)
    assert content.mood == ["upbeat", "warm", "calm"]
    assert content.model_tags == [f"tag{i}" for i in range(12)]


def test_tags_are_deduplicated_and_site_tags_dropped() -> None:
    answer = sample_answer()
    answer["model_tags"] = [*(f"tag{i}" for i in range(10)), "TAG1", "Summer", "#ad", "fresh"]
    content = _parse(answer, site_tags=["summer", "AD"])
    assert content.model_tags == [*(f"tag{i}" for i in range(10)), "fresh"]


def test_groups_not_asked_about_are_dropped() -> None:
    answer = sample_answer(groups=5)
    content = parse_answer(json.dumps(answer), group_indexes=[1, 3], site_tags=[])
    assert [g.group_index for g in content.groups] == [1, 3]


def test_unknown_keys_are_dropped_at_every_level() -> None:
    answer = sample_answer()
    answer["confidence_notes"] = "extra"
    answer["features"]["sound"] = "jingle"
    answer["groups"][0]["lighting"] = "soft"
    parsed = repair_answer(json.dumps(answer), group_indexes=GROUPS, site_tags=[])
    dumped = parsed.content.model_dump(mode="json")
    assert dumped == sample_answer()
    assert any("confidence_notes" in r for r in parsed.repairs)


# Uncertain: a problem that names the field


def test_truncated_json_is_a_problem_naming_where_it_stopped() -> None:
    text = json.dumps(sample_answer())
    cut = text[: text.index('"A short product') + 8]
    reason = _problem(cut)
    assert "truncated" in reason and "summary" in reason


def test_unbalanced_json_is_truncated() -> None:
    text = json.dumps(sample_answer())[:-1]
    assert "truncated" in _problem(text)


def test_unknown_genre_is_a_problem() -> None:
    answer = sample_answer()
    answer["genre"] = "cinematic"
    reason = _problem(answer)
    assert "genre" in reason and "cinematic" in reason and "tvc" in reason


def test_too_few_tags_after_cleaning_is_a_problem() -> None:
    answer = sample_answer()
    answer["model_tags"] = [*(f"tag{i}" for i in range(9)), "summer", "TAG0"]
    reason = _problem(answer, site_tags=["summer"])
    assert "model_tags" in reason and str(MIN_TAGS) in reason


@pytest.mark.parametrize(
    ("field", "value"),
    [("genre_confidence", "high"), ("genre_confidence", 80), ("features", "warm and fast")],
)
def test_a_wrong_type_is_a_problem_naming_the_field(field: str, value: Any) -> None:
    answer = sample_answer()
    answer[field] = value
    assert field in _problem(answer)


def test_a_wrong_type_inside_a_group_names_its_place() -> None:
    answer = sample_answer()
    answer["groups"][1]["description"] = ["not", "text"]
    assert "groups[1].description" in _problem(answer)


def test_missing_required_fields_are_a_problem() -> None:
    answer = sample_answer()
    del answer["hook"]
    del answer["features"]["message"]
    reason = _problem(answer)
    assert "hook" in reason and "features.message" in reason


def test_two_objects_or_none_are_a_problem() -> None:
    text = json.dumps(sample_answer())
    assert "more than one" in _problem(text + "\n" + text)
    assert "no JSON object" in _problem("I cannot analyse this video.")
    assert "not valid JSON" in _problem("{'genre': 'tvc'}")


def test_reask_feedback_carries_the_reason() -> None:
    problem = AnswerProblem("genre: 'cinematic' is not one of the codes")
    feedback = reask_feedback(problem)
    assert feedback.startswith("Your previous answer was not valid: genre: 'cinematic'")
    assert "only the JSON object" in feedback
