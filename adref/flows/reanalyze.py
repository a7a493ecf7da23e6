"""A stored video analysed again with another provider, model or prompt: analyze → persist.

The shots, scene groups, keyframes, lines read on screen and voice-over heard come from the
warehouse (the first run's detect, text, speech and group work), so nothing is downloaded or
decoded. With ``text``, the text on screen is read again from the kept copy first (a video stored
before text was read, or read with other settings) and stored in place of the old lines; with
``speech``, the kept copy's voice-over is transcribed by the configured engine and stored in place
of the old transcript when heard (a failed or skipped step leaves it, and says so in the run's
notes). The analyser is then given what was read and heard. The new analysis gets its own
``analysis_id`` and sits beside the others; the video's shots and groups are not touched.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from adref.analysis import AnalysisRequest
from adref.flows.runbook import RunBook, row_written
from adref.models import DetectResult
from adref.ocr.params import TextParams
from adref.settings import get_settings
from adref.speech.params import SpeechParams
from adref.tasks.analyze import analyze
from adref.tasks.notion import notion as publish_to_notion
from adref.tasks.notion import wanted
from adref.tasks.persist_analysis import analysis_stored, persist_analysis
from adref.tasks.runs import RunSummary
from adref.tasks.speech import persist_transcript
from adref.tasks.stored_request import stored_media, stored_request
from adref.tasks.text import persist_text, read_stored_text

RESTAGES = ("analyze", "persist")


def restages(text: bool, speech: bool) -> tuple[str, ...]:
    return ("text",) * text + ("speech",) * speech + RESTAGES


def _run_name() -> str:
    params = flow_run.parameters
    return f"{params.get('video_id', 'video')} → {params.get('provider', 'local')}"[:120]


@flow(
    name="reanalyze-video",
    flow_run_name=_run_name,
    log_prints=True,
    on_completion=[row_written],
    on_failure=[row_written],
    on_crashed=[row_written],
)
def reanalyze_video(
    video_id: str,
    provider: str = "local",
    model: str | None = None,
    refresh: bool = False,
    notion: bool | None = None,
    text: bool = False,
    speech: bool = False,
) -> RunSummary:
    """Analyse a stored video again (another provider, model or prompt) and keep both analyses.

    Args:
        video_id: The stored video, as in the warehouse (e.g. "youtube:dQw4w9WgXcQ").
        provider: The analyser, or a fallback chain tried in order ("anthropic,openai,local").
        model: The provider's model; its default when empty.
        refresh: Ask again even if this exact analysis is cached.
        notion: Publish the video to Notion as a last step (empty: ADREF_NOTION_PUBLISH);
            a Notion failure is noted, never the run's failure.
        text: Read the text on screen again from the kept copy first and store it (for videos
            stored before text was read), so the analysis is given it.
        speech: Transcribe the kept copy's voice-over first with the configured engine
            (ADREF_SPEECH_ENGINE) and store it when heard, so the analysis is given it.
    """
    s = get_settings()
    with RunBook(
        s,
        source=video_id,
        video_id=video_id,
        provider=provider,
        refresh=refresh,
        what="adref re-analysis",
        stages=restages(text, speech),
        keep_failed=False,  # its workspace holds its run card, and at most an audio track
        keyed_artifact=False,  # the video's summary stays its own run's
    ) as book:
        request = stored_request(video_id, s, model)
        book.found(request.meta, name_suffix=f" → {provider}")
        book.logger.info(
            "re-analysing %s with %s: %d shots, %d scene groups from the warehouse",
            video_id,
            provider,
            len(request.shots),
            len(request.grouping.groups),
        )
        if text or speech:
            kept = stored_media(video_id, s, _reading(text, speech))
            if text:
                request = _read_again(book, video_id, kept.path, request)
            if speech:
                request = _hear_again(book, video_id, kept.path, kept.content_hash, request)
        analysis = book.analysed(book.stage("analyze", analyze, provider, request, s))

        stored = analysis_stored(analysis, s)
        book.stage("persist", persist_analysis, analysis, s, refresh=not stored)
        if wanted(notion, s):
            book.note_all(publish_to_notion(video_id, s))
        detected = DetectResult(stream=request.stream, shots=request.shots, detector="stored")
        return book.stored(detected, request.grouping, analysis)


def _reading(text: bool, speech: bool) -> str:
    return " and ".join(w for w, on in (("its text", text), ("its voice-over", speech)) if on)


def _read_again(
    book: RunBook, video_id: str, media: Path, request: AnalysisRequest
) -> AnalysisRequest:
    s = book.settings
    params = TextParams.from_settings(s)
    read = book.stage("text", read_stored_text, media, quote(request.shots), params)
    book.stage("text", persist_text, video_id, quote(read), s)
    book.logger.info("read %d lines on screen from the kept copy", len(read.texts))
    return request.model_copy(update={"texts": read.texts})


def _hear_again(
    book: RunBook, video_id: str, media: Path, content_hash: str, request: AnalysisRequest
) -> AnalysisRequest:
    """The request with the transcript heard from the kept copy; with the stored one when the
    engine heard nothing to keep (failed, or none configured)."""
    s = book.settings
    heard = book.transcribed(media, content_hash, SpeechParams.from_settings(s))
    book.heard(heard, asked=True)
    if not heard.heard:
        return request
    book.stage("speech", persist_transcript, video_id, quote(heard), s)
    update = {"transcript": heard.segments, "transcript_language": heard.language}
    return request.model_copy(update=update)
