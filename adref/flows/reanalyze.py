"""A stored video analysed again with another provider, model or prompt: analyze → persist.

The shots, scene groups, keyframes and lines read on screen come from the warehouse (the first
run's detect, text and group work), so nothing is downloaded or decoded. With ``text``, the text
on screen is read again from the kept copy first (a video stored before text was read, or read
with other settings) and stored in place of the old lines, then given to the analyser. The new analysis gets its own ``analysis_id`` and
sits beside the others; the video's shots and groups are not touched.
"""

from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from adref.flows.runbook import RunBook, row_written
from adref.models import DetectResult
from adref.ocr.read import TextParams
from adref.settings import get_settings
from adref.tasks.analyze import analyze
from adref.tasks.notion import notion as publish_to_notion
from adref.tasks.notion import wanted
from adref.tasks.persist_analysis import analysis_stored, persist_analysis
from adref.tasks.runs import RunSummary
from adref.tasks.stored_request import stored_media, stored_request
from adref.tasks.text import persist_text, read_stored_text

RESTAGES = ("analyze", "persist")
TEXT_RESTAGES = ("text", "analyze", "persist")


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
    """
    s = get_settings()
    with RunBook(
        s,
        source=video_id,
        video_id=video_id,
        provider=provider,
        refresh=refresh,
        what="adref re-analysis",
        stages=TEXT_RESTAGES if text else RESTAGES,
        keep_failed=False,  # nothing is written in its workspace: only its run card
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
        if text:
            media = stored_media(video_id, s)
            read = book.stage(
                "text", read_stored_text, media, quote(request.shots), TextParams.from_settings(s)
            )
            book.stage("text", persist_text, video_id, quote(read), s)
            book.logger.info("read %d lines on screen from the kept copy", len(read.texts))
            request = request.model_copy(update={"texts": read.texts})
        analysis = book.analysed(book.stage("analyze", analyze, provider, request, s))

        stored = analysis_stored(analysis, s)
        book.stage("persist", persist_analysis, analysis, s, refresh=not stored)
        if wanted(notion, s):
            book.note_all(publish_to_notion(video_id, s))
        detected = DetectResult(stream=request.stream, shots=request.shots, detector="stored")
        return book.stored(detected, request.grouping, analysis)
