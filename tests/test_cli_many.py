"""``adref analyze`` of many sources: each its own run in one process, a bad one reported while
the rest still run, a table of them all at the end (``adref/cli/many.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import Result

from tests.support.cli import invoke
from tests.support.http import LocalHTTPServer


def _adref(args: list[str], home: Path, api: str, stdin: str | None = None) -> Result:
    env = {"ADREF_HOME": str(home), "PREFECT_API_URL": api, "ADREF_WAREHOUSE_DIR": None}
    env["ADREF_ALLOW_PRIVATE_URLS"] = "true"  # the test server is on loopback
    return invoke(args, env, input=stdin)


def _rows(home: Path, api: str) -> list[str]:
    sql = "select status, source from runs order by started_at"
    result = _adref(["sql", "--format", "csv", sql], home, api)
    assert result.exit_code == 0, result.output
    return result.stdout.split()[1:]


def _table_line(stdout: str, needle: str) -> str:
    """The final table's row of a source (a video's own summary names it too, as "seen at")."""
    table = stdout[stdout.index(" sources: ") :]
    (line,) = [line for line in table.splitlines() if needle in line]
    return line


def test_a_list_of_sources_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    from adref.cli.many import read_sources

    listing = tmp_path / "sources.txt"
    listing.write_text(
        "# this week's ads\n\n  a.mp4  \nhttps://example.com/v?x=1#t=3  # the teaser\n#b.mp4\n"
    )
    assert read_sources(listing) == ["a.mp4", "https://example.com/v?x=1#t=3"]
    # A path may hold " #" (only an address cannot); a BOM (Windows' Notepad) is not a name.
    listing.write_bytes("\ufeffv/spot #2.mp4\nhttps://a.example/v # note\n".encode())
    assert read_sources(listing) == ["v/spot #2.mp4", "https://a.example/v"]


def test_every_source_refused_starts_nothing_and_exits_1(tmp_path: Path) -> None:
    home = tmp_path / "home"
    listing = tmp_path / "sources.txt"
    listing.write_text("ftp://example.com/ad.mp4\n/no/such/file.mp4\n")
    result = invoke(["analyze", "--from", str(listing)], {"ADREF_HOME": str(home)}, alone=True)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "ftp://example.com/ad.mp4" in errors[0], result.stderr
    assert "2 sources: 0 ok, 2 failed or refused" in result.stdout
    assert not (home / "prefect").exists(), "Prefect was started for nothing"


def test_a_source_listed_twice_is_taken_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    listing = tmp_path / "sources.txt"
    listing.write_text("/no/such/file.mp4\nftp://example.com/ad.mp4\n")
    result = invoke(
        ["analyze", "/no/such/../such/file.mp4", "--from", str(listing)],
        {"ADREF_HOME": str(home)},
        alone=True,
    )
    assert result.exit_code == 1, result.output
    assert "listed twice: /no/such/file.mp4 (analysed once)" in result.stderr
    assert "2 sources: 0 ok, 2 failed or refused" in result.stdout


def test_no_source_at_all_is_one_clear_line(tmp_path: Path) -> None:
    result = invoke(["analyze"], {"ADREF_HOME": str(tmp_path / "home")}, alone=True)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: no source given"), result.stderr


@pytest.mark.expected_error_log  # the failed run (a 404): Prefect and the flow log it
def test_a_bad_source_is_reported_and_the_rest_still_run(
    prefect_api: str, tmp_path: Path, clip_ad, clip_single
) -> None:
    home = tmp_path / "home"
    with LocalHTTPServer() as server:
        missing = server.url("/missing.mp4")
        listing = tmp_path / "sources.txt"
        listing.write_text(f"# a failed run, then a good one\n{missing}\n\n{clip_ad.path}\n")
        result = _adref(
            ["analyze", str(clip_single.path), "/no/such/file.mp4", "-f", str(listing)],
            home,
            prefect_api,
        )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2, result.stderr
    assert "/no/such/file.mp4" in errors[0] and "no such file" in errors[0].lower()
    assert "missing.mp4" in errors[1] and "404" in errors[1]
    assert "[1/3]" in result.stderr and "[3/3]" in result.stderr  # the refused one never ran

    out = result.stdout
    assert "4 sources: 2 ok, 2 failed or refused" in out
    assert "completed" in _table_line(out, str(clip_single.path))
    assert "completed" in _table_line(out, str(clip_ad.path))
    assert "refused" in _table_line(out, "/no/such/file.mp4")
    assert "failed" in _table_line(out, "missing.mp4")
    assert out.count("scene groups") == 2  # each video's own summary
    assert out.count("ATTACH 'ducklake:sqlite:") == 1

    rows = _rows(home, prefect_api)
    assert [r.split(",")[0] for r in rows] == ["completed", "failed", "completed"], rows

    again = _adref(["analyze", "-f", "-"], home, prefect_api, stdin=f"{clip_ad.path}\n")
    assert again.exit_code == 0, again.output
    assert "1 source: 1 ok, 0 failed or refused" in again.stdout
    assert "8/8 tasks served from cache" in again.stdout
