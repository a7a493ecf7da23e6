"""``adref bench tokens``: input tokens per video, the seed's way against ours, per vendor.

The seed sent one call with the video's first frame plus one full-resolution frame per scene
group, up to 10. Ours sends what the pipeline sends under ``ADREF_MAX_ANALYSIS_IMAGES``: a
keyframe per group resized to what the vendor bills least (``frames``, up to the cap, so groups
past it are dropped), or every group tiled onto at most that many contact sheets
(``contact_sheet``). Both are counted with the vendors' published image rules
(``providers.remote.cost_estimates``) on the sizes actually encoded.

The target (ours at most a third of the seed's) is judged on the pictures: the prompt is ours on
both sides (the seed's own is not at hand), so it is counted apart and the ratio with it added
is printed beside. The prompt carries the on-screen text as a run reads it (the text stage on the
clip, capped by ``ADREF_PROMPT_TEXT_TOKENS``) and the voice-over as a run hears it (the speech
step with the configured engine, capped by ``ADREF_PROMPT_SPEECH_TOKENS``); their share of the
prompt is counted apart too. Counts, not timings: the result is the same on any machine.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from adref.errors import AdrefError
from adref.grouping import group_shots
from adref.models import Shot, ShotText, TranscriptSegment, VideoMeta
from adref.ocr.params import TextParams
from adref.ocr.read import read_texts
from adref.providers.base import AnalysisRequest
from adref.providers.remote.cost_estimates import DEFAULT_MODELS, image_tokens, text_tokens
from adref.providers.remote.image_cap import ImageMode, shown_groups
from adref.providers.remote.images import Frame, prepare, select_frames
from adref.providers.remote.vendor_call import Vendor
from adref.settings import Settings, get_settings
from adref.speech.params import SpeechParams
from adref.speech.run import transcribe_video
from adref.video.detect import detect_shots
from adref.video.params import DetectParams
from adref.video.testclips import CLIPS_VERSION, make_clip

BENCH_KINDS: tuple[str, ...] = ("ad", "vertical", "rapid", "single", "vfr", "long")
# Bench kinds that are a test clip made longer: "long" is a 60 s ad, more scene groups than
# ADREF_MAX_ANALYSIS_IMAGES lets frames mode send.
LONGER: dict[str, tuple[str, float]] = {"long": ("ad", 60.0)}
BENCH_SIZE = (1920, 1080)  # what ads are uploaded at; vertical clips are turned
SEED_MAX_FRAMES = 10  # plus the first frame
TARGET = 1 / 3  # ours may cost at most this share of the seed's input tokens
FALLBACK_PROMPT_TOKENS = 1500  # about the seed's prompt, used when ours cannot be rendered
VENDORS: tuple[Vendor, ...] = ("openai", "anthropic", "gemini")
MODES: tuple[ImageMode, ...] = ("frames", "contact_sheet")


class WayTokens(BaseModel):
    """One way of sending a video's pictures to one vendor."""

    images: int
    image_tokens: int
    label_tokens: int = 0  # the text line sent before each image
    groups_shown: list[int]

    @property
    def picture_tokens(self) -> int:
        """What the pictures cost, their labels included: what the target is about."""
        return self.image_tokens + self.label_tokens


class VendorTokens(BaseModel):
    vendor: Vendor
    model: str
    prompt_tokens: int  # the prompt text, the same on both sides (on-screen text included)
    seed: WayTokens
    ours: dict[str, WayTokens]  # by image mode

    def tokens(self, way: WayTokens, with_prompt: bool = False) -> int:
        return way.picture_tokens + (self.prompt_tokens if with_prompt else 0)

    def ratio(self, mode: str, with_prompt: bool = False) -> float:
        ours = self.tokens(self.ours[mode], with_prompt)
        return ours / max(1, self.tokens(self.seed, with_prompt))


class VideoTokens(BaseModel):
    video: str
    kind: str
    width: int
    height: int
    shots: int
    groups: list[int]  # every scene group's index
    vendors: list[VendorTokens]
    text_lines: int = 0  # lines the text stage read on screen
    text_tokens: int = 0  # what the prompt's on-screen text and voice-over blocks cost (capped)
    voice_segments: int = 0  # transcript segments the speech step heard

    def vendor(self, vendor: str) -> VendorTokens:
        return next(v for v in self.vendors if v.vendor == vendor)

    def represented(self, vendor: str, mode: str) -> bool:
        """Every scene group appears in what we send (none dropped by the cap or the layout)."""
        return set(self.vendor(vendor).ours[mode].groups_shown) == set(self.groups)


class TokensBench(BaseModel):
    videos: list[VideoTokens]
    prompt_source: str  # where the prompt's token count came from
    text_source: str = ""  # where the on-screen text came from
    voice_source: str = ""  # where the voice-over came from

    def totals(self, vendor: str, with_prompt: bool = False) -> dict[str, int]:
        """Input tokens summed over the videos: ``seed`` and one entry per image mode."""
        rows = [video.vendor(vendor) for video in self.videos]
        out = {"seed": sum(r.tokens(r.seed, with_prompt) for r in rows)}
        for mode in MODES:
            out[mode] = sum(r.tokens(r.ours[mode], with_prompt) for r in rows)
        return out

    def ratio(self, vendor: str, mode: str, with_prompt: bool = False) -> float:
        totals = self.totals(vendor, with_prompt)
        return totals[mode] / max(1, totals["seed"])

    def all_represented(self, vendor: str, mode: str) -> bool:
        return all(video.represented(vendor, mode) for video in self.videos)

    def meets_target(self, vendor: str, mode: str) -> bool:
        return self.ratio(vendor, mode) <= TARGET and self.all_represented(vendor, mode)


def bench_clips(
    folder: Path | None = None,
    kinds: tuple[str, ...] = BENCH_KINDS,
    size: tuple[int, int] = BENCH_SIZE,
    on_step: Callable[[str], None] | None = None,
) -> list[tuple[str, Path]]:
    """The test clips at ``size`` (vertical ones turned), made once and reused."""
    folder = folder or Path(tempfile.gettempdir()) / "adref-bench"
    w, h = max(size), min(size)
    out: list[tuple[str, Path]] = []
    for kind in kinds:
        cw, ch = (h, w) if kind == "vertical" else (w, h)
        path = folder / f"tokens-{kind}-v{CLIPS_VERSION}-{cw}x{ch}.mp4"
        if not (path.exists() and path.stat().st_size > 0):
            if on_step is not None:
                on_step(f"making the {kind} clip at {cw}x{ch} (once)")
            clip_kind, duration = LONGER.get(kind, (kind, None))
            make_clip(clip_kind, path, width=cw, height=ch, duration_s=duration)
        out.append((kind, path))
    return out


def run_tokens_bench(
    clips: list[tuple[str, Path]],
    settings: Settings | None = None,
    on_step: Callable[[str], None] | None = None,
) -> TokensBench:
    """Detect and group each clip as the pipeline does, then count both ways for each vendor."""
    settings = settings or get_settings()
    videos: list[VideoTokens] = []
    sources: set[str] = set()
    text_sources: set[str] = set()
    voice_sources: set[str] = set()
    for kind, path in clips:
        if on_step is not None:
            on_step(f"detecting, reading and grouping {path.name}")
        detected = detect_shots(path, DetectParams.from_settings(settings))
        texts, text_source = _texts(path, detected.shots, settings)
        text_sources.add(text_source)
        transcript, voice_source = _transcript(path, settings)
        voice_sources.add(voice_source)
        meta = VideoMeta(
            video_id=f"bench:{path.stem}",
            title=f"{kind} test clip",
            duration_s=detected.stream.duration_s,
            width=detected.stream.width,
            height=detected.stream.height,
        )
        requests = {
            mode: AnalysisRequest(
                meta=meta,
                stream=detected.stream,
                shots=detected.shots,
                grouping=group_shots(
                    detected.shots,
                    detected.stream,
                    settings.granularity,
                    shown_groups(mode, settings.max_analysis_images),
                ),
                output_language=settings.output_language,
                texts=texts,
                transcript=transcript,
            )
            for mode in MODES
        }
        request = requests["contact_sheet"]
        budget = (settings.prompt_text_tokens, settings.prompt_speech_tokens)
        labels = [f.label for f in select_frames(request)]
        prompt, source = prompt_tokens(request, labels, budget)
        sources.add(source)
        video = count_video(kind, path.name, requests, prompt, settings.max_analysis_images)
        video.text_lines, video.text_tokens = len(texts), screen_tokens(request, budget)
        video.voice_segments = len(transcript)
        videos.append(video)
    return TokensBench(
        videos=videos,
        prompt_source="; ".join(sorted(sources)),
        text_source="; ".join(sorted(text_sources)),
        voice_source="; ".join(sorted(voice_sources)),
    )


def _texts(path: Path, shots: list[Shot], settings: Settings) -> tuple[list[ShotText], str]:
    """The clip's lines read on screen as a run reads them, or none and why."""
    try:
        return read_texts(path, shots, TextParams.from_settings(settings)).texts, "the text stage"
    except AdrefError as exc:  # no Tesseract data here: count the rest
        return [], f"no on-screen text ({exc.what})"


def _transcript(path: Path, settings: Settings) -> tuple[list[TranscriptSegment], str]:
    """The clip's voice-over as a run hears it, or none and why."""
    params = SpeechParams.from_settings(settings)
    with tempfile.TemporaryDirectory(prefix="adref-bench-speech-") as work:
        heard = transcribe_video(path, Path(work), params, settings)
    if heard.status == "skipped":
        return [], "no voice-over: no speech engine configured"
    if heard.status == "failed":
        return [], f"no voice-over ({heard.note})"
    return heard.segments, f"the speech step ({params.engine})"


def screen_tokens(request: AnalysisRequest, budget: tuple[int, int]) -> int:
    """Tokens of the prompt's on-screen text and voice-over sections (0 when nothing is sent);
    ``budget`` is their two caps."""
    try:
        prompt = importlib.import_module("adref.providers.remote.prompt")
    except ImportError:
        return 0
    return sum(text_tokens(part) for part in prompt.said_sections(request, *budget))


def count_video(
    kind: str, name: str, requests: dict[ImageMode, AnalysisRequest], prompt: int, max_images: int
) -> VideoTokens:
    """Both ways' tokens for one video, grouped as each image mode groups it, every vendor."""
    request = requests["contact_sheet"]
    stream = request.stream
    frames = {mode: select_frames(r) for mode, r in requests.items()}
    groups = [g.group_index for g in request.grouping.groups]
    seed_images = 1 + min(SEED_MAX_FRAMES, len(groups))
    vendors: list[VendorTokens] = []
    for vendor in VENDORS:
        model = DEFAULT_MODELS[vendor]
        seed_each = image_tokens(vendor, model, stream.width, stream.height, "auto")
        seed = WayTokens(
            images=seed_images,
            image_tokens=seed_images * seed_each,
            groups_shown=groups[: seed_images - 1],
        )
        ours: dict[str, WayTokens] = {
            m: _ours(frames[m], vendor, model, m, max_images) for m in MODES
        }
        vendors.append(
            VendorTokens(vendor=vendor, model=model, prompt_tokens=prompt, seed=seed, ours=ours)
        )
    return VideoTokens(
        video=name,
        kind=kind,
        width=stream.width,
        height=stream.height,
        shots=len(request.shots),
        groups=groups,
        vendors=vendors,
    )


def prompt_tokens(
    request: AnalysisRequest, labels: list[str], budget: tuple[int, int] | None = None
) -> tuple[int, str]:
    """Tokens of our rendered prompt (repo defaults), or a fixed estimate and why."""
    fallback = f"a fixed {FALLBACK_PROMPT_TOKENS}-token estimate"
    try:
        prompt = importlib.import_module("adref.providers.remote.prompt")
    except ImportError:
        return FALLBACK_PROMPT_TOKENS, f"{fallback} (adref.providers.remote.prompt is not there)"
    try:
        facts = prompt.facts_from_local(request)
        caps = (prompt.SCREEN_TOKENS, prompt.VOICE_TOKENS) if budget is None else budget
        system, user = prompt.render(prompt.default_prompt(), request, facts, labels, *caps)
    except Exception as exc:  # an optional collaborator: say why, count the rest
        return FALLBACK_PROMPT_TOKENS, f"{fallback} (rendering the prompt failed: {exc})"
    return text_tokens(str(system)) + text_tokens(str(user)), "our rendered prompt"


def _ours(
    frames: list[Frame], vendor: Vendor, model: str, mode: ImageMode, max_images: int
) -> WayTokens:
    prepared = prepare(frames, vendor, mode, max_images)
    parts = [p.part for p in prepared]
    return WayTokens(
        images=len(parts),
        image_tokens=sum(image_tokens(vendor, model, p.width, p.height, p.detail) for p in parts),
        label_tokens=sum(text_tokens(p.label) for p in parts),
        groups_shown=[g for p in prepared for g in p.groups],
    )
