"""Shot features for colour search and "more like this": numpy arrays in segment folders.

A million shots x 136 floats is brute-forced faster than any index would pay back: one
matrix-vector product (~20 ms) or a few array passes over the palettes (~15 ms). Each segment
is a folder of ``.npy`` files, written once, never changed, memory-mapped by readers (so
processes share the page cache), sorted by video then shot:

- ``vectors.npy`` (n, D) float32, L2-normalised; ``lab.npy`` (3, K, n) and ``weights.npy``
  (K, n) float32, the palette in CIE Lab, zero weight where a palette has fewer than K colours;
- ``video.npy`` (n,) the row's video as an index into ``videos.json``, ``offsets.npy`` where
  each video's rows start; ``shot_index.npy``, ``start_s.npy``, ``keyframe.npy`` (bytes).

A large segment also keeps ``reduced.npy`` (n, 32): the vectors projected on their 32 main
directions (``basis.npy``, from an SVD of a sample). "More like this" ranks by it first (a
quarter of the bytes to read) and re-ranks the best few thousand by the full vectors, which
finds the same neighbours as the full product to within that candidate margin.

A refresh adds one small segment for the videos it touched and lists those videos as dead in
the older segments (a tombstone set in the manifest); small segments are merged once there
are many (``build.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adref.search import colour

MAX_PALETTE = 8
REDUCED_DIMS = 32
REDUCE_FROM = 65_536  # rows; below this the full product is cheap enough
_SAMPLE = 50_000
_ARRAYS = ("vectors", "lab", "weights", "video", "offsets", "shot_index", "start_s", "keyframe")
_OPTIONAL = ("basis", "reduced")


@dataclass
class Segment:
    """One segment folder, memory-mapped."""

    path: Path

    @cached_property
    def videos(self) -> list[str]:
        return list(json.loads((self.path / "videos.json").read_text()))

    @cached_property
    def codes(self) -> dict[str, int]:
        return {v: i for i, v in enumerate(self.videos)}

    def array(self, name: str) -> np.ndarray:
        return self._arrays[name]

    def has(self, name: str) -> bool:
        return name in self._arrays

    @cached_property
    def _arrays(self) -> dict[str, np.ndarray]:
        found = {n: np.load(self.path / f"{n}.npy", mmap_mode="r") for n in _ARRAYS}
        for name in _OPTIONAL:
            if (self.path / f"{name}.npy").is_file():
                found[name] = np.load(self.path / f"{name}.npy", mmap_mode="r")
        return found

    @property
    def rows(self) -> int:
        return int(self.array("video").shape[0])

    def video_mask(self, ids: Iterable[str]) -> np.ndarray:
        """A per-video boolean array, True for the ids given."""
        mask = np.zeros(len(self.videos), dtype=bool)
        found = [self.codes[i] for i in ids if i in self.codes]
        mask[found] = True
        return mask

    def rows_of(self, video_id: str) -> slice:
        code = self.codes.get(video_id)
        if code is None:
            return slice(0, 0)
        offsets = self.array("offsets")
        return slice(int(offsets[code]), int(offsets[code + 1]))

    def keyframe(self, row: int) -> str | None:
        value = bytes(self.array("keyframe")[row]).decode()
        return value or None


def _vectors(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    n, dim = len(lengths), int(lengths.max()) if len(lengths) else 0
    flat = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.float32)
    if n and (lengths == dim).all():
        out = flat.reshape(n, dim)
    else:
        out = np.zeros((n, dim), dtype=np.float32)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        for i, (start, length) in enumerate(zip(starts, lengths, strict=True)):
            out[i, :length] = flat[start : start + length]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


def _palettes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Palettes as Lab (3, K, n) and weights (K, n); at most ``MAX_PALETTE`` colours a shot."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    flat = pc.list_flatten(column)
    hexes = pc.fill_null(pc.struct_field(flat, "hex"), "#000000").cast(pa.string())
    weights = pc.fill_null(pc.struct_field(flat, "weight"), 0.0).to_numpy(zero_copy_only=False)
    width = 7
    valid = pc.all(pc.equal(pc.binary_length(hexes), width)).as_py() if len(hexes) else True
    if valid and len(hexes):
        _, offsets, data = hexes.buffers()
        start = int(np.frombuffer(offsets, dtype=np.int32)[hexes.offset])
        raw = np.frombuffer(data, dtype=np.uint8)[start : start + len(hexes) * width]
        lab_flat = colour.hex_bytes_to_lab(raw.reshape(-1, width))
    elif not len(hexes):
        lab_flat = np.zeros((0, 3), dtype=np.float32)
    else:
        safe = [h if colour.HEX.fullmatch(h or "") else "#000000" for h in hexes.to_pylist()]
        lab_flat = colour.hex_to_lab([h if h.startswith("#") else "#" + h for h in safe])
    k = max(1, min(MAX_PALETTE, int(lengths.max()) if n else 1))
    lab = np.zeros((3, k, n), dtype=np.float32)
    w = np.zeros((k, n), dtype=np.float32)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    for slot in range(k):
        has = lengths > slot
        idx = starts[has] + slot
        lab[:, slot, has] = lab_flat[idx].T
        w[slot, has] = weights[idx]
    return lab, w


def write_segment(folder: Path, batches: Iterable[pa.RecordBatch]) -> Segment | None:
    """A new segment from shot rows sorted by video then shot; None when there are none."""
    parts: dict[str, list[np.ndarray]] = {
        n: [] for n in ("vectors", "lab", "weights", "shot_index", "start_s", "keyframe")
    }
    video_ids: list[str] = []
    dims: list[int] = []
    for batch in batches:
        if batch.num_rows == 0:
            continue
        video_ids += batch.column("video_id").to_pylist()
        vectors = _vectors(batch.column("vector"))
        dims.append(vectors.shape[1])
        parts["vectors"].append(vectors)
        lab, w = _palettes(batch.column("palette"))
        parts["lab"].append(lab)
        parts["weights"].append(w)
        parts["shot_index"].append(
            batch.column("shot_index").to_numpy(zero_copy_only=False).astype(np.int32)
        )
        parts["start_s"].append(
            pc.fill_null(batch.column("start_s"), 0.0).to_numpy(zero_copy_only=False)
        )
        paths = pc.fill_null(batch.column("keyframe_path"), "").to_pylist()
        parts["keyframe"].append(np.array([p.encode() for p in paths], dtype=bytes))
    if not video_ids:
        return None
    dim, k = max(dims), max(a.shape[1] for a in parts["lab"])
    arrays = {
        "vectors": np.concatenate(
            [np.pad(v, ((0, 0), (0, dim - v.shape[1]))) for v in parts["vectors"]]
        ),
        "lab": np.concatenate(
            [np.pad(a, ((0, 0), (0, k - a.shape[1]), (0, 0))) for a in parts["lab"]], axis=2
        ),
        "weights": np.concatenate(
            [np.pad(a, ((0, k - a.shape[0]), (0, 0))) for a in parts["weights"]], axis=1
        ),
        "shot_index": np.concatenate(parts["shot_index"]),
        "start_s": np.concatenate(parts["start_s"]).astype(np.float64),
        "keyframe": np.concatenate(parts["keyframe"]).astype(bytes),
    }
    videos = list(dict.fromkeys(video_ids))
    codes = {v: i for i, v in enumerate(videos)}
    arrays["video"] = np.fromiter(
        (codes[v] for v in video_ids), dtype=np.int32, count=len(video_ids)
    )
    arrays["offsets"] = np.searchsorted(arrays["video"], np.arange(len(videos) + 1)).astype(
        np.int64
    )
    return _save(folder, videos, arrays)


def _reduced(vectors: np.ndarray) -> dict[str, np.ndarray]:
    """The main directions of a large segment's vectors and the vectors projected on them."""
    n, dim = vectors.shape
    if n < REDUCE_FROM or dim <= REDUCED_DIMS:
        return {}
    rng = np.random.default_rng(0)
    sample = vectors[np.sort(rng.choice(n, size=min(n, _SAMPLE), replace=False))]
    _, _, vt = np.linalg.svd(sample.astype(np.float64), full_matrices=False)
    basis = np.ascontiguousarray(vt[:REDUCED_DIMS].T, dtype=np.float32)
    reduced = np.empty((n, REDUCED_DIMS), dtype=np.float32)
    for start in range(0, n, REDUCE_FROM):
        reduced[start : start + REDUCE_FROM] = vectors[start : start + REDUCE_FROM] @ basis
    return {"basis": basis, "reduced": reduced}


def _save(folder: Path, videos: Sequence[str], arrays: dict[str, np.ndarray]) -> Segment:
    """Write into a temporary folder and rename it into place: a segment appears whole."""
    arrays = {**arrays, **_reduced(arrays["vectors"])}
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.tmp")
    tmp.mkdir(parents=True)
    try:
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array)
        (tmp / "videos.json").write_text(json.dumps(list(videos), ensure_ascii=False))
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Segment(folder)


def merge(folder: Path, parts: Sequence[tuple[Segment, set[str]]]) -> Segment | None:
    """One segment holding the live rows of ``parts`` (each a segment and its dead videos)."""
    keep: list[tuple[Segment, np.ndarray]] = []
    for seg, dead in parts:
        alive = ~seg.video_mask(dead)[seg.array("video")]
        keep.append((seg, np.flatnonzero(alive)))
    videos: list[str] = []
    for seg, rows in keep:
        for code in np.unique(seg.array("video")[rows]):
            videos.append(seg.videos[int(code)])
    if not videos:
        return None
    if len(set(videos)) != len(videos):
        raise ValueError("a video is live in two segments")
    dim = max(seg.array("vectors").shape[1] for seg, _ in keep)
    k = max(seg.array("weights").shape[0] for seg, _ in keep)
    codes = {v: i for i, v in enumerate(videos)}

    def gather() -> Iterator[dict[str, np.ndarray]]:
        for seg, rows in keep:
            names = np.array(seg.videos, dtype=object)
            vec = seg.array("vectors")[rows]
            yield {
                "vectors": np.pad(vec, ((0, 0), (0, dim - vec.shape[1]))),
                "lab": np.pad(
                    seg.array("lab")[:, :, rows],
                    ((0, 0), (0, k - seg.array("lab").shape[1]), (0, 0)),
                ),
                "weights": np.pad(
                    seg.array("weights")[:, rows], ((0, k - seg.array("weights").shape[0]), (0, 0))
                ),
                "video": np.array(
                    [codes[v] for v in names[seg.array("video")[rows]]], dtype=np.int32
                ),
                "shot_index": np.asarray(seg.array("shot_index")[rows]),
                "start_s": np.asarray(seg.array("start_s")[rows]),
                "keyframe": np.asarray(seg.array("keyframe")[rows]),
            }

    pieces = list(gather())
    axis = {"lab": 2, "weights": 1}
    arrays = {n: np.concatenate([p[n] for p in pieces], axis=axis.get(n, 0)) for n in pieces[0]}
    order = np.argsort(arrays["video"], kind="stable")
    arrays = {n: a[..., order] if n in axis else a[order] for n, a in arrays.items()}
    arrays["offsets"] = np.searchsorted(arrays["video"], np.arange(len(videos) + 1)).astype(
        np.int64
    )
    return _save(folder, videos, arrays)
