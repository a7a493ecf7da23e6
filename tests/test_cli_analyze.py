"""``adref analyze`` as a user sees it: output, messages and exit codes, a real Prefect server,
real files. Commands run in this process (``tests/support/cli.py``); the console script in a
real process is kept for its start-up path (the traceback test at the end)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import Result

from tests.support import media
from tests.support.cli import invoke
from tests.support.http import LocalHTTPServer, unused_port
from tests.support.nonvideo import CDG_SENTENCE

ADREF = Path(sys.executable).with_name("adref")  # the console script a user runs


def _adref(args: list[str], home: Path, api: str, *, allow_private: bool = True) -> Result:
    env = {"ADREF_HOME": str(home), "PREFECT_API_URL": api, "ADREF_WAREHOUSE_DIR": None}
    env["ADREF_ALLOW_PRIVATE_URLS"] = str(allow_private).lower()  # test servers are on loopback
    return invoke(args, env)


def _adref_alone(args: list[str], home: Path) -> Result:
    """No Prefect server given: a command that started Prefect would make its home under
    ``home/prefect``, so that folder shows whether Prefect was started at all."""
    return invoke(args, {"ADREF_HOME": str(home)}, alone=True)


def test_analyze_prints_a_summary_then_says_cached(
    prefect_api: str, tmp_path: Path, clip_ad
) -> None:
    home = tmp_path / "home"
    first = _adref(["analyze", str(clip_ad.path), "--tag", "summer"], home, prefect_api)
    assert first.exit_code == 0, first.output
    assert "scene groups" in first.stdout and "palette" in first.stdout
    assert f"{clip_ad.shot_count}" in first.stdout
    assert "ATTACH 'ducklake:sqlite:" in first.stdout

    second = _adref(["analyze", str(clip_ad.path), "--tag", "summer"], home, prefect_api)
    assert second.exit_code == 0, second.output
    assert second.stderr.count("cached") == 7, second.stderr  # one per stage bar
    assert "8/8 tasks served from cache" in second.stdout

    rows = _adref(
        ["sql", "--format", "csv", "select status, cache_hits from runs order by started_at"],
        home,
        prefect_api,
    )
    assert rows.stdout.split() == ["status,cache_hits", "completed,0", "completed,8"]


@pytest.mark.parametrize(
    "source, expected",
    [
        ("ftp://example.com/ad.mp4", "scheme"),
        ("data:video/mp4;base64,AAAA", "scheme"),
        ("/no/such/file.mp4", "no such file"),
    ],
)
def test_bad_sources_fail_with_one_clear_line(
    prefect_api: str, tmp_path: Path, source: str, expected: str
) -> None:
    result = _adref(["analyze", source], tmp_path / "home", prefect_api)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0].lower(), result.stderr


def test_a_file_named_in_another_encoding_is_refused_in_one_line(
    prefect_api: str, tmp_path: Path
) -> None:
    """A Latin-1 name reaches Python as a lone surrogate, which no run parameter, row or
    message can carry: refused, with the name shown as far as it can be."""
    latin = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.mp4"))
    latin.write_bytes(b"\0" * 100)
    result = _adref(["analyze", str(latin)], tmp_path / "home", prefect_api)
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "not valid UTF-8" in errors[0], result.stderr
    assert "caf\ufffd.mp4" in errors[0]


@pytest.mark.parametrize("host", ["0x7f000001", "localhost"])
def test_a_private_address_is_refused_in_one_line_before_prefect_starts(
    tmp_path: Path, host: str
) -> None:
    home = tmp_path / "home"
    url = f"http://{host}:{unused_port()}/ad.mp4"
    result = _adref(["analyze", url], home, "http://127.0.0.1:9/api", allow_private=False)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "private or local address (127.0.0.1)" in errors[0]
    assert not (home / "prefect").exists()


@pytest.mark.expected_error_log  # the failed flow runs: Prefect and the flow log them
def test_not_a_video_and_http_errors_fail_clearly(prefect_api: str, tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"<html>not a video</html>" * 100)
    result = _adref(["analyze", str(fake)], tmp_path / "home", prefect_api)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "error:" in result.stderr and "video" in result.stderr.lower()

    with LocalHTTPServer() as server:
        missing = server.url("/missing.mp4")
        result = _adref(["analyze", missing], tmp_path / "home", prefect_api)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "404" in result.stderr

    dead = f"http://127.0.0.1:{unused_port()}/ad.mp4"
    result = _adref(["analyze", dead], tmp_path / "home", prefect_api)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "error:" in result.stderr


def test_estimate_prints_the_plan_and_a_chain_says_how_it_fell_back(
    prefect_api: str, tmp_path: Path, clip_single, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.fake_openai import FakeOpenAI
    from tests.support.fake_vendor import Reply

    home = tmp_path / "home"
    with FakeOpenAI() as fake:
        monkeypatch.setenv("ADREF_OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-adref-SECRET-cli-0000")
        plan = _adref(
            ["analyze", str(clip_single.path), "-p", "openai,local", "--estimate"],
            home,
            prefect_api,
        )
        fake.script.default = Reply("auth_error")
        run = _adref(["analyze", str(clip_single.path), "-p", "openai,local"], home, prefect_api)
    assert plan.exit_code == 0, plan.output
    assert "nothing called" in plan.stdout and "gpt-4o" in plan.stdout
    assert "adref-cv-1" in plan.stdout
    assert len(fake.calls) == 1, "only the real run asked the vendor"
    assert run.exit_code == 0, run.output
    assert "provider chain: openai:" in run.stderr and "answered by local" in run.stderr
    assert "local / adref-cv-1" in run.stdout
    assert "sk-adref-SECRET-cli-0000" not in run.stdout + run.stderr + plan.stdout + plan.stderr


def test_the_summary_shows_the_stored_title_and_what_this_source_calls_it() -> None:
    from rich.console import Console

    from adref.cli.analyze import summary_table
    from adref.tasks.runs import RunSummary

    summary = RunSummary(
        run_id="r",
        status="completed",
        source="https://cdn.example/teaser-copy.mp4",
        video_id="sha256:ab",
        title="Teaser final",
        source_title="teaser-copy",
    )
    console = Console(width=200, record=True)
    console.print(summary_table(summary))
    lines = console.export_text().splitlines()
    assert lines[0].strip() == "Teaser final"
    (seen,) = [line for line in lines if "seen at" in line]
    assert "https://cdn.example/teaser-copy.mp4 (titled there “teaser-copy”)" in seen


def _cdg_text(folder: Path) -> Path:
    path = folder / "notes.bin"
    path.write_bytes(CDG_SENTENCE)
    return path


def _still_png(folder: Path) -> Path:
    path = folder / "still.mp4"
    media.run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x48", "-frames:v", "1", "-c:v", "png",
        "-f", "image2", str(path),
    )  # fmt: skip
    return path


NOT_VIDEOS = {
    "empty": (lambda d: media.make_empty_file(d / "empty.mp4"), "the file is empty"),
    "text": (lambda d: media.make_text_as_video(d / "notes.mp4"), "it contains text"),
    "cd+g text": (_cdg_text, "it contains text"),
    "image": (_still_png, "it is a still image (PNG)"),
    "truncated": (
        lambda d: media.make_truncated_video(d / "cut.mp4", faststart=False),
        "is damaged or incomplete",
    ),
}


@pytest.mark.parametrize("kind", list(NOT_VIDEOS))
def test_a_local_non_video_is_refused_before_prefect_starts(tmp_path: Path, kind: str) -> None:
    make, reason = NOT_VIDEOS[kind]
    home = tmp_path / "home"
    result = _adref_alone(["analyze", str(make(tmp_path))], home)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and reason in lines[0], lines
    assert not (home / "prefect").exists(), "Prefect's server was started for nothing"
    assert not (home / "warehouse").exists(), "a refusal before any run writes no runs row"


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path: Path) -> None:
    text = media.make_text_as_video(tmp_path / "notes.mp4")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ADREF_"))}
    env.update({"ADREF_HOME": str(tmp_path / "home"), "COLUMNS": "200"})
    plain, debug = (
        subprocess.run([str(ADREF), *args], env=env, capture_output=True, text=True, timeout=300)
        for args in (["analyze", str(text)], ["--debug", "analyze", str(text)])
    )
    assert plain.returncode == debug.returncode == 2, debug.stderr
    assert "Traceback" not in plain.stderr
    assert "Traceback" in debug.stderr and "InputError" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip()
