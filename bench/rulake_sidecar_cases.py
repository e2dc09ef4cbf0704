#!/usr/bin/env python3
"""Feeds crafted table.rulake.json files to the original crate's reader
(bench/rulake-peer `read-bundle`) and prints, per case, whether the crate
accepts it and what rulake.md §10.1 / §6.5 require of ours. The cases are
where the two can disagree; docs/benchmarks-rulake.md lists the results.

    python3 bench/rulake_sidecar_cases.py [--peer-bin PATH] [--ours-cli PATH] [--md]

--ours-cli is tests/rulake/witness_cli from an out-of-tree build (`make
tests/rulake/witness_cli`): its `readsidecar` runs our C reader and §6.5
checks, which adds a column with our actual verdict.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple, Union

DEFAULT_CLI = Path(__file__).resolve().parent.parent / "build" / "tests" / "rulake" / "witness_cli"
DEFAULT_BIN = Path(os.environ.get("CARGO_TARGET_DIR", "/work/cargo-target")) / "release" / "rulake-peer"


def witness_v1(data_ref: str, dim: int, seed: int, rerank: int, gen: Union[int, str]) -> str:
    """rulake.md §6.1 (ruvector's compute_witness), for crafting cases."""
    g = (b"\x00" + gen.to_bytes(8, "little")) if isinstance(gen, int) else (b"\x01" + gen.encode())
    d = data_ref.encode()
    msg = (b"rulake-bundle-witness-v1|" + len(d).to_bytes(8, "little") + d + b"|" + dim.to_bytes(8, "little")
           + seed.to_bytes(8, "little") + rerank.to_bytes(8, "little") + b"|" + len(g).to_bytes(8, "little") + g)
    return hashlib.shake_256(msg).hexdigest(32)


def sidecar(**over: Any) -> Dict[str, Any]:
    f: Dict[str, Any] = {"format_version": 2, "data_ref": "local://hot-shard/docs", "dim": 4, "rotation_seed": 42,
                         "rerank_factor": 20, "generation": 1}
    f.update({k: v for k, v in over.items() if k in f})
    w = witness_v1(f["data_ref"], f["dim"], f["rotation_seed"], f["rerank_factor"], f["generation"])
    f["rvf_witness"] = w
    f["pii_policy"] = None
    f["lineage_id"] = None
    f.update({k: v for k, v in over.items() if k not in ("data_ref", "dim", "rotation_seed", "rerank_factor",
                                                         "generation", "format_version")})
    return f


EXT = {"ext_version": 1, "backend": "hot-shard", "collection": "docs",
       "index_params": "index=rabitq_plus;metric=l2;bits=1;nlist=0", "count": 4,
       "content_digest": "3de7bfbad5f7366a26d126d44b23a0037301c24f5c4a99fb7d7c02dda20fd7c3",
       "witness_v2": "2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076", "index": None,
       "meta_digest": "6d4ab6e2f710ed5dc46adecd0d8462c524a84e2bef18f836522e8153f6aebad6"}


def cases() -> List[Tuple[str, str, str]]:
    """(name, file body, what rulake.md requires of ours)."""
    ok = json.dumps(sidecar())
    out: List[Tuple[str, str, str]] = [
        ("crate-style v1 sidecar (§6 example, cfbc83a2…)", json.dumps(sidecar(), indent=2), "accept"),
        ("ours: with rulake_ext (§10.1)", json.dumps(sidecar(rulake_ext=EXT), indent=2), "accept"),
        ("rulake_ext with an unknown member", json.dumps(sidecar(rulake_ext={**EXT, "x": 1})), "reject (unknown member)"),
        ("rulake_ext ext_version 2", json.dumps(sidecar(rulake_ext={**EXT, "ext_version": 2})), "reject (ext_version > 1)"),
        ("rulake_ext witness_v2 wrong (v1 right)", json.dumps(sidecar(rulake_ext={**EXT, "witness_v2": "0" * 64})),
         "reject (v2 mismatch)"),
        ("format_version 0", json.dumps(sidecar(format_version=0)), "accept"),
        ("format_version 3", json.dumps(sidecar(format_version=3)), "reject"),
        ("duplicate key dim (same value)", ok[:-1] + ', "dim": 4}', "reject (duplicate key)"),
        ("duplicate unknown key", ok[:-1] + ', "zz": 1, "zz": 2}', "reject (duplicate key)"),
        ("unknown top-level member", ok[:-1] + ', "zz": 1}', "accept? (§10.1 does not say)"),
        ("generation 2^63 (numeric)", json.dumps(sidecar(generation=2 ** 63)), "reject (> 2^63 - 1)"),
        ("rotation_seed 2^63", json.dumps(sidecar(rotation_seed=2 ** 63)), "reject (> 2^63 - 1)"),
        ("generation opaque string \"1\"", json.dumps(sidecar(generation="1")), "accept (opaque)"),
        ("witness in upper case", json.dumps(sidecar(rvf_witness=sidecar()["rvf_witness"].upper())),
         "reject (hex not lowercase)"),
        ("witness 63 hex", json.dumps(sidecar(rvf_witness=sidecar()["rvf_witness"][:63])), "reject"),
        ("dim tampered (witness kept)", ok.replace('"dim": 4', '"dim": 8'), "reject (witness)"),
        ("memory_class set", json.dumps(sidecar(memory_class="episodic")), "accept"),
        ("pii_policy and lineage_id absent", json.dumps({k: v for k, v in sidecar().items()
                                                         if k not in ("pii_policy", "lineage_id")}), "accept? (§10.1 does not say)"),
        ("pii_policy 5 KiB", json.dumps(sidecar(pii_policy="p" * 5000)), "reject (string > 4 KiB)"),
        ("64 KiB + 1 of whitespace", ok + " " * (64 * 1024 + 1 - len(ok)), "reject (> 64 KiB, before reading)"),
        ("trailing garbage", ok + " x", "reject"),
        ("dim as 4.0", ok.replace('"dim": 4', '"dim": 4.0'), "reject"),
    ]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer-bin", type=Path, default=DEFAULT_BIN)
    ap.add_argument("--ours-cli", type=Path, default=DEFAULT_CLI)
    ap.add_argument("--md", action="store_true", help="print a markdown table")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="rulake-sidecar-") as tmp:
        all_cases = cases()
        # Symlinked sidecar: ours opens with O_NOFOLLOW.
        for i, (name, body, want) in enumerate(all_cases + [("sidecar is a symlink", "", "reject (O_NOFOLLOW)")]):
            d = Path(tmp) / f"c{i}"
            d.mkdir()
            if name == "sidecar is a symlink":
                (d / "real.json").write_text(json.dumps(sidecar()))
                (d / "table.rulake.json").symlink_to("real.json")
            else:
                (d / "table.rulake.json").write_text(body)
            r = subprocess.run([str(a.peer_bin), "read-bundle", str(d)], capture_output=True, text=True)
            res = json.loads(r.stdout) if r.stdout.strip() else {"error": r.stderr.strip()}
            crate = "accept" if res.get("ok") else "reject: " + str(res.get("error", ""))[:90]
            agree = crate.startswith("accept") == want.startswith("accept")
            ours = "—"
            if a.ours_cli.exists():
                o = subprocess.run([str(a.ours_cli)], input=f"readsidecar {d}\n", capture_output=True, text=True)
                line = (o.stdout.strip().splitlines() or ["error: no answer"])[0]
                ours = "reject: " + line[7:][:90] if line.startswith("error:") else "accept"
            rows.append((name, crate, want, ours, agree))
            if not a.md:
                print(json.dumps({"case": name, "crate": crate, "spec": want, "ours": ours, "agree": agree}))
    if a.md:
        print("| case | crate 2.3.0 reader | rulake.md requires | crate = spec | our C reader (witness_cli) |")
        print("|---|---|---|---|---|")
        for name, crate, want, ours, agree in rows:
            print(f"| {name} | {crate.replace('|', '/')} | {want} | {'yes' if agree else '**no**'} "
                  f"| {ours.replace('|', '/')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
