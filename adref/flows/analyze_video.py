"""One video, one flow run: download → detect → text → speech → group → analyze → persist."""

from __future__ import annotations

from prefect import flow
from prefect.utilities.annotations import quote

from adref.analysis import AnalysisRequest
from adref.flows.runbook import RunBook, row_written
from adref.ocr.params import TextParams
from adref.providers.remote.image_cap import left_out, shown_groups
from adref.settings import get_settings
from adref.speech.params import SpeechParams
from adref.tasks.analyze import analyze, estimate
from adref.tasks.detect import detect
from adref.tasks.download import admit, download_present, fetch, resolve
from adref.tasks.group import group
from adref.tasks.notion import notion as publish_to_notion
from adref.tasks.notion import wanted
from adref.tasks.persist import persist
from adref.tasks.runs import RunSummary
from adref.tasks.text import read_text
from adref.video.params import DetectParams


@flow(
    name="analyze-video",
    log_prints=True,
    on_completion=[row_written],
    on_failure=[row_written],
    on_crashed=[row_written],
)
def analyze_video(
    source: str,
    provider: str = "local",
    model: str | None = None,
    owner: str | None = None,
    tags: list[str] | None = None,
    refresh: bool = False,
    estimate_only: bool = False,
    notion: bool | None = None,
) -> RunSummary:
    """Analyse one video (a URL or a file path) and store it in the warehouse.

    Args:
        source: A video URL (http or https), or a video file; a deployment run reads files
            only from the input folders (ADREF_INPUT_DIRS).
        provider: The analyser, or a fallback chain tried in order ("anthropic,openai,local").
        model: The provider's model; its default when empty.
        owner: Who the video is filed under in the library.
        tags: Your own tags for the video, beside the site's and the model's.
        refresh: Recompute every stage instead of reusing cached work.
        estimate_only: Stop before any model call and report the planned calls, tokens and cost.
        notion: Publish the stored video to Notion as a last step (empty: ADREF_NOTION_PUBLISH);
            a Notion failure is noted, never the run's failure.
    """
    s = get_settings()
    with RunBook(s, source=source, provider=provider, refresh=refresh) as book:
        if book.deployed:
            admit(source, s.input_folders)
        resolved = book.stage("download", resolve, source, s)
        gone = not download_present(resolved, s)
        video = book.stage("download", fetch, resolved, book.workspace, s, refresh=gone)
        meta = book.downloaded(resolved, video)

        detected = book.stage(
            "detect", detect, video.path, video.content_hash, DetectParams.from_settings(s)
        )
        texts = book.stage(
            "text", read_text, video.path, quote(detected), TextParams.from_settings(s)
        )
        book.note(texts.skipped)
        speech = book.transcribed(video.path, video.content_hash, SpeechParams.from_settings(s))
        book.heard(speech)
        max_groups = shown_groups(s.image_mode, s.max_analysis_images)
        # quote(): Prefect would otherwise walk every shot's numbers looking for futures.
        grouping = book.stage("group", group, quote(detected), s.granularity, max_groups)
        book.note(
            left_out(
                len(grouping.groups), grouping.analysis_groups, s.image_mode, s.max_analysis_images
            )
        )

        request = AnalysisRequest(
            meta=meta,
            stream=detected.stream,
            shots=detected.shots,
            grouping=grouping,
            output_language=s.output_language,
            model=model,
            texts=texts.texts,
            transcript=speech.segments if speech.heard else [],
            transcript_language=speech.language if speech.heard else None,
        )
        if estimate_only:
            return book.estimated(book.stage("analyze", estimate, provider, request), detected)
        analysis = book.analysed(book.stage("analyze", analyze, provider, quote(request), s))

        stored = book.stage(
            "persist",
            persist,
            meta,
            video,
            quote(detected),
            quote(texts),
            quote(speech),
            grouping,
            analysis,
            owner,
            tags or [],
            s,
        )
        if wanted(notion, s):
            book.note_all(publish_to_notion(meta.video_id, s))
        return book.stored(detected, grouping, analysis, title=stored.title)
