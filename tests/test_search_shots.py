"""Colour search and "more like this" over the shot segments of a real warehouse."""

from __future__ import annotations

import numpy as np
import pytest

from adref.errors import InputError
from adref.search import colour
from adref.search.index import SearchQuery, search
from adref.settings import Settings
from tests.search_support import indexed, video


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    _, settings = indexed(
        tmp_path_factory.mktemp("wh"),
        video("a", title="warm and cool", looks=("warm", "cool", "grey"), seed=1),
        video("b", title="green then red", looks=("green", "red"), seed=2),
        video("c", title="night", looks=("night", "warm", "purple"), genre="vlog", seed=3),
    )
    return settings


def test_lab_of_known_colours() -> None:
    white, black, red = colour.hex_to_lab(["#ffffff", "#000000", "#ff0000"])
    assert np.allclose(white, [100, 0, 0], atol=0.1) and np.allclose(black, [0, 0, 0], atol=0.1)
    assert np.allclose(red, [53.24, 80.09, 67.20], atol=0.1)
    codes = np.frombuffer(b"#FF0000#ff0000", dtype=np.uint8).reshape(2, 7)
    assert np.allclose(colour.hex_bytes_to_lab(codes), [red, red], atol=1e-4)


def test_colour_finds_the_shot_with_that_colour_first(lib: Settings) -> None:
    page = search(lib, SearchQuery(colour="#d32f2f"))  # the red look's main colour
    first = page.hits[0]
    assert (first.video_id, first.shot_index) == ("b", 1)
    assert first.score == pytest.approx(0.6, abs=0.01) and first.title == "green then red"
    assert first.keyframe_path == "media/keyframes/b/0001.jpg" and first.start_s == 2.0
    assert all(h.score >= colour.MIN_SCORE for h in page.hits)
    assert page.total == len(page.hits) < 8, "far colours are not matches"
    green = search(lib, SearchQuery(colour="3F9B46")).hits[0]
    assert (green.video_id, green.shot_index) == ("b", 0)


def test_colour_within_text_and_filters(lib: Settings) -> None:
    warm = search(lib, SearchQuery(colour="#e8883a"))
    assert {(h.video_id, h.shot_index) for h in warm.hits[:2]} == {("a", 0), ("c", 1)}
    only_c = search(lib, SearchQuery(colour="#e8883a", genres=("vlog",)))
    assert (only_c.hits[0].video_id, only_c.hits[0].shot_index) == ("c", 1)
    assert {h.video_id for h in only_c.hits} == {"c"}
    texted = search(lib, SearchQuery(colour="#e8883a", text="cool"))
    assert {h.video_id for h in texted.hits} == {"a"}
    assert search(lib, SearchQuery(colour="#e8883a", text="nothing like it")).hits == ()


def test_bad_colour_is_one_clear_error(lib: Settings) -> None:
    with pytest.raises(InputError) as info:
        search(lib, SearchQuery(colour="red'; --"))
    assert "#rrggbb" in info.value.one_line()


def test_more_like_this_returns_the_nearest_other_shot(lib: Settings) -> None:
    page = search(lib, SearchQuery(like=("a", 0)))  # a warm shot
    keys = [(h.video_id, h.shot_index) for h in page.hits]
    assert ("a", 0) not in keys, "the shot itself is left out"
    assert keys[0] == ("c", 1), "the other warm shot, in another video"
    own = [i for i, k in enumerate(keys) if k[0] == "a"]
    assert own == [5, 6], "the video's own shots come after every other video's"
    assert page.total == 7
    assert page.hits[0].score > 0.99
    assert search(lib, SearchQuery(like=("nope", 0))).hits == ()
    paged = search(lib, SearchQuery(like=("a", 0), page=1, page_size=3))
    assert [(h.video_id, h.shot_index) for h in paged.hits] == keys[3:6]


def test_large_segments_rank_by_reduced_vectors_then_exactly(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adref.search import segments, store

    monkeypatch.setattr(segments, "REDUCE_FROM", 8)
    monkeypatch.setattr(segments, "REDUCED_DIMS", 4)
    looks = ("warm", "cool", "green", "red", "purple", "grey", "night", "white_card")
    wh, settings = indexed(
        tmp_path_factory.mktemp("big"),
        *(video(f"v{i}", looks=looks[i:] + looks[:i], seed=i) for i in range(4)),
    )
    index = store.opened(wh.root)
    assert index is not None and index.segments[0][0].has("reduced")
    seg = index.segments[0][0]
    vectors = np.asarray(seg.array("vectors"))
    me = seg.rows_of("v1").start + 2
    exact = vectors @ vectors[me]
    own = np.zeros(len(exact), dtype=bool)
    own[seg.rows_of("v1")] = True
    exact = exact - 2.0 * own
    exact[me] = -np.inf
    expected = [int(r) for r in np.argsort(-exact, kind="stable")[:5]]
    page = search(settings, SearchQuery(like=("v1", 2), page_size=5))
    got = [seg.rows_of(h.video_id).start + h.shot_index for h in page.hits]
    assert got == expected


def test_palettes_and_vectors_of_a_sliced_batch_stay_aligned() -> None:
    import pyarrow as pa

    from adref.search.segments import _palettes, _vectors

    struct = pa.struct([("hex", pa.string()), ("weight", pa.float64())])
    palettes = pa.array(
        [
            [{"hex": "#000000", "weight": 1.0}],
            [{"hex": "#ff0000", "weight": 0.5}, {"hex": "#00ff00", "weight": 0.5}],
            [{"hex": "#0000ff", "weight": 1.0}],
            None,
        ],
        type=pa.list_(struct),
    ).slice(1)
    lab, weights = _palettes(palettes)
    red, green, blue = colour.hex_to_lab(["#ff0000", "#00ff00", "#0000ff"])
    assert np.allclose(lab[:, :, 0].T, [red, green], atol=1e-3)
    assert np.allclose(lab[:, 0, 1], blue, atol=1e-3)
    assert weights.tolist() == [[0.5, 1.0, 0.0], [0.5, 0.0, 0.0]]
    vectors = _vectors(pa.array([[1.0, 0.0], [3.0, 4.0], [0.0]], pa.list_(pa.float32())).slice(1))
    assert np.allclose(vectors, [[0.6, 0.8], [0.0, 0.0]])
