"""LocalBackend writes (docs/rulake.md, "The LocalBackend hashes rows when
they are put"): a batch that repeats an id is refused as a whole, deletes
ignore absent and repeated ids, and after a stream of batch upserts and
deletes into a growing collection the content digest the backend keeps is
the one hashlib computes over the same rows (rulake.md §6.2)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict, List

import numpy as np
import numpy.typing as npt
import pytest

import ruvector
from ruvector import LocalBackend, RuLake, RuLakeBundle

from lake_support import needs_rulake

F32 = npt.NDArray[np.float32]
U64 = npt.NDArray[np.uint64]
LEAF_ROWS = 16384

pytestmark = needs_rulake


def spec_digest(rows: Dict[int, F32], dim: int) -> str:
    """§6.2 over rows (id -> f32 vector), with hashlib's SHAKE-256."""
    ids = np.array(sorted(rows), dtype=np.uint64)
    packed = np.zeros(len(ids), dtype=[("id", "<u8"), ("v", "<f4", (dim,))])
    packed["id"] = ids
    if len(ids):
        packed["v"] = np.stack([rows[int(i)] for i in ids])
    n = len(ids)
    leaves = b""
    for j in range(0, n, LEAF_ROWS):
        chunk = packed[j:j + LEAF_ROWS]
        head = b"rulake-content-leaf-v1|" + (j // LEAF_ROWS).to_bytes(8, "little") + \
            len(chunk).to_bytes(8, "little")
        leaves += hashlib.shake_256(head + chunk.tobytes()).digest(32)
    root = b"rulake-content-v1|" + n.to_bytes(8, "little") + dim.to_bytes(8, "little") + \
        LEAF_ROWS.to_bytes(8, "little") + leaves
    return hashlib.shake_256(root).hexdigest(32)


def published_digest(lake: RuLake, out: Path) -> str:
    lake.publish_bundle("docs", out_dir=out)
    digest = RuLakeBundle.read(out).content_digest
    assert digest is not None
    return digest


def test_a_repeated_id_in_one_batch_is_refused() -> None:
    be = LocalBackend("hot")
    ids = np.array([1, 2, 3], dtype=np.uint64)
    be.upsert("docs", ids, np.eye(3, 4, dtype=np.float32))
    twice = np.array([5, 2, 5], dtype=np.uint64)
    with pytest.raises(ruvector.InvalidArgument, match="duplicate id 5"):
        be.upsert("docs", twice, np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(ruvector.InvalidArgument, match="duplicate id 5"):
        be.put_collection("docs", twice, np.zeros((3, 4), dtype=np.float32))
    # Nothing of the refused batches went in: id 2 keeps its row.
    with RuLake.builder().build() as lake:
        lake.register_backend(be)
        hits = lake.search_one("docs", np.eye(3, 4, dtype=np.float32)[1], k=1)
        assert [(h.id, h.score) for h in hits] == [(2, 0.0)]


def test_deletes_ignore_absent_and_repeated_ids() -> None:
    be = LocalBackend("hot")
    be.upsert("docs", np.array([0, 4, 8], dtype=np.uint64), np.ones((3, 2), dtype=np.float32))
    assert be.delete("docs", np.array([1, 2, 99], dtype=np.uint64)) == 0
    assert be.delete("docs", np.array([4, 4, 0, 7, 4], dtype=np.uint64)) == 2
    assert be.delete("docs", np.array([], dtype=np.uint64)) == 0
    with pytest.raises(ruvector.UnknownCollection):
        be.delete("nope", np.array([8], dtype=np.uint64))


def test_a_stream_of_batches_keeps_the_spec_digest(tmp_path: Path) -> None:
    dim = 8
    rng = np.random.default_rng(8)
    be = LocalBackend("hot")
    model: Dict[int, F32] = {}
    checks: List[str] = []
    with RuLake.builder().build() as lake:
        lake.register_backend(be)
        next_id = 0
        for step in range(14):
            # Appends past the end, then a shuffled batch that replaces some
            # rows and inserts others between them, then rows rewritten in
            # place (a third of them changed), then a delete with absent and
            # repeated ids: the collection grows past two leaves.
            new = np.arange(next_id, next_id + 2500, dtype=np.uint64) * np.uint64(2)
            next_id += 2500
            vecs = rng.standard_normal((len(new), dim), dtype=np.float32)
            be.upsert("docs", new, vecs)
            model.update({int(i): v for i, v in zip(new, vecs)})
            mixed = np.unique(rng.integers(0, 2 * next_id, 300, dtype=np.uint64))
            rng.shuffle(mixed)
            vecs = rng.standard_normal((len(mixed), dim), dtype=np.float32)
            be.upsert("docs", mixed, vecs)
            model.update({int(i): v for i, v in zip(mixed, vecs)})
            # Rows replaced where they are (no row moves): only their
            # leaves change, and only where the bytes differ.
            present = np.array(sorted(model), dtype=np.uint64)
            same = rng.choice(present, 150, replace=False)
            vecs = np.stack([model[int(i)] for i in same])
            vecs[::3, 0] += np.float32(1)
            be.upsert("docs", same, vecs)
            model.update({int(i): v for i, v in zip(same, vecs)})
            if step % 5 == 2:
                got = published_digest(lake, tmp_path / f"r{step}")
                assert got == spec_digest(model, dim), f"after the rewrite of step {step}"
            gone = rng.integers(0, 2 * next_id, 200, dtype=np.uint64)
            gone = np.concatenate([gone, gone[:20]])
            want = len({int(i) for i in gone} & model.keys())
            assert be.delete("docs", gone) == want
            for i in gone:
                model.pop(int(i), None)
            if step % 5 == 4 or step == 13:
                got = published_digest(lake, tmp_path / f"b{step}")
                assert got == spec_digest(model, dim), f"after step {step}"
                checks.append(got)
    assert len(model) > 2 * LEAF_ROWS and len(set(checks)) == len(checks)
