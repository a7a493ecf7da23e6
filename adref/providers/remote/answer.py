"""The answer a model must give, and how its text becomes an ``AnalysisContent``.

The schema is written once for every vendor's structured output. OpenAI's strict mode is the
strictest reader, so it sets the rules: every property required, no extra keys, nullable as a
type list, none of the keywords it rejects (``minItems``, ``format``, ``default``...). Limits the
schema cannot state (a 0-1 confidence, at least ten tags) are in the descriptions and checked here.

Parsing repairs only what has one possible meaning (fences, prose around the object, trailing
commas, a category label for its code, a comma-separated string for a list, duplicate or
site-repeating tags, groups that were not asked about, unknown keys, half a surrogate pair).
Anything else is an ``AnswerProblem`` whose reason goes back to the model on the one re-ask, so
it names the fields; whatever the text (nested past Python's stack, a group index in any form),
that is the only exception the parser raises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from adref import tags as tags_
from adref.analysis import AnalysisContent, Features, GroupAnalysis
from adref.categories import Table, formats, genres

MIN_TAGS = 10
SHOT_TYPES = ("extreme_close_up", "close_up", "medium", "wide", "extreme_wide")
CAMERA_MOVEMENTS = (
    "static",
    "pan",
    "tilt",
    "zoom",
    "dolly",
    "tracking",
    "handheld",
    "crane",
    "aerial",
    "dynamic",
)
LIST_FIELDS = ("mood", "brand_cues", "model_tags")
_SURROGATE = re.compile("[\ud800-\udfff]")
_REASON_LIMIT = 1500


class AnswerProblem(Exception):
    """An answer that cannot be made valid with certainty; ``reason`` is meant for the model too."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Parsed:
    content: AnalysisContent
    repairs: list[str] = field(default_factory=list)  # what was repaired, for the log


def answer_schema(genre_codes: list[str], format_codes: list[str]) -> dict[str, Any]:
    """The JSON schema of the answer object (the fields of ``AnalysisContent``, in its order)."""
    features = _object(
        {
            "colour": _text("Colour and light: palette, grading, contrast."),
            "editing": _text("Editing: pace, cuts, transitions, on-screen text and graphics."),
            "camera": _text("Camera work: shot sizes, angles, movement."),
            "mood": _text("The feeling the ad creates."),
            "message": _text(
                "What the ad says or promises; null if the images do not show it.", nullable=True
            ),
        },
        "The five feature notes, one or two sentences each, in the output language.",
    )
    group = _object(
        {
            "group_index": {
                "type": "integer",
                "description": "The scene group's index, as given in the image label.",
            },
            "description": _text("What is on screen in this scene group, in one sentence."),
            "shot_type": _text(
                f"Shot size, one of: {', '.join(SHOT_TYPES)} (English code in any output "
                "language); null if it cannot be told.",
                nullable=True,
            ),
            "camera_movement": _text(
                f"Camera movement, one of: {', '.join(CAMERA_MOVEMENTS)} (English code in any "
                "output language); null if it cannot be told.",
                nullable=True,
            ),
        },
        "One scene group shown in the images.",
    )
    return _object(
        {
            "genre": _code(
                genre_codes, "The closest genre: one of the genre codes, never a label."
            ),
            "genre_reason": _text("Why this genre, citing what the images or facts show."),
            "genre_confidence": {
                "type": "number",
                "description": "Confidence in the genre, from 0 (a guess) to 1 (certain).",
            },
            "expression_format": _code(
                format_codes, "How the ad is made: one of the expression format codes."
            ),
            "features": features,
            "mood": _list("Two to five short mood words, for search facets."),
            "tone": _text("The ad's voice in a few words (e.g. playful, premium, earnest)."),
            "target_audience": _text(
                "Who the ad speaks to (age, life stage, interests); null if it cannot be inferred.",
                nullable=True,
            ),
            "hook": _text(
                "What happens in the first 3 seconds to stop the viewer; null if no image shows "
                "the opening.",
                nullable=True,
            ),
            "call_to_action": _text(
                "The action the viewer is asked to take, as shown or said; null if there is none.",
                nullable=True,
            ),
            "brand_cues": _list(
                "How the brand shows itself (logo, product shots, brand colours, slogan); "
                "empty if none is visible."
            ),
            "visual_style": _text("The look in one phrase."),
            "summary": _text("Two or three sentences: what happens and what is sold."),
            "model_tags": _list(
                f"At least {MIN_TAGS} short search tags (one to three words each, no '#'), none "
                "repeating the site's own tags."
            ),
            "ad_language": _text(
                "The ad's own language (spoken or written) as an ISO 639-1 code, e.g. ko, en; "
                "null if there is no speech or text to tell.",
                nullable=True,
            ),
            "groups": {
                "type": "array",
                "items": group,
                "description": "One entry per scene group shown in the images, in order.",
            },
        },
        "An analysis of one advertising video.",
    )


def parse_answer(
    text: str,
    *,
    group_indexes: list[int],
    site_tags: list[str],
    genre_table: Table | None = None,
    format_table: Table | None = None,
) -> AnalysisContent:
    """The validated analysis in ``text``, repaired only where certain; else ``AnswerProblem``.

    ``genre_table`` / ``format_table`` are the tables the prompt offered (default: the
    effective ones from ``categories``).
    """
    return repair_answer(
        text,
        group_indexes=group_indexes,
        site_tags=site_tags,
        genre_table=genre_table,
        format_table=format_table,
    ).content


def repair_answer(
    text: str,
    *,
    group_indexes: list[int],
    site_tags: list[str],
    genre_table: Table | None = None,
    format_table: Table | None = None,
) -> Parsed:
    """``parse_answer`` that also says which repairs it made."""
    repairs: list[str] = []
    data = _json_object(text, repairs)
    problems: list[str] = []
    _drop_unknown(data, _fields(AnalysisContent), "", repairs, problems)
    if isinstance(data.get("features"), dict):
        _drop_unknown(data["features"], _fields(Features), "features.", repairs, problems)
    for name in LIST_FIELDS:
        _as_list(data, name, repairs)
    _clean_tags(data, site_tags, repairs, problems)
    _clean_groups(data, set(group_indexes), repairs, problems)
    genre = _category(data.pop("genre", None), genre_table or genres(), "genre", repairs, problems)
    fmt = _category(
        data.pop("expression_format", None),
        format_table or formats(),
        "expression_format",
        repairs,
        problems,
    )
    try:
        content = AnalysisContent.model_validate(data)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc))
        content = None
    if problems or content is None:
        raise AnswerProblem(_limit("; ".join(problems)))
    # The codes were checked against the prompt's own tables above, which may differ from the file's.
    return Parsed(content.model_copy(update={"genre": genre, "expression_format": fmt}), repairs)


def reask_feedback(problem: AnswerProblem) -> str:
    """The user turn of the one re-ask after an invalid answer."""
    return (
        f"Your previous answer was not valid: {problem.reason}. "
        "Reply again with only the JSON object that follows the schema: every field present, "
        "genre and expression_format as codes from the lists, at least "
        f"{MIN_TAGS} model_tags that do not repeat the site's tags. Fix only what is named above."
    )


# Schema pieces


def _object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _text(description: str, *, nullable: bool = False) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "description": description}


def _list(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


def _code(codes: list[str], description: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(codes), "description": description}


def _fields(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


# Text → one JSON object


def _json_object(text: str, repairs: list[str]) -> dict[str, Any]:
    scan = _scan(text)
    if scan.open_at is not None:
        where = " inside a string" if scan.in_string else ""
        key = f"; the last field it reached is {scan.last_key!r}" if scan.last_key else ""
        raise AnswerProblem(
            f"the JSON object is cut off before its end (truncated{where}{key}); "
            "give the complete object"
        )
    objects: list[tuple[dict[str, Any], tuple[int, int]]] = []
    errors: list[str] = []
    for start, end in scan.spans:
        parsed = _loads(text[start:end], repairs)
        if isinstance(parsed, dict):
            objects.append((parsed, (start, end)))
        else:
            errors.append(parsed)
    if not objects:
        raise AnswerProblem(
            f"the answer is not valid JSON ({errors[0]})" if errors else "no JSON object found"
        )
    if len(objects) > 1:
        raise AnswerProblem("the answer holds more than one JSON object; give exactly one")
    data, (start, end) = objects[0]
    if "```" in text:
        repairs.append("removed a markdown code fence")
    if _prose(text[:start]) or _prose(text[end:]):
        repairs.append("removed text around the JSON object")
    return data


@dataclass
class _Scan:
    spans: list[tuple[int, int]]
    open_at: int | None
    in_string: bool
    last_key: str | None


def _scan(text: str) -> _Scan:
    """Top-level ``{...}`` spans, string-aware; prose outside objects is skipped unread."""
    spans: list[tuple[int, int]] = []
    stack: list[str] = []
    start, str_start, in_str, escaped = 0, 0, False, False
    key_next, in_key, last_key = False, False, None
    for i, ch in enumerate(text):
        if not stack:
            if ch == "{":
                stack, start, key_next = ["{"], i, True
            continue
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
                last_key = text[str_start + 1 : i] if in_key else last_key
            continue
        if ch == '"':
            in_str, str_start, in_key, key_next = True, i, key_next, False
        elif ch in "{[":
            stack.append(ch)
            key_next = ch == "{"
        elif ch in "}]":
            stack.pop()
            key_next = False
            if not stack:
                spans.append((start, i + 1))
        elif ch == ",":
            key_next = stack[-1] == "{"
    return _Scan(spans, start if stack else None, in_str and bool(stack), last_key)


def _loads(chunk: str, repairs: list[str]) -> dict[str, Any] | str:
    """The object in ``chunk`` (trailing commas forgiven), or the JSON error as text."""
    try:
        value = json.loads(chunk)
    except RecursionError:  # nesting past Python's stack: no analysis is that deep
        return "nested too deeply"
    except ValueError as first:
        fixed = _drop_trailing_commas(chunk)
        if fixed == chunk:
            return str(first)
        try:
            value = json.loads(fixed)
        except (ValueError, RecursionError):
            return str(first)
        repairs.append("removed trailing commas")
    if not isinstance(value, dict):
        return "not an object"
    _whole_characters(value, repairs)
    return value


def _whole_characters(data: dict[str, Any], repairs: list[str]) -> None:
    """Half of a surrogate pair (an emoji's escape cut in two) cannot be stored as UTF-8, and
    stands for no character: each becomes U+FFFD, the rest of its string is kept."""
    fixed = 0
    stack: list[dict[Any, Any] | list[Any]] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in [k for k in node if _SURROGATE.search(k)]:
                node[_replace_surrogates(key)] = node.pop(key)
                fixed += 1
        for key, value in list(node.items() if isinstance(node, dict) else enumerate(node)):
            if isinstance(value, str) and _SURROGATE.search(value):
                node[key] = _replace_surrogates(value)
                fixed += 1
            elif isinstance(value, dict | list):
                stack.append(value)
    if fixed:
        repairs.append(f"replaced broken unicode (lone surrogates) in {fixed} string(s)")


def _replace_surrogates(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _drop_trailing_commas(chunk: str) -> str:
    out: list[str] = []
    in_str, escaped = False, False
    for i, ch in enumerate(chunk):
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "," and chunk[i + 1 :].lstrip()[:1] in ("}", "]"):
            continue
        out.append(ch)
    return "".join(out)


def _prose(text: str) -> bool:
    return bool(text.replace("```json", "").replace("```", "").strip())


# Field repairs


def _drop_unknown(
    data: dict[str, Any], known: list[str], prefix: str, repairs: list[str], problems: list[str]
) -> None:
    unknown = [k for k in data if k not in known]
    for key in unknown:
        del data[key]
    if unknown:
        repairs.append(f"dropped unknown keys {', '.join(prefix + k for k in unknown)}")
    missing = [prefix + k for k in known if k not in data]
    if missing:
        problems.append(f"missing required fields: {', '.join(missing)}")


def _as_list(data: dict[str, Any], name: str, repairs: list[str]) -> None:
    value = data.get(name)
    if isinstance(value, str):
        data[name] = [p.strip() for p in re.split(r"[,，、]", value) if p.strip()]
        repairs.append(f"split {name} on commas")
    elif value is None and name in data:
        data[name] = []
        repairs.append(f"read {name}: null as an empty list")


def _clean_tags(
    data: dict[str, Any], site_tags: list[str], repairs: list[str], problems: list[str]
) -> None:
    tags = data.get("model_tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return  # validation names the field
    site = {tags_.key(t) for t in site_tags}
    kept: dict[str, str] = {}
    for tag in tags:
        key = tags_.key(tag)
        if key and key not in site and key not in kept:
            kept[key] = tags_.normal(tag)
    if len(kept) != len(tags):
        repairs.append(f"dropped {len(tags) - len(kept)} duplicate, empty or site tags")
    data["model_tags"] = list(kept.values())
    if len(kept) < MIN_TAGS:
        problems.append(
            f"model_tags has {len(kept)} usable tag(s) after removing duplicates and the site's "
            f"own tags; give at least {MIN_TAGS} tags that do not repeat the site's tags"
        )


def _clean_groups(
    data: dict[str, Any], wanted: set[int], repairs: list[str], problems: list[str]
) -> None:
    groups = data.get("groups")
    if not isinstance(groups, list):
        return
    kept: dict[int, dict[str, Any]] = {}
    others: list[Any] = []
    dropped: list[int] = []
    for n, item in enumerate(groups):
        if not isinstance(item, dict):
            others.append(item)
            continue
        _drop_unknown(item, _fields(GroupAnalysis), f"groups[{n}].", repairs, problems)
        index = _index(item.get("group_index"))
        if index is None and "group_index" in item:  # read here, or validation would coerce it
            value = _short(item["group_index"])
            problems.append(f"groups[{n}].group_index: {value} is not a group index")
        elif index is None:
            others.append(item)
        elif index not in wanted:
            dropped.append(index)
        elif index in kept and kept[index] != item:
            problems.append(f"groups: group_index {index} appears twice with different content")
        else:
            kept[index] = item
    if dropped:
        repairs.append(f"dropped groups not asked about: {sorted(set(dropped))}")
    data["groups"] = [*kept.values(), *others]


def _index(value: Any) -> int | None:
    """A group index as a whole number, or as ASCII digits ("²", 1.5 and true are not one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
        return int(value)
    return None


def _category(
    value: Any, table: Table, name: str, repairs: list[str], problems: list[str]
) -> str | None:
    if value is None or (isinstance(value, str) and value in table):
        return value
    if isinstance(value, str):
        key = _label_key(value)
        matches = {
            code
            for code, labels in table.items()
            if key in {_label_key(code), *(_label_key(label) for label in labels)}
        }
        if len(matches) == 1:
            (code,) = matches
            repairs.append(f"{name}: label {value!r} read as code {code!r}")
            return code
    problems.append(f"{name}: {_short(value)} is not one of the codes {', '.join(table)}")
    return None


def _label_key(label: str) -> str:
    return re.sub(r"[\s_\-]+", "", label.casefold())


def _pydantic_problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        out.append(f"{where or 'answer'}: {err['msg']} (got {_short(err.get('input'))})")
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _limit(reason: str) -> str:
    return reason if len(reason) <= _REASON_LIMIT else reason[: _REASON_LIMIT - 3] + "..."
