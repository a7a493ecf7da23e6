"""``adref clean`` prunes the caches (Prefect's task results, downloads) by age and size, and
never touches the warehouse, the input folders, Prefect's database, recent entries or what a link
points at. Real files in a real adref home; the last test prunes a real run's results."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import adref.cli  # noqa: F401  (registers every command)
from adref import caches
from adref.cli.app import app
from adref.runcard import Card, read_card, save_card
from adref.settings import Settings, get_settings, reset_settings
from adref.video.testclips import ClipTruth
from adref.workspace import open_workspace

DAY = 86400.0
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("ADREF_HOME", str(home))
    for name in ("ADREF_WAREHOUSE_DIR", "ADREF_INPUT_DIRS", "ADREF_CACHE_KEEP_DAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADREF_CACHE_MAX_GB", "20")
    reset_settings()
    yield home
    reset_settings()


def _age(path: Path, days: float) -> Path:
    """Last written and last read ``days`` ago, the path itself (a link, not its target)."""
    when = time.time() - days * DAY
    for inner in [*path.rglob("*"), path] if path.is_dir() and not path.is_symlink() else [path]:
        os.utime(inner, (when, when), follow_symlinks=False)
    return path


def _result(settings: Settings, name: str, size: int, days: float) -> Path:
    path = caches.cache_folders(settings)["results"] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"r" * size)
    return _age(path, days)


def _download(settings: Settings, name: str, size: int, days: float) -> Path:
    folder = caches.cache_folders(settings)["downloads"] / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "video.mp4").write_bytes(b"v" * size)
    return _age(folder, days)


def test_old_entries_go_then_the_least_recently_used_until_under_the_cap(home: Path) -> None:
    s = get_settings()
    old_result = _result(s, "adref-detect-old", 100, 40)
    old_download = _download(s, "youtube_old", 5000, 31)
    lru = _download(s, "youtube_lru", 3000, 20)
    used = _result(s, "adref-group-used", 2000, 10)
    newest = _download(s, "youtube_new", 4000, 1)
    running = _download(s, "youtube_running", 9000, 0)  # written just now: maybe a live run's

    entries = caches.scan(caches.cache_folders(s))
    assert {e.path for e in entries} == {old_result, old_download, lru, used, newest, running}
    assert {e.path: e.size for e in entries}[old_download] == 5000
    policy = caches.Policy(keep_s=30 * DAY, max_bytes=15000, now=time.time())
    chosen = caches.plan(entries, policy)

    assert [(e.path, why) for e, why in chosen.remove] == [
        (old_result, "age"),
        (old_download, "age"),
        (lru, "size"),  # 3000 + 2000 + 4000 + 9000 left: the oldest goes first
    ]
    assert {e.path for e in chosen.keep} == {used, newest, running}
    assert sum(e.size for e in chosen.keep) == 15000

    everything = caches.plan(entries, caches.Policy(keep_s=0, max_bytes=0, now=time.time()))
    assert [e.path for e in everything.keep] == [running], "a recent entry is never removed"


def test_the_command_lists_with_dry_run_then_prunes_and_says_what_it_freed(home: Path) -> None:
    s = get_settings()
    old = _result(s, "adref-detect-old", 1500, 40)
    kept = _result(s, "adref-detect-kept", 700, 2)
    download = _download(s, "youtube_abc", 2_500_000, 45)

    dry = runner.invoke(app, ["clean", "--dry-run"], env={"COLUMNS": "250"})
    assert dry.exit_code == 0, dry.output
    assert f"would remove {old} (1.5 kB, unused too long)" in dry.output
    assert f"would remove {download} (2.5 MB, unused too long)" in dry.output
    assert "would remove 0 workspace(s) and 2 cache entries, would free 2.5 MB" in dry.output
    assert old.exists() and download.exists(), "a dry run changes nothing"

    capped = runner.invoke(app, ["clean", "--cache-keep-days", "100", "--cache-max-gb", "0.000003"])
    assert capped.exit_code == 0, capped.output
    assert "removed 0 workspace(s) and 1 cache entry, freed 2.5 MB" in capped.output
    assert not download.exists() and old.exists() and kept.exists(), "2200 B fit in 3000"

    young = s.work_dir / "a-failed-run-yesterday"
    young.mkdir(parents=True)
    (young / "video.mp4").write_bytes(b"\0" * 900)
    done = runner.invoke(app, ["clean"], env={"COLUMNS": "250"})
    assert done.exit_code == 0, done.output
    assert "removed 0 workspace(s) and 1 cache entry, freed 1.5 kB" in done.output
    assert "the caches keep 700 B" in done.output, "workspaces are not the caches"
    (row,) = [line for line in done.output.splitlines() if line.split()[:1] == ["workspaces"]]
    assert [c.strip() for c in row.split("│")][-2:] == ["1", "900 B"], row  # what stays
    assert not old.exists() and kept.exists() and young.is_dir()


def test_a_negative_or_bad_option_is_a_usage_error(home: Path) -> None:
    for option in ("--cache-max-gb", "--older-than-days"):
        result = runner.invoke(app, ["clean", option, "-1"], env={"COLUMNS": "200"})
        assert result.exit_code == 2 and "greater than or equal to 0" in result.output, option


def test_links_are_removed_never_followed(home: Path, tmp_path: Path) -> None:
    s = get_settings()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.mp4").write_bytes(b"p" * 10)
    downloads = caches.cache_folders(s)["downloads"]
    downloads.mkdir(parents=True)
    link = downloads / "youtube_link"
    link.symlink_to(outside, target_is_directory=True)
    _age(link, 40)
    holder = _download(s, "youtube_holder", 10, 40)
    (holder / "elsewhere").symlink_to(outside / "precious.mp4")
    _age(holder, 40)

    result = runner.invoke(app, ["clean"])
    assert result.exit_code == 0, result.output
    assert "2 cache entries" in result.output
    assert not os.path.lexists(link) and not holder.exists()
    assert (outside / "precious.mp4").read_bytes() == b"p" * 10


def test_a_cache_folder_that_is_a_link_is_not_walked(home: Path, tmp_path: Path) -> None:
    s = get_settings()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x").write_bytes(b"x")
    _age(elsewhere / "x", 40)
    storage = caches.cache_folders(s)["results"]
    storage.parent.mkdir(parents=True)
    storage.symlink_to(elsewhere, target_is_directory=True)
    assert caches.scan({"results": storage}) == []


def test_the_warehouse_inputs_and_prefects_database_are_never_touched(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloads = home / "cache" / "downloads"
    warehouse = downloads / "shared" / "warehouse"
    inbox = home / "prefect" / "storage" / "inbox"
    monkeypatch.setenv("ADREF_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("ADREF_INPUT_DIRS", str(inbox))
    reset_settings()
    s = get_settings()
    for folder in (warehouse, inbox):
        folder.mkdir(parents=True)
        (folder / "keep.bin").write_bytes(b"k" * 100)
        _age(folder.parent, 40)
    # Prefect's home pointed at the result storage itself (PREFECT_HOME set by hand).
    storage = caches.cache_folders(s)["results"]
    database = storage / "prefect.db"
    database.write_bytes(b"sqlite")
    _age(database, 40)
    monkeypatch.setenv("PREFECT_HOME", str(storage))
    victim = _result(s, "adref-detect-old", 10, 40)

    result = runner.invoke(app, ["clean", "--cache-keep-days", "0", "--cache-max-gb", "0"])
    assert result.exit_code == 0, result.output
    assert "1 cache entry" in result.output, result.output
    assert not victim.exists()
    assert (warehouse / "keep.bin").is_file() and (inbox / "keep.bin").is_file()
    assert database.is_file()


def test_a_hard_linked_download_frees_nothing_and_costs_nothing(home: Path) -> None:
    s = get_settings()
    folder = _download(s, "youtube_kept", 5000, 10)
    twin = home / "warehouse" / "media" / "videos" / "kept.mp4"
    twin.parent.mkdir(parents=True)
    os.link(folder / "video.mp4", twin)
    _download(s, "youtube_running", 100, 0)
    entry, running = caches.scan(caches.cache_folders(s))
    assert (entry.path, entry.size) == (folder, 0)
    chosen = caches.plan([entry, running], caches.Policy(30 * DAY, 0, time.time()))
    assert chosen.remove == [], "over the cap, yet removing it would free nothing"


def test_an_entry_used_after_planning_is_kept(home: Path) -> None:
    s = get_settings()
    entry_path = _download(s, "youtube_busy", 10, 40)
    (entry,) = caches.scan(caches.cache_folders(s))
    (entry_path / "video.mp4").write_bytes(b"again")  # a run refreshed it meanwhile
    assert caches.remove([entry], time.time()) == []
    assert entry_path.is_dir()


def test_sizes_read_as_people_read_them() -> None:
    assert [caches.size_text(n) for n in (0, 999, 1500, 2_500_000, 3.2e9, 4e13)] == [
        "0 B",
        "999 B",
        "1.5 kB",
        "2.5 MB",
        "3.2 GB",
        "40000.0 GB",
    ]


def test_pruned_results_and_downloads_are_recomputed_by_the_next_run(
    prefect_api: str, adref_home: Path, clip_single: ClipTruth
) -> None:
    """A real run's cached results and download, pruned: the next run of the same video works
    and recomputes every stage."""
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    from adref.flows.analyze_video import analyze_video
    from tests.support.http import LocalHTTPServer

    storage = caches.cache_folders(get_settings())["results"]
    with (
        temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: storage}),
        LocalHTTPServer() as server,
    ):
        url = server.serve_file(clip_single.path, "/ad.mp4")
        first = analyze_video(source=url)
        assert first.status == "completed" and first.cache_hits == 0
        assert analyze_video(source=url).cache_hits == first.tasks, "served from cache"
        entries = caches.scan(caches.cache_folders(get_settings()))
        assert {e.cache for e in entries} == {"results", "downloads"}
        for entry in entries:
            _age(entry.path, 40)
        pruned = runner.invoke(app, ["clean"])
        assert pruned.exit_code == 0, pruned.output
        assert f"{len(entries)} cache entries" in pruned.output
        assert caches.scan(caches.cache_folders(get_settings())) == []

        again = analyze_video(source=url)
    assert again.status == "completed" and again.cache_hits == 0, again
    assert again.video_id == first.video_id and again.shots == first.shots


def test_a_cache_inside_a_protected_folder_is_left_whole(tmp_path: Path) -> None:
    storage = tmp_path / "warehouse" / "storage"
    storage.mkdir(parents=True)
    (storage / "adref-detect-x").write_bytes(b"x")
    assert caches.scan({"results": storage}, [tmp_path / "warehouse"]) == []
    assert len(caches.scan({"results": storage}, [tmp_path / "elsewhere"])) == 1


def test_a_dry_run_lists_a_dead_runs_workspace_without_marking_or_removing_it(home: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = open_workspace(get_settings().work_dir, "dead")
    save_card(Card(dead, "flow-run-dead", gone.pid, "gone", socket.gethostname()))
    live = open_workspace(get_settings().work_dir, "live", "flow-run-live")  # this process
    _age(live, 40)

    result = runner.invoke(app, ["clean", "--dry-run"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert f"would remove {dead} " in result.output and str(live) not in result.output
    assert "would remove 1 workspace(s)" in result.output
    card = read_card(dead)
    assert card is not None and not card.settled, "a dry run marks nothing"


def test_doctor_says_how_big_the_caches_are_and_what_clean_would_prune(home: Path) -> None:
    from adref.doctor.storage import cache_check

    s = get_settings()
    _result(s, "adref-detect-new", 2000, 1)
    fresh = cache_check(s, time.time())
    assert (fresh.status, fresh.detail) == ("ok", "1 entry, 2.0 kB (task results and downloads)")
    _download(s, "youtube_old", 3000, 40)
    due = cache_check(s, time.time())
    assert due.status == "warning" and due.fix == "adref clean"
    assert due.detail.endswith(
        "2 entries, 5.0 kB (task results and downloads); 1 due for pruning (3.0 kB)"
    )
