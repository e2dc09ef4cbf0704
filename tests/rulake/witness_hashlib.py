#!/usr/bin/env python3
"""Cross-checks the C witnesses (tests/rulake/witness_cli) against Python's
hashlib.shake_256 (lake_ref.py): the vectors of rulake.md §6 first, then
random inputs. Usage: witness_hashlib.py <path to witness_cli> [cases].
Exit 0 when every answer matches, 1 otherwise."""
import os
import random
import struct
import json
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lake_ref  # noqa: E402

SPEC_V1 = [
    (("gs://bucket/x.parquet", 128, 42, 20, 7),
     "7eac1775d1f76a4db88672655fc64977287ec60eda47c6df3a19bacfd0c038cd"),
    (("x", 1, 0, 1, 7), "1cc8073588bc0c76ef87dd44d7be3440e306a089ca313ba05c2db6710205983b"),
    (("x", 1, 0, 1, "\x07" + "\x00" * 7),
     "a19518def03e50a5dd1c34204cf5ac2df34051041a358044c078f790cf0a3afc"),
    (("iceberg://catalog/db/table", 384, 0xdeadbeef, 5, "01JCX7NK6G5R9G1YZ7QH"),
     "6b1a75410b684054ec05c6c717a4e75204419722d5ce64e37ac1a2703c8e940b"),
    (("local://b/c", 8, 42, 20, 1), "aaa52194b87ddea9b60b1df3c8cf6c39b489a6b172454c7ece8a66fffe61816f"),
    (("", 1, 0, 0, ""), "8d70cab4edfff48f1375c75a33aa4a59f2f425967eea865ce209222fc1e59c1c"),
]
ROWS = [(7, [1, 2, 3, 4]), (42, [0.5, -0.5, 0.25, -0.25]), (99, [-1, -2, -3, -4]),
        (2000, [8, 16, 32, 64])]
ROWS_45 = ROWS[:2] + [(99, [-1, -2, -3, -4.5])] + ROWS[3:]
SPEC_DIGEST = "3de7bfbad5f7366a26d126d44b23a0037301c24f5c4a99fb7d7c02dda20fd7c3"
SPEC_DIGEST_45 = "00d564df51bc4e34287195b787c9cf18f6faa9db616e539d621792551a178368"
SPEC_DIGEST_EMPTY = "2d02d3a8bdc3d98e2cd790b287f80c75bb61fc7be6b1fb6c8af4ee9249660561"
SPEC_DIGEST_20K = "51fe9d213a9534df13b6c6bb3c52fce384b95deb67cf490bc250342f5524d473"
SPEC_V1_DOCS = "cfbc83a2e5561551db0843faa85b920d5bb6fa01f6b7190c61e32db7b9b0d365"
SPEC_V2 = "2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076"
SPEC_V2_45 = "b3b782b8bfe257ba6e88ca2512561e1870df2190d72e122e32cb937fc94a2e7e"
SPEC_META = "6d4ab6e2f710ed5dc46adecd0d8462c524a84e2bef18f836522e8153f6aebad6"
RFC8032_PUB = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


def x(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return "x" + b.hex()


def v1_request(data_ref, dim, seed, rerank, gen):
    g = "n %d" % gen if isinstance(gen, int) else "o " + x(gen)
    return "v1 %s %d %d %d %s" % (x(data_ref), dim, seed, rerank, g)


def rows_request(rows, dim):
    raw = b"".join(struct.pack("<Q", i) + struct.pack("<%df" % dim, *v) for i, v in rows)
    return "digest %d %s" % (dim, x(raw))


def meta_request(fv, ev, fields, nbytes, shake):
    f = " ".join("_" if s is None else x(s) for s in fields)
    return "meta %d %d %s %d %s" % (fv, ev, f, nbytes, "_" if shake is None else shake.hex())


def rand_text(rng, maxlen):
    alphabet = "abcxyz/:|.-_\x00\x07é漢"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(maxlen)))


def main():
    cli = sys.argv[1]
    cases = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rng = random.Random(20261206)
    requests, expected = [], []

    def add(req, want):
        requests.append(req)
        expected.append(want)

    for args, want in SPEC_V1:
        assert lake_ref.witness_v1(*args).hex() == want, "lake_ref disagrees with the spec"
        add(v1_request(*args), want)
    p = lake_ref.index_params()
    add("params l2 1 0", p)
    add(rows_request(ROWS, 4), SPEC_DIGEST)
    add(rows_request(list(reversed(ROWS)), 4), SPEC_DIGEST)  # any pull order
    add(rows_request(ROWS_45, 4), SPEC_DIGEST_45)
    add(rows_request([], 4), SPEC_DIGEST_EMPTY)
    rows20k = [(3 * i + 1, [i % 7, -(i % 5), 0.5, 1]) for i in range(20000)]
    rng.shuffle(rows20k)
    add(rows_request(rows20k, 4), SPEC_DIGEST_20K)
    add(v1_request("local://hot-shard/docs", 4, 42, 20, 1), SPEC_V1_DOCS)
    add("v2 %s %s %s" % (SPEC_V1_DOCS, p, SPEC_DIGEST), SPEC_V2)
    add("v2 %s %s %s" % (SPEC_V1_DOCS, p, SPEC_DIGEST_45), SPEC_V2_45)
    add(meta_request(2, 1, ["hot-shard", "docs", None, None, None, None], 0, None), SPEC_META)
    add("keyid x" + RFC8032_PUB, "7cb16e94954c73e7")

    for _ in range(cases):
        kind = rng.randrange(5)
        if kind == 0:
            gen = rng.randrange(1 << 64) if rng.random() < 0.5 else rand_text(rng, 40)
            args = (rand_text(rng, 300), rng.randrange(1, 1 << 32), rng.randrange(1 << 63),
                    rng.randrange(1 << 64), gen)
            add(v1_request(*args), lake_ref.witness_v1(*args).hex())
        elif kind == 1:
            dim = rng.randrange(1, 20)
            top = (1 << 64) if rng.random() < 0.5 else 100
            ids = list({rng.randrange(top) for _ in range(rng.randrange(0, 60))})
            rng.shuffle(ids)
            rows = [(i, [rng.choice([0.0, -0.0, 1.5, -3.25, 1e-30, 3e38, rng.uniform(-9, 9)])
                         for _ in range(dim)]) for i in ids]
            # Round through f32 first so both sides hash the same floats.
            rows = [(i, list(struct.unpack("<%df" % dim, struct.pack("<%df" % dim, *v))))
                    for i, v in rows]
            add(rows_request(rows, dim), lake_ref.content_digest(rows, dim).hex())
        elif kind == 2:
            v1 = bytes(rng.randrange(256) for _ in range(32))
            d = bytes(rng.randrange(256) for _ in range(32))
            params = lake_ref.index_params(rng.choice(["l2", "ip", "cosine"]), rng.randrange(1, 9),
                                           rng.randrange(1 << 20))
            add("v2 %s %s %s" % (v1.hex(), params, d.hex()),
                lake_ref.witness_v2(v1, params, d).hex())
        elif kind == 3:
            fields = [None if rng.random() < 0.4 else rand_text(rng, 30) for _ in range(6)]
            fields = [f.replace("\x00", "0") if f else f for f in fields]  # C strings
            shake = None if rng.random() < 0.5 else bytes(rng.randrange(256) for _ in range(32))
            nbytes = rng.randrange(1 << 63)
            fv, ev = rng.randrange(3), rng.randrange(2)
            add(meta_request(fv, ev, fields, nbytes, shake),
                lake_ref.meta_digest(fv, ev, *fields, index_bytes=nbytes,
                                     index_shake=shake).hex())
        else:
            pub = bytes(rng.randrange(256) for _ in range(32))
            add("keyid " + x(pub), lake_ref.key_id(pub))

    # Rows the digest must refuse: a duplicate id, NaN, infinity.
    refusals = [(rows_request([(5, [1.0]), (5, [2.0])], 1), "duplicate id 5"),
                (rows_request([(9, [float("nan")])], 1), "id 9: component 0 is NaN"),
                (rows_request([(9, [1.0, float("-inf")])], 2), "id 9: component 1 is infinite")]
    for req, fragment in refusals:
        add(req, "error: " + fragment)

    # Files: Python writes, C reads; C writes, Python checks (after the run).
    tmp = tempfile.mkdtemp(prefix="rulake-hashlib-")
    c_written = []
    for k in range(12):
        dim = rng.randrange(1, 9)
        ids = list({rng.randrange(1 << 64) for _ in range(rng.randrange(0, 40))})
        rows = [(i, [float(rng.randrange(-50, 50)) / 4 for _ in range(dim)]) for i in ids]
        with open(os.path.join(tmp, "py%d.ruvec" % k), "wb") as f:
            f.write(lake_ref.ruvec2_bytes(rows, dim, token=bytes([k] * 16)))
        with open(os.path.join(tmp, "old%d.ruvec" % k), "wb") as f:
            f.write(lake_ref.ruvec1_bytes(rows, dim))
        want = lake_ref.content_digest(rows, dim).hex()
        add("readruvec %s py%d.ruvec" % (tmp, k), want)
        add("readruvec %s old%d.ruvec" % (tmp, k), want)
        raw = b"".join(struct.pack("<Q", i) + struct.pack("<%df" % dim, *v) for i, v in rows)
        add("writeruvec %s c%d.ruvec %d %s" % (tmp, k, dim, x(raw)), want)
        c_written.append(("c%d.ruvec" % k, sorted(rows), want))
    for k, gen in enumerate([5, "01JCX7NK6G5R9G1YZ7QH"]):
        d = os.path.join(tmp, "bundle%d" % k)
        os.mkdir(d)
        v1 = lake_ref.witness_v1("local://b/c", 4, 42, 20, gen)
        p = lake_ref.index_params("cosine", 2, 16)
        digest = lake_ref.content_digest([(1, [1, 2, 3, 4])], 4)
        v2 = lake_ref.witness_v2(v1, p, digest)
        meta = lake_ref.meta_digest(2, 1, "b", "c", lineage_id="ol://x")
        doc = {"format_version": 2, "data_ref": "local://b/c", "dim": 4, "rotation_seed": 42,
               "rerank_factor": 20, "generation": gen, "rvf_witness": v1.hex(),
               "pii_policy": None, "lineage_id": "ol://x",
               "rulake_ext": {"ext_version": 1, "backend": "b", "collection": "c",
                              "index_params": p, "count": 1, "content_digest": digest.hex(),
                              "witness_v2": v2.hex(), "index": None, "meta_digest": meta.hex()}}
        with open(os.path.join(d, "table.rulake.json"), "w") as f:
            json.dump(doc, f)
        add("readsidecar " + d, v2.hex())

    out = subprocess.run([cli], input="\n".join(requests) + "\n", capture_output=True,
                         text=True, check=True).stdout.splitlines()
    bad = 0
    if len(out) != len(requests):
        print("witness_cli answered %d of %d requests" % (len(out), len(requests)))
        return 1
    for req, want, got in zip(requests, expected, out):
        ok = got.startswith(want) if want.startswith("error: ") else got == want
        if not ok:
            bad += 1
            print("MISMATCH %s\n  want %s\n  got  %s" % (req[:120], want, got))
    for name, rows, want in c_written:
        try:
            with open(os.path.join(tmp, name), "rb") as f:
                ids, vecs, digest = lake_ref.ruvec2_check(f.read())
            if [i for i, _ in rows] != ids or digest.hex() != want:
                raise AssertionError("rows differ")
        except (AssertionError, OSError) as e:
            bad += 1
            print("C-written %s fails the Python check: %s" % (name, e))
    subprocess.run(["rm", "-rf", tmp], check=False)
    print("%d requests (%d spec vectors, %d file checks), %d mismatches"
          % (len(requests), 18, 3 * len(c_written) + 2 + len(c_written), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
