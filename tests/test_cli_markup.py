"""Words from outside adref printed as they are: a path, an address, a video's title, an error
quoting them, a watch-list entry. The CLI prints through Rich, whose markup read ``[/b]`` in a
refused address as a closing tag (a traceback instead of the one-line error, and a batch that
stopped), the ``[fd00::2]`` of an address as a style (gone from the message), the ``[final]`` of a
file name as one too (a title shown as ``Spot``).

Also here: ``adref ingest`` without a server keeps Prefect's logs off the console (it imported
Prefect before quieting it), and ``adref notion push`` goes on after an item fails unexpectedly.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import Result

from adref.video.testclips import ClipTruth
from tests.support import media
from tests.support.cli import invoke

ADREF = Path(sys.executable).with_name("adref")  # the console script a user runs
CLOSING = "ftp://x/[/b]"  # a closing tag that closes nothing: Rich's MarkupError
IPV6 = "http://[fd00::2]/"  # a host that reads as a style tag


def _alone(args: list[str], home: Path, **env: str) -> Result:
    """No Prefect server, no ADREF_/PREFECT_ variable of this process: what a refusal needs."""
    return invoke(args, {"ADREF_HOME": str(home), **env}, alone=True)


def _on(api: str, args: list[str], home: Path) -> Result:
    return invoke(
        args, {"ADREF_HOME": str(home), "PREFECT_API_URL": api, "ADREF_WAREHOUSE_DIR": None}
    )


def _errors(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize(
    "source, said",
    [
        (CLOSING, "cannot use ftp://x/[/b]: the address scheme ftp: is not supported"),
        (IPV6, "cannot fetch http://[fd00::2]/: it points to a private or local address"),
    ],
)
def test_a_refused_address_with_brackets_is_one_error_line_quoting_it(
    tmp_path: Path, source: str, said: str
) -> None:
    result = _alone(["analyze", source], tmp_path / "home")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {said}"), lines


def test_every_source_of_a_list_is_reported_as_written(tmp_path: Path) -> None:
    listing = tmp_path / "sources.txt"
    listing.write_text(f"{CLOSING}\n{IPV6}\n/no/such/[x].mp4\n")
    result = _alone(["analyze", "--from", str(listing)], tmp_path / "home")
    assert result.exit_code == 1, result.output
    errors = _errors(result)
    assert [e.split(": ")[1] for e in errors] == [CLOSING, IPV6, "/no/such/[x].mp4"], errors
    table = result.stdout[result.stdout.index("3 sources: 0 ok") :]
    for source in (CLOSING, IPV6, "/no/such/[x].mp4"):
        assert f"│ {source} " in table, table


def test_a_batch_with_a_bad_address_still_analyses_the_good_video(
    prefect_api: str, tmp_path: Path, clip_single: ClipTruth
) -> None:
    listing = tmp_path / "sources.txt"
    listing.write_text(f"{clip_single.path}\n{CLOSING}\n")
    result = _on(prefect_api, ["analyze", "--from", str(listing)], tmp_path / "home")
    assert result.exit_code == 1, result.output  # one of them refused
    assert "Traceback" not in result.output
    (error,) = _errors(result)
    assert error.startswith(f"error: {CLOSING}: cannot use {CLOSING}:"), error
    out = result.stdout
    assert "scene groups" in out, "the good video ran and its summary was shown"
    assert "2 sources: 1 ok, 1 failed or refused" in out
    table = out[out.index("2 sources: ") :]
    (good,) = [line for line in table.splitlines() if f"│ {clip_single.path} " in line]
    assert "completed" in good


def test_a_local_file_with_brackets_keeps_its_whole_name_as_title(
    prefect_api: str, tmp_path: Path, clip_single: ClipTruth
) -> None:
    spot = tmp_path / "Spot [final].mp4"
    shutil.copy(clip_single.path, spot)
    result = _on(prefect_api, ["analyze", str(spot)], tmp_path / "home")
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert "Spot [final]" in lines, result.stdout  # the summary's title
    (seen,) = [line for line in lines if line.startswith("│ seen at")]
    assert str(spot) in seen


def test_a_summary_shows_a_sites_title_and_a_models_words_as_written() -> None:
    from rich.console import Console

    from adref.cli.analyze import estimate_table, summary_table
    from adref.providers.base import CallEstimate
    from adref.tasks.runs import RunSummary

    summary = RunSummary(
        run_id="r",
        status="completed",
        source="https://cdn.example/a.mp4?x=[/b]",
        video_id="sha256:ab",
        title="Sale [/b] [red]now[/red] :fire:",
        source_title="[bold]teaser[/]",
        summary="A [link=https://evil.example]click[/link] here \\[/i]",
        tags=["[/]"],
        provider="local",
        model="[model]",
    )
    console = Console(width=200, record=True, emoji=False)  # as the CLI's own
    console.print(summary_table(summary))
    lines = console.export_text().splitlines()
    assert lines[0].strip() == "Sale [/b] [red]now[/red] :fire:"
    text = "\n".join(lines)
    assert "https://cdn.example/a.mp4?x=[/b] (titled there “[bold]teaser[/]”)" in text
    assert "A [link=https://evil.example]click[/link] here \\[/i]" in text
    (tags,) = [line for line in lines if line.startswith("│ tags ")]
    assert tags.split("│")[2].strip() == "[/]"
    assert "local / [model]" in text

    plan = CallEstimate(provider="[/p]", model="m[/x]", calls=1, images=2)
    console.print(estimate_table([plan], "Sale [/b]"))
    text = console.export_text()
    assert "planned model calls for Sale [/b] (nothing called)" in text
    assert "[/p]" in text and "m[/x]" in text


def test_a_dry_run_ingest_reports_a_bad_entry_with_brackets_and_goes_on(
    tmp_path: Path, clip_single: ClipTruth
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    clip = drop / "ad [v2] :fire:.mp4"  # an emoji code is words too
    shutil.copy(clip_single.path, clip)
    watchlist = tmp_path / "list.yaml"
    watchlist.write_text(f'- "{CLOSING}"\n- {{folder: "{drop}"}}\n')
    result = _alone(
        ["ingest", str(watchlist), "--dry-run"], tmp_path / "home", ADREF_INGEST_SETTLE_S="0"
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert f"skipped entry 1 of {watchlist}: cannot use {CLOSING}:" in said, result.stderr
    assert "would start: 1, skipped: 0" in result.stdout
    assert "".join(str(clip).split()) in "".join(result.stdout.split()).replace("│", "")


@pytest.mark.slow
def test_ingest_without_a_server_keeps_prefects_logs_and_tracebacks_off_the_console(
    tmp_path: Path,
) -> None:
    """Its own process: Prefect sets its console up once, when first imported. A file that is
    not a video is skipped, and said, every ingest, without a run that fails each time."""
    from adref.video.testclips import make_clip

    drop = tmp_path / "drop"
    notes = media.make_text_as_video(drop / "notes.mp4")
    clip = drop / "spot.mp4"
    make_clip("ad", clip, width=160, height=90, duration_s=4.0)
    watchlist = tmp_path / "list.yaml"
    watchlist.write_text(f"- {{folder: {drop}}}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADREF_"))}
    env.update(
        ADREF_HOME=str(tmp_path / "home"),
        ADREF_SERVER="embedded",  # a temporary server, gone with the command
        ADREF_INGEST_SETTLE_S="0",
        HOME=str(tmp_path),  # Prefect makes its own ~/.prefect when imported
        COLUMNS="200",
    )
    run = subprocess.run(
        [ADREF, "ingest", str(watchlist)], env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "not taken: notes.mp4 is not a video file" in run.stdout, run.stdout
    assert f"1/1 {clip}" in run.stderr and str(notes) not in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    logged = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| (INFO|WARNING|ERROR) ")  # Prefect's format
    assert not [line for line in run.stderr.splitlines() if logged.match(line)], run.stderr


def test_notion_push_goes_on_after_an_item_fails_unexpectedly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adref.notion.push import Publisher, Pushed
    from tests.board_library import build_library
    from tests.support.fake_notion import FakeNotion

    token = "secret_NOTIONtok3n-markup"
    real = Publisher.video
    failed: list[str] = []

    def video(self: Publisher, video_id: str) -> Pushed:
        if not failed:  # the first of the batch: an answer no one could decode
            failed.append(video_id)
            raise json.JSONDecodeError("Expecting value", "<html>", 0)
        return real(self, video_id)

    monkeypatch.setattr(Publisher, "video", video)
    with FakeNotion(token=token) as notion:
        build_library(tmp_path / "wh")
        env = {
            "ADREF_HOME": str(tmp_path / "home"),
            "ADREF_WAREHOUSE_DIR": str(tmp_path / "wh"),
            "NOTION_API_KEY": token,
            "NOTION_DATABASE_ID": notion.state.database_id,
            "ADREF_NOTION_BASE_URL": notion.base_url,
            "ADREF_NOTION_REQUESTS_PER_S": "50",
        }
        result = invoke(["notion", "push", "--all"], env, alone=True)
        live = notion.live_pages()
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    (first,) = failed
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"failed video {first}: unexpected JSONDecodeError: Expecting value: line 1 column 1 "
        "(char 0)"
    ], lines
    (other,) = {"youtube:sea", "vimeo:city"} - {first}
    assert f"created video {other}:" in result.stdout
    assert len(live) == 1


@pytest.mark.parametrize(
    "variable, value, said",
    [
        ("ADREF_GRANULARITY", "11", "ADREF_GRANULARITY: Input should be less than or equal to 10"),
        ("ADREF_CACHE_MAX_GB", "-1x", "ADREF_CACHE_MAX_GB: Input should be a valid number"),
        ("ADREF_VIEWER_OAUTH_EXTRA_PARAMS", "notjson", "ADREF_VIEWER_OAUTH_EXTRA_PARAMS is not"),
        ("OPENAI_API_KEY", "", None),  # empty is unset, not an error
    ],
)
def test_a_bad_setting_is_named_with_its_rule_and_never_echoed(
    tmp_path: Path, variable: str, value: str, said: str | None
) -> None:
    from adref.settings import reset_settings

    reset_settings()
    try:
        done = invoke(["doctor"], {"ADREF_HOME": str(tmp_path / "h"), variable: value})
    finally:
        reset_settings()
    if said is None:
        assert "unexpected" not in done.output, done.output
        return
    assert done.exit_code == 2, done.output
    (line,) = [x for x in done.output.splitlines() if x.startswith("error:")]
    assert said in line and "unexpected" not in line, done.output
    assert value not in line, "the value is not repeated: it may be a key"


def test_each_note_says_which_step_it_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    from adref.cli.analyze import show_summary
    from adref.tasks.runs import RunSummary

    notes = ["speech: not transcribed (local): no local speech model", "openai: timed out"]
    show_summary(
        RunSummary(run_id="r", status="completed", source="a.mp4", notes=notes), attach=False
    )
    said = capsys.readouterr().err
    assert "speech: not transcribed" in said and "provider chain: speech" not in said
    assert "provider chain: openai: timed out" in said
