#!/usr/bin/env python3
"""Writes seed inputs for the rulake fuzzers (make fuzz-lake-seeds):
<out>/sidecar/ (valid and near-valid table.rulake.json files), <out>/pem/
(Ed25519 keys as PEM, for fuzz_lake_pem) and
<out>/ruvec/ (valid ruvec1 and ruvec2 files). Python's hashlib makes the
ruvec2 header check and digests, through tests/rulake/lake_ref.py."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rulake"))
import lake_ref  # noqa: E402


def ruvec2(rows, dim):
    return lake_ref.ruvec2_bytes(rows, dim)


def ruvec1(rows, dim):
    return lake_ref.ruvec1_bytes(rows, dim)


def sidecar(ext=True, index=False, gen=1):
    rows = [(7, [1, 2, 3, 4]), (42, [0.5, -0.5, 0.25, -0.25])]
    v1 = lake_ref.witness_v1("local://hot-shard/docs", 4, 42, 20, gen)
    doc = {"format_version": 2 if ext else 1, "data_ref": "local://hot-shard/docs", "dim": 4,
           "rotation_seed": 42, "rerank_factor": 20, "generation": gen,
           "rvf_witness": v1.hex(), "pii_policy": None, "lineage_id": None}
    if ext:
        p = lake_ref.index_params()
        d = lake_ref.content_digest(rows, 4)
        ix = {"file": "index-" + "ab" * 16 + ".idx", "bytes": 4096,
              "shake256": "cd" * 32} if index else None
        meta = lake_ref.meta_digest(2, 1, "hot-shard", "docs",
                                    index_file=ix["file"] if ix else None,
                                    index_bytes=ix["bytes"] if ix else 0,
                                    index_shake=bytes.fromhex(ix["shake256"]) if ix else None)
        doc["rulake_ext"] = {"ext_version": 1, "backend": "hot-shard", "collection": "docs",
                             "index_params": p, "count": 2, "content_digest": d.hex(),
                             "witness_v2": lake_ref.witness_v2(v1, p, d).hex(), "index": ix,
                             "meta_digest": meta.hex(),
                             "signature": {"alg": "ed25519", "key_id": "7cb16e94954c73e7",
                                           "sig": "00" * 64}}
    return json.dumps(doc, indent=2).encode()


RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUB = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


def pem(label, der):
    import base64
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "sidecar"), exist_ok=True)
    os.makedirs(os.path.join(out, "ruvec"), exist_ok=True)
    os.makedirs(os.path.join(out, "pem"), exist_ok=True)
    seeds = {
        "sidecar/v1-ruvector.json": sidecar(ext=False, gen=7),
        "sidecar/v2.json": sidecar(),
        "sidecar/v2-index.json": sidecar(index=True),
        "sidecar/v2-opaque.json": sidecar(gen="01JCX7NK6G5R9G1YZ7QH"),
        "ruvec/empty2.ruvec": ruvec2([], 3),
        "ruvec/docs2.ruvec": ruvec2([(7, [1, 2, 3, 4]), (42, [0.5, -0.5, 0.25, -0.25]),
                                     (99, [-1, -2, -3, -4]), (2000, [8, 16, 32, 64])], 4),
        "ruvec/sparse2.ruvec": ruvec2([((1 << 64) - 1, [1.0]), (0, [-1.0]), (5, [0.0])], 1),
        "ruvec/docs1.ruvec": ruvec1([(99, [-1, -2, -3, -4]), (7, [1, 2, 3, 4])], 4),
        "ruvec/empty1.ruvec": ruvec1([], 2),
        # Ed25519 keys (RFC 8032 test 1) as PEM; the first byte picks the
        # mode in fuzz_lake_pem (odd: private).
        "pem/public.pem": b"0" + pem("PUBLIC KEY", bytes.fromhex("302a300506032b6570032100") +
                                     bytes.fromhex(RFC8032_PUB)),
        "pem/private.pem": b"1" + pem("PRIVATE KEY",
                                      bytes.fromhex("302e020100300506032b657004220420") +
                                      bytes.fromhex(RFC8032_SEED)),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
