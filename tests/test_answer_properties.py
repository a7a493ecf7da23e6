"""Property tests of the answer parser: whatever a model sends, one documented outcome.

Every input ends in a ``Parsed`` whose content is valid by the schema every vendor is given and
can be stored (UTF-8 throughout), or in an ``AnswerProblem`` whose reason can go back to the
model; never another exception, never a half-valid analysis.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adref.categories import formats, genres
from adref.providers.remote.answer import (
    _REASON_LIMIT,
    MIN_TAGS,
    AnswerProblem,
    Parsed,
    answer_schema,
    repair_answer,
)
from tests.support.fake_vendor import sample_answer

GROUPS = [0, 1, 2]
SITE_TAGS = ["coffee", "Morning"]


def _with_gaps(node: Any) -> Any:
    """The vendors' answer schema with null allowed wherever the stored analysis keeps an honest
    gap (``AnalysisContent``: every text, number and code may be null)."""
    if isinstance(node, list):
        return [_with_gaps(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _with_gaps(v) for k, v in node.items()}
    kind = out.get("type")
    if kind in ("string", "number"):
        out["type"] = [kind, "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


SCHEMA = _with_gaps(answer_schema(list(genres()), list(formats())))
PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(PROPERTIES, max_examples=30)  # for inputs that are big to build and check

# Text a model might send: any unicode (lone surrogates included), JSON's own characters often.
junk_text = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from([*'{}[]",:\\` \n0123456789.-eE', "\ud83d", "\udc00"]),
    ),
    max_size=300,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["tvc", "2d", "close_up", "pan", "²", "١", "1" * 5000, "\ud83d", "😀"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def _outcome(text: str, group_indexes: list[int] = GROUPS) -> Parsed | AnswerProblem:
    """The parser's result or its documented error; any other exception fails the test."""
    try:
        parsed = repair_answer(text, group_indexes=group_indexes, site_tags=SITE_TAGS)
    except AnswerProblem as problem:
        assert problem.reason and len(problem.reason) <= _REASON_LIMIT
        problem.reason.encode("utf-8")  # it goes back to the model in the re-ask
        return problem
    _assert_whole(parsed, group_indexes)
    return parsed


def _assert_whole(parsed: Parsed, group_indexes: list[int]) -> None:
    """Valid by the vendors' schema, storable, and true to the rules the schema cannot state."""
    content = parsed.content
    dumped = content.model_dump(mode="json")
    jsonschema.validate(dumped, SCHEMA)
    assert type(content).model_validate(dumped) == content
    content.model_dump_json().encode("utf-8")
    " ".join(parsed.repairs).encode("utf-8")
    assert len(content.model_tags) >= MIN_TAGS
    keys = [" ".join(t.casefold().split()) for t in content.model_tags]
    assert len(set(keys)) == len(keys) and not {"coffee", "morning"} & set(keys)
    assert {g.group_index for g in content.groups} <= set(group_indexes)
    assert content.genre_confidence is None or 0 <= content.genre_confidence <= 1


def _mutated(answer: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The answer with a few fields replaced by junk, dropped or added, at any level."""
    for _ in range(data.draw(st.integers(1, 4))):
        target: dict[str, Any] = answer
        where = data.draw(st.sampled_from(["top", "features", "group"]))
        if where == "features" and isinstance(answer.get("features"), dict):
            target = answer["features"]
        elif where == "group" and isinstance(answer.get("groups"), list) and answer["groups"]:
            item = data.draw(st.sampled_from(answer["groups"]))
            target = item if isinstance(item, dict) else answer
        action = data.draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "add" or not target:
            target[data.draw(st.text(max_size=12))] = data.draw(json_values)
        else:
            key = data.draw(st.sampled_from(sorted(target)))
            if action == "drop":
                del target[key]
            else:
                target[key] = data.draw(json_values)
    return answer


@PROPERTIES
@given(junk_text)
@example('{"a":' + "[" * 100_000 + "]" * 100_000 + "}")  # nested past the parser's depth
@example("{" * 50_000)
@example("}{" + "]" * 1000 + "{}")
def test_any_text_gives_an_analysis_or_a_problem(text: str) -> None:
    _outcome(text)


@PROPERTIES
@given(st.data())
def test_a_damaged_answer_is_repaired_whole_or_refused(data: st.DataObject) -> None:
    answer = _mutated(sample_answer(groups=3), data)
    text = json.dumps(answer, ensure_ascii=data.draw(st.booleans()), allow_nan=True)
    _outcome(text)


@PROPERTIES
@given(st.data())
def test_a_group_index_in_any_form_is_read_or_refused(data: st.DataObject) -> None:
    answer = sample_answer(groups=3)
    answer["groups"][0]["group_index"] = data.draw(json_values)
    _outcome(json.dumps(answer))


@PROPERTIES
@given(st.integers(min_value=1, max_value=4000), st.booleans())
def test_a_truncated_answer_is_never_half_stored(keep: int, ascii_only: bool) -> None:
    text = json.dumps(sample_answer(groups=3), ensure_ascii=ascii_only, indent=1)
    cut = text[: min(keep, len(text) - 1)]
    outcome = _outcome(cut)
    assert isinstance(outcome, AnswerProblem)


@FEW
@given(
    st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=80),
    st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=80),
    st.sampled_from(["", "```json\n", "```\n"]),
)
def test_prose_and_fences_around_the_answer_are_removed(
    before: str, after: str, fence: str
) -> None:
    answer = sample_answer(groups=3)
    body = json.dumps(answer, ensure_ascii=False)
    closing = "\n```" if fence else ""
    outcome = _outcome(f"{before}{fence}{body}{closing}{after}")
    assert isinstance(outcome, Parsed)
    assert outcome.content.model_dump(mode="json") == answer


@FEW
@given(
    st.builds(lambda piece, n: piece * n, st.text(min_size=1, max_size=8), st.integers(1, 100_000)),
    st.sampled_from(["summary", "hook", "visual_style", "tone"]),
)
@example("😀\ud83d" * 20_000, "summary")  # an emoji escape cut in two, over and over
def test_huge_and_odd_strings_are_kept_or_refused(value: str, name: str) -> None:
    answer = sample_answer(groups=3)
    answer[name] = value
    outcome = _outcome(json.dumps(answer))
    if isinstance(outcome, Parsed):
        stored = getattr(outcome.content, name)
        assert stored == value or "\ufffd" in stored  # kept, or half an emoji marked as such


def test_half_an_emoji_is_marked_not_stored_broken() -> None:
    answer = sample_answer(groups=3)
    answer["summary"] = "Coffee \ud83d and \ud83d\ude00"
    outcome = _outcome(json.dumps(answer))
    assert isinstance(outcome, Parsed)
    assert outcome.content.summary == "Coffee \ufffd and 😀"
    assert any("unicode" in r for r in outcome.repairs)
