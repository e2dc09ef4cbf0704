"""publish_bundle, RuLakeBundle, and a warm cache without its backend
(rulake.md §9, §10.1; docs/rulake.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple

import numpy as np
import numpy.typing as npt
import pytest

import ruvector
from ruvector import Consistency, LocalBackend, RefreshResult, RuLake, RuLakeBundle

from lake_support import needs_rulake

F32 = npt.NDArray[np.float32]
U64 = npt.NDArray[np.uint64]

# RFC 8032 test 1: the key pair rulake.md §6.4's signature vector uses.
PRIV = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUB = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
OTHER_PUB = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")


pytestmark = needs_rulake


def rows(n: int, dim: int, seed: int) -> Tuple[U64, F32]:
    rng = np.random.default_rng(seed)
    ids = np.arange(n, dtype=np.uint64) * np.uint64(5) + np.uint64(3)
    return ids, rng.standard_normal((n, dim), dtype=np.float32)


def hot(ids: U64, vecs: F32) -> LocalBackend:
    b = LocalBackend("hot")
    b.upsert("docs", ids, vecs)
    return b


def answers(lake: RuLake, queries: F32) -> List[List[Tuple[int, float]]]:
    return [[(h.id, h.score) for h in lake.search_one("docs", q, k=10)] for q in queries]


def test_publish_then_refresh_in_another_lake(tmp_path: Path) -> None:
    ids, vecs = rows(4000, 24, 1)
    out = tmp_path / "bundle"
    with RuLake.builder().signing_key(PRIV).build() as pub:
        pub.register_backend(hot(ids, vecs))
        w2 = pub.publish_bundle("docs", out_dir=out)
        assert w2 == pub.cache_witness_of(("hot", "docs"))
        want = answers(pub, vecs[:8])

    b = RuLakeBundle.read(out, public_keys=[PUB])
    assert (b.backend, b.collection, b.count, b.dim) == ("hot", "docs", 4000, 24)
    assert b.witness_v2 == w2 and b.data_ref == "local://hot/docs" and b.generation == 1
    # The witnessed parameters are those the engine's plan chose, as a direct
    # default build of the same rows reports them.
    p = ruvector.RabitqPlusIndex.build(vecs, ids=ids, seed=42, rerank_factor=20).params
    assert b.index_params == f"index=rabitq_plus;metric=l2;bits={p['bits']};nlist={p['nlist']}"
    assert b.index_file is not None and (out / b.index_file).is_file()
    assert b.signed and b.signature_status == "verified" and b.key_id == "7cb16e94954c73e7"
    assert RuLakeBundle.read(out).signature_status == "unchecked"
    with pytest.raises(ruvector.IntegrityError):
        RuLakeBundle.read(out, public_keys=[OTHER_PUB])
    assert "verified" in repr(b)

    # Another lake over the same data: up to date, the same hits.
    with RuLake.builder().public_key(PUB).build() as reader:
        reader.register_backend(hot(ids, vecs))
        got = answers(reader, vecs[:8])
        assert reader.refresh_from_bundle_dir(("hot", "docs"), out) == RefreshResult.UP_TO_DATE
        assert got == want
    # ... or warm from it: no prime, the same hits.
    with RuLake.builder().public_key(PUB).build() as reader:
        reader.register_backend(hot(ids, vecs))
        assert reader.warm_from_dir(("hot", "docs"), out) == 4000
        assert answers(reader, vecs[:8]) == want
        assert reader.cache_stats().primes == 0
    # A reader holding an older state is told to drop it.
    older = hot(ids[:-1], vecs[:-1])
    with RuLake.builder().build() as reader:
        reader.register_backend(older)
        reader.search_one("docs", vecs[0])
        assert reader.refresh_from_bundle_dir(("hot", "docs"), out) == RefreshResult.INVALIDATED


def test_tampered_bundle_is_refused(tmp_path: Path) -> None:
    ids, vecs = rows(500, 8, 2)
    out = tmp_path / "bundle"
    with RuLake.builder().build() as lake:
        lake.register_backend(hot(ids, vecs))
        lake.publish_bundle("docs", out_dir=out)
        side = out / "table.rulake.json"
        good = side.read_text()
        # Fields v1 covers (dim) and fields the meta digest covers (collection).
        for edit in ({"dim": 9}, {"rulake_ext": {"collection": "other"}}):
            doc = json.loads(good)
            for k, v in edit.items():
                if isinstance(v, dict):
                    doc[k].update(v)
                else:
                    doc[k] = v
            side.write_text(json.dumps(doc))
            with pytest.raises(ruvector.IntegrityError, match="table.rulake.json"):
                RuLakeBundle.read(out)
            with pytest.raises(ruvector.IntegrityError):
                lake.refresh_from_bundle_dir(("hot", "docs"), out)
            with pytest.raises(ruvector.IntegrityError):
                lake.warm_from_dir(("hot", "docs"), out)
        # A flipped byte of the index file: warm refuses it.
        side.write_text(good)
        b = RuLakeBundle.read(out)
        assert b.index_file is not None
        data = bytearray((out / b.index_file).read_bytes())
        data[len(data) // 2] ^= 1
        (out / b.index_file).write_bytes(bytes(data))
        with pytest.raises(ruvector.IntegrityError, match="shake256"):
            lake.warm_from_dir(("hot", "docs"), out)
    with pytest.raises(ruvector.NotFoundError):
        RuLakeBundle.read(tmp_path / "nothing")
    with pytest.raises(TypeError):
        RuLakeBundle()


def test_publish_from_a_stale_lake_checks_the_backend(tmp_path: Path) -> None:
    ids, vecs = rows(300, 8, 3)
    b = hot(ids, vecs)
    with RuLake.builder().consistency(Consistency.STALE).build() as lake:
        lake.register_backend(b)
        lake.search_one("docs", vecs[0])
        old = lake.cache_witness_of(("hot", "docs"))
        b.upsert("docs", ids[:1], vecs[1:2])
        assert lake.cache_witness_of(("hot", "docs")) == old  # STALE: not re-checked
        w2 = lake.publish_bundle("docs", out_dir=tmp_path / "b")
        assert w2 != old and lake.cache_witness_of(("hot", "docs")) == w2
        assert RuLakeBundle.read(tmp_path / "b").generation == 2


def test_warm_without_the_backend(tmp_path: Path) -> None:
    ids, vecs = rows(3000, 16, 4)
    b = hot(ids, vecs)
    with RuLake.builder().build() as saver:
        saver.register_backend(b)
        want = answers(saver, vecs[:6])
        saver.save_cache_to_dir(("hot", "docs"), tmp_path / "cache")

    # STALE: the warm entry is searched with no backend registered.
    with RuLake.builder().consistency(Consistency.STALE).build() as lake:
        assert lake.warm_from_dir(("hot", "docs"), tmp_path / "cache") == 3000
        # The name only warmed is listed, marked absent (no backend registered).
        assert lake.backends == ["hot"] and lake.backends[0].absent
        assert ("hot", "docs") in lake
        assert answers(lake, vecs[:6]) == want
        s = lake.cache_stats()
        assert (s.primes, s.misses, s.checks) == (0, 0, 0)
        lake.invalidate_cache(("hot", "docs"))
        with pytest.raises(ruvector.BackendError, match="only the backend can supply it"):
            lake.search_one("docs", vecs[0])

    # FRESH: the search says the backend is needed to check the entry ...
    with RuLake.builder().build() as lake:
        lake.warm_from_dir(("hot", "docs"), tmp_path / "cache")
        with pytest.raises(ruvector.BackendError,
                           match="FRESH consistency checks with the backend"):
            lake.search_one("docs", vecs[0], backend="hot")
        # ... and once registered, checks it and keeps it (no prime).
        assert [(n, n.absent) for n in lake.backends] == [("hot", True)]
        lake.register_backend(b)
        assert [(n, n.absent) for n in lake.backends] == [("hot", False)]
        assert repr(lake.backends[0]) == "LakeBackendName('hot', absent=False)"
        assert answers(lake, vecs[:6]) == want
        assert lake.cache_stats().primes == 0
        with pytest.raises(ValueError, match="already registered"):
            lake.register_backend(hot(ids, vecs))


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_warm_ends_with_one_warmup_search(tmp_path: Path, metric: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """warm_from_dir's last step searches the entry once through search_one's
    path (a query the plugin makes up): no backend call (a FRESH lake with
    no backend registered warms), no statistic; later searches are as
    before."""
    ids, vecs = rows(2000, 16, 6)
    b = hot(ids, vecs)
    with RuLake.builder().metric(metric).build() as saver:
        saver.register_backend(b)
        want = answers(saver, vecs[:4])
        saver.save_cache_to_dir(("hot", "docs"), tmp_path / "cache")

    calls: List[Tuple[object, ...]] = []
    search_one = RuLake._search_one

    def recording(self: RuLake, backend: str, collection: str, q: F32, k: int, rf: int,
                  flags: int) -> object:
        got = search_one(self, backend, collection, q, k, rf, flags)
        calls.append(([(backend, collection)], q.shape, k, flags, len(got)))
        return got

    monkeypatch.setattr(RuLake, "_search_one", recording)
    with RuLake.builder().metric(metric).build() as lake:
        assert lake.warm_from_dir(("hot", "docs"), tmp_path / "cache") == 2000
        assert calls == [([("hot", "docs")], (0,), 10, 8, 10)]
        s = lake.cache_stats()
        assert (s.hits, s.skipped, s.checks, s.misses, s.primes, s.warm_installs) == (0, 0, 0, 0, 0, 1)
        lake.register_backend(b)
        assert answers(lake, vecs[:4]) == want
        s = lake.cache_stats()
        assert (s.hits, s.checks, s.primes) == (4, 4, 0)
        # Warming the same entry again installs nothing and warms again;
        # the backend is registered now: its description is asked too (16).
        assert lake.warm_from_dir(("hot", "docs"), tmp_path / "cache") == 2000
        assert len(calls) == 6 and calls[-1][3] == 8 | 16
        s = lake.cache_stats()
        assert (s.hits, s.checks, s.primes) == (4, 4, 0)


class _Adapter(ruvector.BackendAdapter):
    """A Python backend over arrays that counts its describes."""

    def __init__(self, name: str, ids: U64, vecs: F32) -> None:
        super().__init__(name)
        self.ids, self.vecs, self.describes = ids, vecs, 0

    def describe(self, collection: str) -> ruvector.CollectionInfo:
        self.describes += 1
        return ruvector.CollectionInfo(f"py://{self.name}/{collection}", self.vecs.shape[1], 1)

    def pull_vectors(self, collection: str) -> ruvector.PulledBatch:
        return ruvector.PulledBatch(self.ids, self.vecs, self.describe(collection))


@pytest.mark.parametrize("mode", [Consistency.FRESH, Consistency.EVENTUAL, Consistency.STALE])
def test_warm_up_asks_which_backends(tmp_path: Path, mode: Consistency,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm-up asks a registered LocalBackend or FsBackend for its
    description (RUV_LAKE_WARMUP_DESCRIBE, flag 16) when the first search
    will ask it (not STALE); never a BackendAdapter (application code) nor
    a backend only warmed; nothing is counted either way."""
    ids, vecs = rows(600, 8, 9)
    fs = ruvector.FsBackend("disk", tmp_path)
    fs.write("w.ruvec2", ids, vecs)
    fs.register("docs", "w.ruvec2")
    ad = _Adapter("py", ids, vecs)
    with RuLake.builder().build() as saver:
        saver.register_backend(fs)
        saver.register_backend(ad)
        saver.search_one("docs", vecs[0], backend="disk")
        saver.search_one("docs", vecs[0], backend="py")
        saver.save_cache_to_dir(("disk", "docs"), tmp_path / "c-disk")
        saver.save_cache_to_dir(("py", "docs"), tmp_path / "c-py")
    flags: List[int] = []
    search_one = RuLake._search_one

    def recording(self: RuLake, backend: str, collection: str, q: F32, k: int, rf: int,
                  f: int) -> object:
        flags.append(f)
        return search_one(self, backend, collection, q, k, rf, f)

    monkeypatch.setattr(RuLake, "_search_one", recording)
    b = RuLake.builder().consistency(mode)
    with (b.ttl_ms(60_000) if mode == Consistency.EVENTUAL else b).build() as lake:
        lake.warm_from_dir(("disk", "docs"), tmp_path / "c-disk")  # disk not registered yet
        lake.register_backend(fs)
        lake.register_backend(ad)
        ad.describes = 0
        lake.warm_from_dir(("disk", "docs"), tmp_path / "c-disk")
        lake.warm_from_dir(("py", "docs"), tmp_path / "c-py")
        assert flags == [8, 8 if mode == Consistency.STALE else 24, 8]
        assert ad.describes == 0
        s = lake.cache_stats()
        assert (s.checks, s.hits, s.misses, s.primes, s.warm_installs) == (0, 0, 0, 0, 2)
        assert lake.search_one("docs", vecs[3], k=1, backend="disk")[0].id == int(ids[3])
        assert lake.search_one("docs", vecs[3], k=1, backend="py")[0].id == int(ids[3])
        assert lake.cache_stats().primes == 0


def test_planned_parameters_are_witnessed(tmp_path: Path) -> None:
    """At 30,000 rows the plan takes IVF: the bundle records what it chose,
    and .bits(1).nlist(0) (the spec's values) records those."""
    ids, vecs = rows(30_000, 16, 5)
    p = ruvector.RabitqPlusIndex.build(vecs, ids=ids, seed=42, rerank_factor=20).params
    assert p["nlist"] > 0
    for builder, want in ((RuLake.builder(), (p["bits"], p["nlist"])),
                          (RuLake.builder().bits(1).nlist(0), (1, 0))):
        with builder.build() as lake:
            lake.register_backend(hot(ids, vecs))
            out = tmp_path / f"b{want[1]}"
            lake.publish_bundle("docs", out_dir=out)
            b = RuLakeBundle.read(out)
            assert b.index_params == f"index=rabitq_plus;metric=l2;bits={want[0]};nlist={want[1]}"
