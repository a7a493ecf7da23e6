"""Genre and expression-format codes, labelled in Korean and English (DESIGN.md).

Stored as codes; labels are for people. The lists are defaults: a later settings layer can
override them, which is why they are data and not an Enum.
"""

from __future__ import annotations

GENRES: dict[str, tuple[str, str]] = {
    "2d_animation": ("2D애니메이션", "2D animation"),
    "3d_animation": ("3D애니메이션", "3D animation"),
    "motion_graphics": ("모션그래픽", "Motion graphics"),
    "interview": ("인터뷰", "Interview"),
    "spot_ad": ("스팟광고", "Spot ad"),
    "vlog": ("VLOG", "Vlog"),
    "youtube_content": ("유튜브콘텐츠", "YouTube content"),
    "documentary": ("다큐멘터리", "Documentary"),
    "brand_film": ("브랜드필름", "Brand film"),
    "tvc": ("TVC", "TV commercial"),
    "music_video": ("뮤직비디오", "Music video"),
    "educational": ("교육콘텐츠", "Educational"),
    "product_intro": ("제품소개", "Product introduction"),
    "event_video": ("이벤트영상", "Event video"),
    "web_drama": ("웹드라마", "Web drama"),
    "viral_video": ("바이럴영상", "Viral video"),
}

FORMATS: dict[str, tuple[str, str]] = {
    "2d": ("2D", "2D"),
    "3d": ("3D", "3D"),
    "live_action": ("실사", "Live action"),
    "hybrid": ("혼합형", "Hybrid"),
    "stop_motion": ("스톱모션", "Stop motion"),
    "typography": ("타이포그래피", "Typography"),
}


def label(table: dict[str, tuple[str, str]], code: str | None, language: str = "ko") -> str:
    if code is None:
        return "—"
    ko, en = table.get(code, (code, code))
    return ko if language == "ko" else en
