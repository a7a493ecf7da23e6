"""The ``local`` analyser's words in Korean and English: one table per language, same keys.

Korean wording follows what Korean creatives write in briefs and reference boards (따뜻한 톤,
빠른 컷 편집, 텍스트 오버레이); codes such as "9:16" and "15s" stay as they are in both.
"""

from __future__ import annotations

from typing import Any, Literal

Language = Literal["ko", "en"]

EN: dict[str, str] = {
    # colour names
    "colour.red": "red",
    "colour.orange": "orange",
    "colour.yellow": "yellow",
    "colour.green": "green",
    "colour.teal": "teal",
    "colour.blue": "blue",
    "colour.purple": "purple",
    "colour.pink": "pink",
    "colour.brown": "brown",
    "colour.beige": "beige",
    "colour.white": "white",
    "colour.grey": "grey",
    "colour.black": "black",
    # tags
    "tag.vertical": "vertical",
    "tag.short_form": "short-form",
    "tag.bumper": "bumper",
    "tag.fast": "fast-cut",
    "tag.slow": "slow-paced",
    "tag.single_take": "one-take",
    "tag.warm": "warm",
    "tag.cool": "cool",
    "tag.bright": "bright",
    "tag.dark": "dark",
    "tag.vivid": "vivid",
    "tag.muted": "muted",
    "tag.monochrome": "monochrome",
    "tag.faces": "faces",
    "tag.close_up": "close-up",
    "tag.multi_face": "multiple people",
    "tag.text": "text overlay",
    "tag.end_card": "end card",
    "tag.camera_moves": "camera movement",
    "tag.static": "static camera",
    "tag.dynamic": "dynamic motion",
    "tag.2d": "2D graphics",
    "tag.typography": "typography",
    "tag.live_action": "live action",
    # look phrases
    "look.warm": "warm tones",
    "look.cool": "cool tones",
    "look.bright": "high-key (bright) light",
    "look.dark": "low-key (dark) light",
    "look.vivid": "vivid colour",
    "look.muted": "muted colour",
    "look.monochrome": "near-monochrome",
    "look.neutral": "neutral tones",
    "look.black": "black frame (fade)",
    # mood words
    "mood.energetic": "energetic",
    "mood.calm": "calm",
    "mood.warm": "warm",
    "mood.cool": "cool",
    "mood.bright": "bright",
    "mood.dark": "moody",
    "mood.vivid": "lively",
    "mood.muted": "restrained",
    "mood.intimate": "intimate",
    # shot types and camera
    "shot.close_up": "close-up on a face",
    "shot.medium": "medium shot of a person",
    "shot.wide": "wide shot with small figures",
    "shot.multi_face": "several people",
    "camera.static": "static camera",
    "camera.pan": "panning camera",
    "camera.tilt": "tilting camera",
    "camera.dynamic": "strong motion (handheld or moving subject)",
    "camera.share": "{camera} {share:.0%}",
    # pacing and format
    "pace.fast": "fast-cut editing",
    "pace.moderate": "moderate pacing",
    "pace.slow": "slow pacing with long takes",
    "pace.single_take": "a single continuous shot",
    "orientation.vertical": "vertical",
    "orientation.square": "square",
    "orientation.landscape": "landscape",
    "format.short_form": "{aspect} vertical short-form",
    "format.plain": "{aspect} {orientation}",
    "format.bumper": "{format}, bumper length",
    # expression cues (visual style)
    "style.2d": "flat-colour 2D graphics",
    "style.typography": "text-led typography on flat backgrounds",
    "style.live_action": "live-action footage",
    "style.close_ups": "frequent close-ups",
    "style.text": "on-screen text",
    # sentences
    "summary.head": (
        "A {duration:.1f} s {format} video: {n_shots} shots in {n_groups} scene groups, {pace}."
    ),
    "summary.tail": "{parts}.",
    "part.look": "{look} ({colours})",
    "part.faces": "faces in {share:.0%} of screen time",
    "part.text": "on-screen text in {share:.0%} of screen time",
    "part.no_faces": "no faces detected",
    "editing": (
        "{n_shots} shots in {duration:.1f} s: {cpm:.0f} cuts/min, shot length mean {mean:.1f} s, "
        "median {median:.1f} s, sd {std:.1f} s; {pace}."
    ),
    "colour": (
        "{look}; dominant colours {colours}; "
        "brightness {b:.2f}, saturation {s:.2f}, warmth {w:+.2f}."
    ),
    "colour.item": "{name} {share:.0%}",
    "camera": "Camera by screen time: {shares}; mean motion {motion:.2f}.",
    "mood": (
        "{words}, from warmth {w:+.2f}, brightness {b:.2f}, {cpm:.0f} cuts/min, "
        "motion {motion:.2f}."
    ),
    "hook": "First 3 s: {parts}.",
    "hook.no_cut": "no cut",
    "hook.one_cut": "1 cut",
    "hook.cuts": "{n} cuts",
    "hook.face": "a face on screen",
    "hook.text": "on-screen text",
    "hook.still": "little motion",
    "hook.moving": "strong motion",
    "hook.pan": "camera movement",
    "hook.from_black": "opens from black",
    "hook.bright": "bright frames",
    "hook.dark": "dark frames",
    "cta.end_card": "end card with on-screen text (text not read)",
    "cta.read": "on screen: “{text}”",
    "cta.end_card_read": "end card reads “{text}” (no call-to-action phrase found)",
    "hook.says": "text “{text}”",
    "hook.voice": "voice-over “{text}”",
    "cta.said": "said: “{text}”",
    "part.read": "{n} lines read on screen, in {language}",
    "part.voice": "voice-over in {language} at {wpm} words a minute",
    "part.voice_any": "voice-over at {wpm} words a minute",
    "language.ko": "Korean",
    "language.en": "English",
    "language.ja": "Japanese",
    "language.zh": "Chinese",
    "group": "{n} shots, {start:.1f}-{end:.1f} s: {parts}.",
    "group.one": "1 shot, {start:.1f}-{end:.1f} s: {parts}.",
    "reason.motion_graphics": (
        "flat-colour frames ({flat:.0%} flat area) carrying on-screen text {text:.0%} of the time, "
        "faces {faces:.0%}"
    ),
    "reason.2d_animation": (
        "flat-colour frames ({flat:.0%} flat area) with faces only {faces:.0%} of the time"
    ),
    "reason.viral_video": (
        "{aspect} vertical frame and {duration:.0f} s length, the social short-form format"
    ),
    "reason.spot_ad": "{duration:.1f} s length, a bumper-length spot",
    "reason.suffix": " (measured picture cues only; content not interpreted)",
    "join": ", ",
    "join.parts": "; ",
}

KO: dict[str, str] = {
    "colour.red": "빨강",
    "colour.orange": "주황",
    "colour.yellow": "노랑",
    "colour.green": "초록",
    "colour.teal": "청록",
    "colour.blue": "파랑",
    "colour.purple": "보라",
    "colour.pink": "분홍",
    "colour.brown": "갈색",
    "colour.beige": "베이지",
    "colour.white": "흰색",
    "colour.grey": "회색",
    "colour.black": "검정",
    "tag.vertical": "세로형",
    "tag.short_form": "숏폼",
    "tag.bumper": "범퍼 광고",
    "tag.fast": "빠른 컷 편집",
    "tag.slow": "느린 호흡",
    "tag.single_take": "원테이크",
    "tag.warm": "따뜻한 톤",
    "tag.cool": "차가운 톤",
    "tag.bright": "밝은 톤",
    "tag.dark": "어두운 톤",
    "tag.vivid": "선명한 색감",
    "tag.muted": "저채도",
    "tag.monochrome": "모노톤",
    "tag.faces": "인물",
    "tag.close_up": "클로즈업",
    "tag.multi_face": "여러 인물",
    "tag.text": "텍스트 오버레이",
    "tag.end_card": "엔드카드",
    "tag.camera_moves": "카메라 무빙",
    "tag.static": "고정 카메라",
    "tag.dynamic": "역동적 움직임",
    "tag.2d": "2D 그래픽",
    "tag.typography": "타이포그래피",
    "tag.live_action": "실사",
    "look.warm": "따뜻한 톤",
    "look.cool": "차가운 톤",
    "look.bright": "밝은 하이키 조명",
    "look.dark": "어두운 로우키 조명",
    "look.vivid": "선명한 색감",
    "look.muted": "차분한 저채도 색감",
    "look.monochrome": "모노톤에 가까운 색감",
    "look.neutral": "중립적인 색감",
    "look.black": "검은 화면(페이드)",
    "mood.energetic": "역동적인",
    "mood.calm": "차분한",
    "mood.warm": "따뜻한",
    "mood.cool": "시원한",
    "mood.bright": "밝은",
    "mood.dark": "무게감 있는",
    "mood.vivid": "생기 있는",
    "mood.muted": "절제된",
    "mood.intimate": "친밀한",
    "shot.close_up": "얼굴 클로즈업",
    "shot.medium": "인물 미디엄 숏",
    "shot.wide": "인물이 작게 보이는 와이드 숏",
    "shot.multi_face": "여러 인물",
    "camera.static": "고정 카메라",
    "camera.pan": "좌우 패닝",
    "camera.tilt": "상하 틸트",
    "camera.dynamic": "움직임이 큰 화면(핸드헬드 또는 피사체 움직임)",
    "camera.share": "{camera} {share:.0%}",
    "pace.fast": "빠른 컷 편집",
    "pace.moderate": "보통 속도의 편집",
    "pace.slow": "롱테이크 위주의 느린 호흡",
    "pace.single_take": "컷 없는 원테이크",
    "orientation.vertical": "세로형",
    "orientation.square": "정사각형",
    "orientation.landscape": "가로형",
    "format.short_form": "{aspect} 세로형 숏폼",
    "format.plain": "{aspect} {orientation}",
    "format.bumper": "{format}, 범퍼 길이",
    "style.2d": "평면 색 2D 그래픽",
    "style.typography": "단색 배경 위 텍스트 중심 타이포그래피",
    "style.live_action": "실사 촬영",
    "style.close_ups": "클로즈업 위주",
    "style.text": "화면 텍스트",
    "summary.head": (
        "{duration:.1f}초 길이의 {format} 영상: 샷 {n_shots}개, 장면 그룹 {n_groups}개, {pace}."
    ),
    "summary.tail": "{parts}.",
    "part.look": "{look}({colours})",
    "part.faces": "화면 시간의 {share:.0%}에 인물 얼굴",
    "part.text": "화면 시간의 {share:.0%}에 화면 텍스트",
    "part.no_faces": "인물 얼굴 감지 안 됨",
    "editing": (
        "{duration:.1f}초에 샷 {n_shots}개: 분당 {cpm:.0f}컷, 샷 길이 평균 {mean:.1f}초, "
        "중앙값 {median:.1f}초, 표준편차 {std:.1f}초; {pace}."
    ),
    "colour": "{look}; 주요 색 {colours}; 밝기 {b:.2f}, 채도 {s:.2f}, 색온도 {w:+.2f}.",
    "colour.item": "{name} {share:.0%}",
    "camera": "화면 시간 기준 카메라: {shares}; 평균 움직임 {motion:.2f}.",
    "mood": "{words} — 근거: 색온도 {w:+.2f}, 밝기 {b:.2f}, 분당 {cpm:.0f}컷, 움직임 {motion:.2f}.",
    "hook": "첫 3초: {parts}.",
    "hook.no_cut": "컷 없음",
    "hook.one_cut": "컷 1회",
    "hook.cuts": "컷 {n}회",
    "hook.face": "인물 얼굴 등장",
    "hook.text": "화면 텍스트",
    "hook.still": "움직임 적음",
    "hook.moving": "큰 움직임",
    "hook.pan": "카메라 무빙",
    "hook.from_black": "검은 화면에서 시작",
    "hook.bright": "밝은 화면",
    "hook.dark": "어두운 화면",
    "cta.end_card": "화면 텍스트가 있는 엔드카드 (문구는 판독하지 않음)",
    "cta.read": "화면 문구: “{text}”",
    "cta.end_card_read": "엔드카드 문구 “{text}” (행동 유도 문구는 찾지 못함)",
    "hook.says": "문구 “{text}”",
    "hook.voice": "내레이션 “{text}”",
    "cta.said": "음성: “{text}”",
    "part.read": "화면 문구 {n}줄 ({language})",
    "part.voice": "{language} 내레이션 분당 {wpm}단어",
    "part.voice_any": "내레이션 분당 {wpm}단어",
    "language.ko": "한국어",
    "language.en": "영어",
    "language.ja": "일본어",
    "language.zh": "중국어",
    "group": "샷 {n}개, {start:.1f}-{end:.1f}초: {parts}.",
    "group.one": "샷 1개, {start:.1f}-{end:.1f}초: {parts}.",
    "reason.motion_graphics": (
        "평면 색 화면(평면 영역 {flat:.0%})에 화면 텍스트가 {text:.0%}, 인물 얼굴 {faces:.0%}"
    ),
    "reason.2d_animation": "평면 색 화면(평면 영역 {flat:.0%}), 인물 얼굴은 {faces:.0%}뿐",
    "reason.viral_video": "{aspect} 세로 화면과 {duration:.0f}초 길이: 소셜 숏폼 형식",
    "reason.spot_ad": "{duration:.1f}초 길이: 범퍼 길이의 스팟",
    "reason.suffix": " (측정된 화면 신호 기준이며 내용은 해석하지 않음)",
    "join": ", ",
    "join.parts": "; ",
}

TABLES: dict[str, dict[str, str]] = {"ko": KO, "en": EN}


class Words:
    """Look-ups and templates in one output language."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self.table = TABLES[language]

    def __call__(self, key: str, **values: Any) -> str:
        text = self.table[key]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.table

    def join(self, items: list[str], parts: bool = False) -> str:
        return self.table["join.parts" if parts else "join"].join(items)
