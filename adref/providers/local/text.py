"""The ``local`` analyser's sentences and tags, built from measured cues in one language.

Only facts that ``local_measure`` measured reach the text; each phrase comes from the word
tables, so Korean and English say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence

from adref.models import SceneGroup
from adref.providers.local.measure import Look, Measures, Span
from adref.providers.local.rules import (
    CAMERA_TAG_SHARE,
    CLOSE_UP_TAG_SHARE,
    DYNAMIC_MOTION,
    FACE_TAG_SHARE,
    STATIC_TAG_SHARE,
    TEXT_TAG_SHARE,
)
from adref.providers.local.words import Words

STILL_MOTION = 0.03  # motion below this reads as a still picture
CALM_MOTION = 0.06  # long takes with more motion than this are not calm, whatever the pacing
HOOK_MOVE_SHARE = 0.5  # the camera moves in the hook when it pans or tilts most of those 3 s
GROUP_TEXT_SHARE = 0.5  # a group "has text" when text is on screen most of its time
MIN_DOMINANT_SHARE = 0.2  # a colour must cover this share of the palette to become a tag


def group_description(group: SceneGroup, n_shots: int, cues: Span, words: Words) -> str:
    parts = [look_phrase(cues.look, words)]
    if cues.look.colours and not cues.look.black:
        parts.append(words.join([words(f"colour.{name}") for name, _ in cues.look.colours[:2]]))
    if cues.shot_type is not None:
        parts.append(words(f"shot.{cues.shot_type}"))
    if cues.multi_face:
        parts.append(words("shot.multi_face"))
    if cues.text_share >= GROUP_TEXT_SHARE:
        parts.append(words("style.text"))
    if cues.camera is not None:
        parts.append(words(f"camera.{cues.camera}"))
    return words(
        "group.one" if n_shots == 1 else "group",
        n=n_shots,
        start=group.start_s,
        end=group.end_s,
        parts=words.join(parts, parts=True),
    )


def genre_reason(m: Measures, words: Words) -> str | None:
    if m.genre is None:
        return None
    video = m.video
    reason = words(
        f"reason.{m.genre}",
        flat=video.flatness,
        text=video.text_share,
        faces=video.face_share,
        aspect=m.aspect_code,
        duration=m.duration_s,
    )
    return reason + words("reason.suffix")


def mood_note(m: Measures, mood: list[str], words: Words) -> str | None:
    if not mood:
        return None
    return words(
        "mood",
        words=words.join(mood),
        w=m.video.look.warmth_value,
        b=m.video.look.brightness,
        cpm=m.cuts_per_min,
        motion=m.video.motion,
    )


def look_words(look: Look) -> list[str]:
    return [w for w in (look.warmth, look.light, look.colour) if w is not None]


def look_phrase(look: Look, words: Words) -> str:
    if look.black:
        return words("look.black")
    keys = look_words(look)
    return words.join([words(f"look.{k}") for k in keys]) if keys else words("look.neutral")


def _colour_list(look: Look, words: Words, shares: bool) -> str:
    if shares:
        items = [words("colour.item", name=words(f"colour.{n}"), share=s) for n, s in look.colours]
    else:
        items = [words(f"colour.{n}") for n, _ in look.colours]
    return words.join(items)


def _look_with_colours(look: Look, words: Words) -> str:
    phrase = look_phrase(look, words)
    if not look.colours:
        return phrase
    return words("part.look", look=phrase, colours=_colour_list(look, words, shares=False))


def colour_note(look: Look, words: Words) -> str:
    return words(
        "colour",
        look=look_phrase(look, words),
        colours=_colour_list(look, words, shares=True) or "-",
        b=look.brightness,
        s=look.saturation,
        w=look.warmth_value,
    )


def editing_note(m: Measures, words: Words) -> str:
    return words(
        "editing",
        n_shots=m.n_shots,
        duration=m.duration_s,
        cpm=m.cuts_per_min,
        mean=m.mean_shot_s,
        median=m.median_shot_s,
        std=m.std_shot_s,
        pace=words(f"pace.{m.pace}"),
    )


def camera_note(video: Span, words: Words) -> str:
    shares = [
        words("camera.share", camera=words(f"camera.{name}"), share=share)
        for name, share in video.camera_shares.items()
    ]
    return words("camera", shares=words.join(shares), motion=video.motion)


def mood_words(m: Measures, words: Words) -> list[str]:
    look = m.video.look
    keys: list[str] = []
    if m.pace == "fast" or m.video.motion >= DYNAMIC_MOTION:
        keys.append("energetic")
    elif m.pace in ("slow", "single_take") and m.video.motion < CALM_MOTION:
        keys.append("calm")
    keys.extend(look_words(look))
    if m.video.close_up_share >= CLOSE_UP_TAG_SHARE:
        keys.append("intimate")
    return [words(f"mood.{k}") for k in keys if k != "monochrome"]


def hook(m: Measures, words: Words, says: str | None = None, voice: str | None = None) -> str:
    """The first 3 s as measured; ``says``: the first line read on screen there, ``voice``: the
    first line said there, if any."""
    opening = m.hook
    cuts = {0: "hook.no_cut", 1: "hook.one_cut"}.get(m.hook_cuts, "hook.cuts")
    parts = [words(cuts, n=m.hook_cuts)]
    if m.opens_from_black:
        parts.append(words("hook.from_black"))
    if opening.face_share > 0:
        parts.append(words("hook.face"))
    if says:
        parts.append(words("hook.says", text=says))
    elif opening.text_share > 0:
        parts.append(words("hook.text"))
    if voice:
        parts.append(words("hook.voice", text=voice))
    moving = opening.camera_shares.get("pan", 0) + opening.camera_shares.get("tilt", 0)
    if moving >= HOOK_MOVE_SHARE:
        parts.append(words("hook.pan"))
    if opening.motion >= DYNAMIC_MOTION:
        parts.append(words("hook.moving"))
    elif opening.motion < STILL_MOTION:
        parts.append(words("hook.still"))
    if opening.look.light is not None:
        parts.append(words(f"hook.{opening.look.light}"))
    return words("hook", parts=words.join(parts))


def _format_phrase(m: Measures, words: Words) -> str:
    if m.short_form:
        phrase = words("format.short_form", aspect=m.aspect_code)
    else:
        orientation = words(f"orientation.{m.orientation}")
        phrase = words("format.plain", aspect=m.aspect_code, orientation=orientation)
    return words("format.bumper", format=phrase) if m.bumper else phrase


def summary(m: Measures, n_groups: int, words: Words, said: Sequence[str] = ()) -> str:
    """``said``: phrases on what the ad says (``part.read``, ``part.voice``)."""
    head = words(
        "summary.head",
        duration=m.duration_s,
        format=_format_phrase(m, words),
        n_shots=m.n_shots,
        n_groups=n_groups,
        pace=words(f"pace.{m.pace}"),
    )
    video = m.video
    parts = [_look_with_colours(video.look, words)]
    parts.append(
        words("part.faces", share=video.face_share) if video.face_share else words("part.no_faces")
    )
    if video.text_share:
        parts.append(words("part.text", share=video.text_share))
    parts.extend(said)
    tail = words("summary.tail", parts=words.join(parts, parts=True))
    return f"{head} {tail[:1].upper()}{tail[1:]}"


def visual_style(m: Measures, words: Words) -> str:
    parts = [_look_with_colours(m.video.look, words)]
    if m.expression_format is not None:
        parts.append(words(f"style.{m.expression_format}"))
    if m.video.close_up_share >= CLOSE_UP_TAG_SHARE:
        parts.append(words("style.close_ups"))
    if m.video.text_share >= TEXT_TAG_SHARE and m.expression_format != "typography":
        parts.append(words("style.text"))
    return words.join(parts, parts=True)


def tags(m: Measures, words: Words) -> list[str]:
    """Measured tags only: format codes as they are, the rest in the output language."""
    video = m.video
    out = [m.aspect_code]
    if m.length_code is not None:
        out.append(m.length_code)
    keys: list[str] = []
    if m.orientation == "vertical":
        keys.append("vertical")
    if m.short_form:
        keys.append("short_form")
    if m.bumper:
        keys.append("bumper")
    if m.pace != "moderate":
        keys.append(m.pace)
    keys.extend(look_words(video.look))
    if video.face_share >= FACE_TAG_SHARE:
        keys.append("faces")
    if video.close_up_share >= CLOSE_UP_TAG_SHARE:
        keys.append("close_up")
    if video.multi_face:
        keys.append("multi_face")
    if video.text_share >= TEXT_TAG_SHARE:
        keys.append("text")
    if m.end_card_text:
        keys.append("end_card")
    shares = video.camera_shares
    if shares.get("pan", 0) + shares.get("tilt", 0) >= CAMERA_TAG_SHARE:
        keys.append("camera_moves")
    if shares.get("static", 0) >= STATIC_TAG_SHARE:
        keys.append("static")
    if shares.get("dynamic", 0) >= CAMERA_TAG_SHARE:
        keys.append("dynamic")
    if m.expression_format is not None:
        keys.append(m.expression_format)
    out.extend(words(f"tag.{k}") for k in keys)
    out.extend(
        words(f"colour.{n}") for n, share in video.look.colours if share >= MIN_DOMINANT_SHARE
    )
    return out
