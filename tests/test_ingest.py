"""Watch lists, their expansion and the plan of new runs: plain functions, no Prefect.

Folders hold real clips; playlists are an RSS feed on a local HTTP server, which yt-dlp's
generic extractor lists offline.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from adref.deployments.definitions import DEPLOYMENTS, full_name
from adref.errors import InputError
from adref.ingest.expand import expand_sources
from adref.ingest.plan import not_a_video, plan_runs, queued_run, source_key
from adref.ingest.watchlist import combine, parse_watchlist, read_file
from adref.settings import Settings
from adref.sources.hashing import content_video_id, sha256_file
from adref.tasks.ingest import ANALYZE_DEPLOYMENT
from adref.video.testclips import ClipTruth
from tests.support.http import LocalHTTPServer, Route

YT = "https://www.youtube.com/watch?v=BaW_jenozKc"


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(home=tmp_path / "home", ingest_settle_s=0.01, **kw)  # type: ignore[arg-type]


def test_bad_entries_are_reported_by_number_and_the_rest_is_kept() -> None:
    text = f"""
defaults: {{owner: mina, tags: [watched], provider: local, max_per_source: 3}}
sources:
  - {YT}
  - {{url: "https://vimeo.com/76979871", owner: kim, tags: [beauty], max: 5}}
  - {{folder: /srv/drop, colour: red}}
  - {{url: "https://a.example/v", folder: /srv/x}}
  - 42
  - /srv/ads
  - {{folder: ""}}
  - {{url: "  "}}
"""
    watch = parse_watchlist(text, "list.yaml")
    assert [(s.index, s.kind, s.target) for s in watch.sources] == [
        (1, "url", YT),
        (2, "url", "https://vimeo.com/76979871"),
        (6, "path", "/srv/ads"),
    ]
    first, second, _ = watch.sources
    assert (first.owner, first.tags, first.provider, first.max_per_source) == (
        "mina",
        ("watched",),
        "local",
        3,
    )
    assert (second.owner, second.tags, second.max_per_source) == ("kim", ("beauty",), 5)
    assert [b.index for b in watch.bad] == [3, 4, 5, 7, 8]
    lines = [b.line() for b in watch.bad]
    assert "an empty entry" in lines[3] and "an empty entry" in lines[4], "not the current folder"
    assert "colour" in lines[0] and "entry 3 of list.yaml" in lines[0]
    assert "exactly one of url: or folder:" in lines[1]
    assert all("\n" not in line for line in lines)


def test_an_unknown_key_is_named_with_the_keys_a_list_knows() -> None:
    watch = parse_watchlist("- {path: /srv/ads}\n- {url: 'https://a.example/v', ownr: kim}\n", "w")
    path, typo = (b.reason for b in watch.bad)
    assert path == "path: unknown key (known: url:, folder:, owner:, tags:, provider:, max:)"
    assert typo.startswith("ownr: unknown key, did you mean owner:? (known: url:, folder:")
    with pytest.raises(InputError) as err:
        parse_watchlist("defaults: {tag: [x]}\nsources: []\n", "w")
    assert (
        "defaults.tag: unknown key, did you mean tags:? (known: owner:, tags:, provider:, "
        "max_per_source:)" in str(err.value)
    )


def test_bad_entries_read_in_list_order_and_a_copy_names_the_file_it_repeats(
    tmp_path: Path, drop: Path
) -> None:
    shutil.copy(drop / "ad.mp4", drop / "ad copy.mp4")
    os.utime(drop / "ad.mp4", (1_000_000, 1_000_000))  # the copy is newer: taken first
    text = f"- {{folder: {tmp_path / 'nowhere'}}}\n- {{url: x, folder: y}}\n- {drop}\n- 42\n"
    out = expand_sources(parse_watchlist(text, "l"), _settings(tmp_path))
    assert [b.index for b in out.bad] == [1, 2, 4]  # the missing folder found last, told first
    plan = plan_runs(
        out, known_ids=set(), known_sources=set(), queued=[], max_new=20, max_per_source=10
    )
    assert sorted(Path(f.target).name for f in plan.new) == ["ad copy.mp4", "single.MOV"]
    assert [s.reason for s in plan.skipped] == [
        f"the same video as {drop / 'ad copy.mp4'} (entry 3 of l)"
    ]


def test_a_list_that_is_not_a_watch_list_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid YAML"):
        parse_watchlist("sources: [a, b\n  - c: :", "x.yaml")
    with pytest.raises(InputError, match="sources"):
        parse_watchlist("just words", "x.yaml")
    with pytest.raises(InputError, match="no watch list at") as err:
        read_file(tmp_path / "missing.yaml")
    assert "ADREF_WATCHLIST" in err.value.one_line()
    # Beside a readable list, an unreadable one is a bad entry and the other still counts.
    both = combine([err.value, parse_watchlist(f"- {YT}", "variable")])
    assert len(both.sources) == 1 and "no watch list at" in both.bad[0].line()


def test_a_single_site_video_is_known_from_its_address(tmp_path: Path) -> None:
    watch = parse_watchlist(f"- {YT}\n- https://youtu.be/BaW_jenozKc", "l")
    found = expand_sources(watch, _settings(tmp_path)).found  # no network: nothing listens
    assert [f.video_id for f in found] == ["youtube:BaW_jenozKc"] * 2
    plan = plan_runs(
        expand_sources(watch, _settings(tmp_path)),
        known_ids=set(),
        known_sources=set(),
        queued=[],
        max_new=20,
        max_per_source=10,
    )
    assert len(plan.new) == 1
    assert plan.skipped[0].reason == f"the same video as {YT} (entry 1 of l)"


@pytest.fixture
def drop(tmp_path: Path, clip_ad: ClipTruth, clip_single: ClipTruth) -> Path:
    folder = tmp_path / "drop"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(clip_ad.path, folder / "ad.mp4")
    shutil.copy(clip_single.path, folder / "sub" / "single.MOV")
    (folder / "notes.txt").write_text("not a video")
    (folder / ".hidden.mp4").write_bytes(b"x")
    return folder


def test_a_folder_yields_its_settled_video_files_newest_first(tmp_path: Path, drop: Path) -> None:
    import os

    os.utime(drop / "ad.mp4", (1_000_000, 1_000_000))
    growing = drop / "copying.mp4"
    growing.write_bytes(b"\0" * 1000)

    def meanwhile(seconds: float) -> None:  # the copy goes on between the two looks
        with growing.open("ab") as f:
            f.write(b"\0" * 1000)

    watch = parse_watchlist(f"- {drop}\n- {{folder: {tmp_path / 'nowhere'}}}", "l")
    out = expand_sources(watch, _settings(tmp_path), sleep=meanwhile)
    assert [Path(f.target).name for f in out.found] == ["single.MOV", "ad.mp4"]
    assert out.found[1].video_id == content_video_id(sha256_file(drop / "ad.mp4"))
    assert [(Path(s.target).name, s.reason) for s in out.skipped] == [
        ("copying.mp4", "still being written (its size changed)")
    ]
    ((bad,),) = [out.bad]
    assert bad.index == 2 and "does not exist" in bad.reason

    # A name in another encoding than UTF-8 (Latin-1 here): skipped, said, and the rest kept.
    growing.unlink()
    latin = Path(os.fsdecode(bytes(drop) + b"/caf\xe9.mp4"))
    shutil.copy(drop / "ad.mp4", latin)
    host = "a" * 64
    watch = parse_watchlist(f"- {drop}\n- https://{host}.example/v\n- https://a..b/v", "l")
    out = expand_sources(watch, _settings(tmp_path))
    assert [Path(f.target).name for f in out.found] == ["single.MOV", "ad.mp4"]
    ((name, why),) = [(Path(s.target).name, s.reason) for s in out.skipped]
    assert name == "caf\ufffd.mp4" and "not valid UTF-8" in why
    assert [b.index for b in out.bad] == [2, 3]
    assert all("host name has an empty part" in b.reason for b in out.bad)
    latin.unlink()

    # A deployment run reads only the input folders: a folder elsewhere is a bad entry there.
    outside = expand_sources(watch, _settings(tmp_path), inside=[tmp_path / "inbox"])
    assert not outside.found and "input folders" in outside.bad[0].reason


def _feed(base: str) -> bytes:
    items = "".join(
        f"<item><title>ad {i}</title><link>{base}/ad{i}.mp4</link></item>" for i in (3, 2, 1)
    )
    yt = f"<item><title>yt</title><link>{YT}</link></item>"
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Ads</title>{items}{yt}</channel></rss>'.encode()


def test_a_feed_is_listed_newest_first_up_to_its_max(tmp_path: Path) -> None:
    with LocalHTTPServer() as server:
        server.add(
            "/feed.xml",
            Route(body=_feed(server.base_url), content_type="application/rss+xml"),
        )
        feed = server.url("/feed.xml")
        watch = parse_watchlist(f"- {{url: '{feed}', max: 3}}\n- {feed}", "l")
        out = expand_sources(watch, _settings(tmp_path, allow_private_urls=True))
        refused = expand_sources(watch, _settings(tmp_path))
    names = [f.target.rsplit("/", 1)[-1] for f in out.found]
    assert names[:3] == ["ad3.mp4", "ad2.mp4", "ad1.mp4"], "max 3: the newest three"
    assert out.found[-1].video_id == "youtube:BaW_jenozKc", "an entry of a known site has its id"
    assert out.found[0].video_id is None, "a generic page's video: known once downloaded"
    assert not refused.found and len(refused.bad) == 2
    assert "private" in refused.bad[0].reason or "loopback" in refused.bad[0].reason


def test_the_plan_drops_known_queued_and_twice_listed_videos_within_caps(tmp_path: Path) -> None:
    ids = [f"https://www.youtube.com/watch?v=AAAAAAAAAA{i}" for i in range(6)]
    text = "\n".join(f"- {u}" for u in ids) + f"\n- {ids[5]}"
    out = expand_sources(parse_watchlist(text, "l"), _settings(tmp_path))
    queued = [
        queued_run("calm-fox", "https://youtu.be/AAAAAAAAAA2", []),
        queued_run("x", None, ["video:youtube:AAAAAAAAAA3"]),
    ]
    plan = plan_runs(
        out,
        known_ids={"youtube:AAAAAAAAAA0"},
        known_sources={source_key(ids[1])},
        queued=queued,
        max_new=1,
        max_per_source=10,
    )
    assert [f.video_id for f in plan.new] == ["youtube:AAAAAAAAAA4"]
    reasons = [s.reason for s in plan.skipped]
    assert reasons[:2] == ["already in the warehouse"] * 2
    assert "calm-fox" in reasons[2] and "queued" in reasons[3]
    assert all("ADREF_INGEST_MAX_NEW_RUNS" in r for r in reasons[4:]) and len(reasons) == 6
    again = plan_runs(
        out, known_ids=set(), known_sources=set(), queued=[], max_new=20, max_per_source=5
    )
    assert [s.reason for s in again.skipped] == ["listed twice (also entry 6 of l)"]


def test_a_watched_file_that_is_no_video_is_skipped_not_run_every_time(
    tmp_path: Path, drop: Path
) -> None:
    """It stays in its folder: a run for it would fail (and alert) at every ingest."""
    from tests.support import media

    media.make_text_as_video(drop / "notes.mp4")
    settings = _settings(tmp_path)
    out = expand_sources(parse_watchlist(f"- {drop}", "l"), settings)
    plan = plan_runs(
        out,
        known_ids=set(),
        known_sources=set(),
        queued=[],
        max_new=20,
        max_per_source=20,
        refused=not_a_video(settings),
    )
    assert sorted(Path(f.target).name for f in plan.new) == ["ad.mp4", "single.MOV"]
    ((name, why),) = [(Path(s.target).name, s.reason) for s in plan.skipped]
    assert name == "notes.mp4" and why.startswith("not taken: notes.mp4 is not a video file")


def test_the_url_key_ignores_case_fragment_and_default_port() -> None:
    assert source_key("HTTPS://Example.COM:443/a?b=1#t=3") == "https://example.com/a?b=1"
    assert source_key("http://h:8080") == "http://h:8080/"


def test_ingest_starts_runs_of_a_deployment_adref_registers() -> None:
    assert ANALYZE_DEPLOYMENT in [full_name(s) for s in DEPLOYMENTS]
    assert "ingest/ingest" in [full_name(s) for s in DEPLOYMENTS]
