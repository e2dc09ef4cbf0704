#!/usr/bin/env python3
"""ruLake side by side: the original (crates.io ruvector-rulake 2.3.0, via
bench/rulake-peer) and ours (ruvector.RuLake) on the same data in one run.

Never run by CI. rulake.md §12 says what T1-T6 are; docs/benchmarks-rulake.md
holds the results and the commands.

    python3 bench/rulake_compare.py [--dataset DIR] [--n N] [--reps 3] [--build]
                                    [--tests T1,T2,T4,T5,T6] [--json OUT] [--md OUT]
    python3 bench/rulake_compare.py interop [--build] [--ours-cli build/tests/rulake/witness_cli]

The Rust program is built outside the repository:
    cd bench/rulake-peer && CARGO_TARGET_DIR=/work/cargo-target \
        nice -n 10 cargo build --release -j1 --locked
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # rulake_sidecar_cases.witness_v1
PEER_DIR = HERE / "rulake-peer"
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", "/work/cargo-target"))
DEFAULT_BIN = TARGET_DIR / "release" / "rulake-peer"
DEFAULT_DATASET = Path("/work/shared/datasets/ruvector-demo-100k")
K = 10


def machine() -> Dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        flags = next(l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags"))
        simd = "avx512f" if " avx512f" in flags else ("avx2" if " avx2" in flags else "no avx2")
    except (OSError, StopIteration):
        simd = "?"
    return {"cpu": model, "vcpus": os.cpu_count(), "simd": simd, "kernel": platform.release(),
            "python": platform.python_version()}


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def build_peer() -> None:
    cargo = shutil.which("cargo") or "/root/.cargo/bin/cargo"
    env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET_DIR))
    subprocess.run(["nice", "-n", "10", cargo, "build", "--release", "-j1", "--locked"],
                   cwd=PEER_DIR, env=env, check=True)


def run_peer(binary: Path, args: List[str]) -> List[Dict[str, Any]]:
    out = subprocess.run([str(binary), *args], check=True, capture_output=True, text=True)
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


# ---------------------------------------------------------------- ours

def ours_available() -> Optional[str]:
    """None when ruvector.RuLake can be used, else why not."""
    try:
        import ruvector  # noqa: F401
    except ImportError as e:
        return f"ruvector is not importable ({e})"
    import ruvector
    if not hasattr(ruvector, "RuLake"):
        return f"ruvector {getattr(ruvector, '__version__', '?')} has no RuLake (not merged yet)"
    return None


def read_fvecs(path: Path, limit: Optional[int] = None) -> Any:
    import numpy as np
    raw = np.fromfile(path, dtype=np.int32)
    dim = int(raw[0])
    rows = raw.reshape(-1, dim + 1)[:, 1:]
    if limit is not None:
        rows = rows[:limit]
    return np.ascontiguousarray(rows.view(np.float32))


def truth_for(base: Any, queries: Any, gt_path: Path, full: bool) -> Any:
    """(kth distance per query, top-k ids): from the shipped ivecs for the
    full base, else by an exact float64 scan."""
    import numpy as np
    if full and gt_path.exists():
        raw = np.fromfile(gt_path, dtype=np.int32)
        gt = raw.reshape(-1, int(raw[0]) + 1)[:, 1:1 + K].astype(np.int64)
    else:
        b = base.astype(np.float64)
        q = queries.astype(np.float64)
        d = (q * q).sum(1)[:, None] - 2 * q @ b.T + (b * b).sum(1)[None, :]
        gt = np.argsort(d, axis=1, kind="stable")[:, :K]
    kth = ((base[gt[:, K - 1]] - queries) ** 2).sum(1)
    return kth, gt


def recall(base: Any, queries: Any, truth: Any, ids: List[List[int]]) -> float:
    import numpy as np
    kth, _ = truth
    hits = 0
    for qi, row in enumerate(ids):
        r = np.asarray(row[:K], dtype=np.int64)
        d = ((base[r] - queries[qi]) ** 2).sum(1)
        hits += int((d <= kth[qi] * (1 + 1e-6)).sum())
    return hits / (len(ids) * K)


def qps(queries: Any, fn: Any) -> float:
    t = time.perf_counter()
    for q in queries:
        fn(q)
    return len(queries) / (time.perf_counter() - t)


def median(xs: List[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def run_ours(base: Any, queries: Any, truth: Any, reps: int, shards: List[int], tests: List[str]) -> List[Dict[str, Any]]:
    """Ours through the rulake.md §4 API, with the lake's fixed index
    parameters (bits 1, nlist 0, rerank_factor 20, seed 42). Written against
    the specification before ruvector.RuLake existed: check it the first
    time it runs."""
    import numpy as np
    import ruvector
    out: List[Dict[str, Any]] = []
    n, dim = base.shape
    ids = np.arange(n, dtype=np.uint64)

    def lake(consistency: Any) -> Any:
        b = ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).consistency(consistency)
        if consistency == ruvector.Consistency.EVENTUAL:
            b = b.ttl_ms(600_000)
        return b.build()

    def local(lk: Any, name: str, lo: int, hi: int) -> None:
        be = ruvector.LocalBackend(name=name)
        be.upsert("c", ids=ids[lo:hi], vectors=base[lo:hi])
        lk.register_backend(be)

    if "T1" in tests:
        t = time.perf_counter()
        direct = ruvector.RabitqPlusIndex.build(base, ids=ids, bits=1, nlist=0, rerank_factor=20, seed=42)
        build_ms = (time.perf_counter() - t) * 1e3
        fresh, eventual = lake(ruvector.Consistency.FRESH), lake(ruvector.Consistency.EVENTUAL)
        for lk in (fresh, eventual):
            local(lk, "b", 0, n)
            lk.search_one("c", queries[0], k=K)
        qd: List[float] = []
        qf: List[float] = []
        qe: List[float] = []
        for rep in range(reps + 1):
            d = qps(queries, lambda q: direct.search(q, K))
            f = qps(queries, lambda q: fresh.search_one("c", q, k=K))
            e = qps(queries, lambda q: eventual.search_one("c", q, k=K))
            if rep:
                qd.append(d)
                qf.append(f)
                qe.append(e)
        md, mf, me = median(qd), median(qf), median(qe)
        out.append({"test": "T1", "direct_qps": md, "fresh_qps": mf, "eventual_qps": me,
                    "overhead_fresh": md / mf, "overhead_eventual": md / me, "direct_build_ms": build_ms})
        res = [[h.id for h in fresh.search_one("c", q, k=K)] for q in queries]
        out.append({"test": "recall", "recall_at_10": recall(base, queries, truth, res), "qps": mf})
    if "T4" in tests:
        for s in shards:
            lk = lake(ruvector.Consistency.EVENTUAL)
            chunk = -(-n // s)
            for i in range(s):
                local(lk, f"shard-{i}", i * chunk, min(n, (i + 1) * chunk))
            t = time.perf_counter()
            lk.search_federated("c", queries[0], k=K)
            prime_ms = (time.perf_counter() - t) * 1e3
            qs: List[float] = []
            res = []
            for rep in range(reps + 1):
                cur: List[List[int]] = []
                v = qps(queries, lambda q: cur.append([h.id for h in lk.search_federated("c", q, k=K)]))
                if rep:
                    qs.append(v)
                res = cur
            out.append({"test": "T4", "shards": s, "recall_at_10": recall(base, queries, truth, res),
                        "qps": median(qs), "prime_ms_parallel": prime_ms})
    if "T4" in tests:
        import threading
        lk = lake(ruvector.Consistency.EVENTUAL)
        local(lk, "b", 0, n)
        lk.search_one("c", queries[0], k=K)
        by: Dict[int, float] = {}
        for threads in (1, 2):
            qs2: List[float] = []
            for rep in range(reps + 1):
                def client() -> None:
                    for q in queries:
                        lk.search_one("c", q, k=K)
                ts = [threading.Thread(target=client) for _ in range(threads)]
                t = time.perf_counter()
                for th in ts:
                    th.start()
                for th in ts:
                    th.join()
                if rep:
                    qs2.append(threads * len(queries) / (time.perf_counter() - t))
            by[threads] = median(qs2)
        out.append({"test": "T4_concurrent", "qps_1_thread": by[1], "qps_2_threads": by[2],
                    "ratio_2_over_1": by[2] / by[1]})
    if "T5" in tests:
        bare: List[float] = []
        cold: List[float] = []
        for _ in range(max(1, reps)):
            t = time.perf_counter()
            ruvector.RabitqPlusIndex.build(base, ids=ids, bits=1, nlist=0, rerank_factor=20, seed=42)
            bare.append((time.perf_counter() - t) * 1e3)
            lk = lake(ruvector.Consistency.FRESH)
            local(lk, "b", 0, n)
            t = time.perf_counter()
            lk.search_one("c", queries[0], k=K)
            cold.append((time.perf_counter() - t) * 1e3)
        out.append({"test": "T5", "bare_build_ms": median(bare), "prime_ms": median(cold),
                    "ratio": median(cold) / median(bare)})
    for name in ("T2", "T6"):
        if name in tests:
            out.append({"test": name, "skipped": "not measured by this script for ours yet (needs the plugin's "
                                               "save/warm and cache_stats().bytes; see docs/benchmarks-rulake.md)"})
    return out


# ---------------------------------------------------------------- table

ROWS = [
    ("T1", "direct_qps", "direct index QPS (1 thread)"),
    ("T1", "fresh_qps", "lake FRESH QPS"),
    ("T1", "eventual_qps", "lake EVENTUAL QPS"),
    ("T1", "overhead_fresh", "T1 overhead FRESH (direct/lake, gate <= 1.05)"),
    ("T1", "overhead_eventual", "T1 overhead EVENTUAL (gate <= 1.05)"),
    ("recall", "recall_at_10", "recall@10 at defaults (k=10)"),
    ("T2", "ratio_first_over_p50", "T2 first search after warm / steady p50 (gate <= 1.5)"),
    ("T2", "warm_from_dir_ms", "T2 warm_from_dir ms"),
    ("T5", "bare_build_ms", "T5 bare index build ms"),
    ("T5", "prime_ms", "T5 prime ms (cold first search)"),
    ("T5", "ratio", "T5 prime / build (gate <= 1.25)"),
    ("T4_concurrent", "qps_1_thread", "T4 hits QPS, 1 client thread (EVENTUAL)"),
    ("T4_concurrent", "qps_2_threads", "T4 hits QPS, 2 client threads"),
    ("T4_concurrent", "ratio_2_over_1", "T4 2 threads / 1 thread (gate >= 1.8)"),
    ("T6", "entries_after_3_primes", "T6 entries kept with a cap of 1"),
    ("T6", "rss_delta_over_entry_bytes", "T6 RSS growth / one entry's bytes"),
]


def pick(results: List[Dict[str, Any]], test: str, field: str, shards: Optional[int] = None) -> Optional[float]:
    vals = [r[field] for r in results if r.get("test") == test and field in r
            and (shards is None or r.get("shards") == shards)]
    return median(vals) if vals else None  # T2 repeats in one process each


def fmt(v: Optional[float]) -> str:
    if v is None:
        return "—"
    if isinstance(v, int) or abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3f}"


def table(peer: List[Dict[str, Any]], ours: List[Dict[str, Any]], shards: List[int]) -> str:
    lines = ["| measurement | original (ruvector-rulake 2.3.0) | ours | ours / original |", "|---|---:|---:|---:|"]
    rows = list(ROWS)
    for s in shards:
        rows.append(("T4", f"recall_at_10@{s}", f"T4 federated recall@10, {s} shards"))
        rows.append(("T4", f"qps@{s}", f"T4 federated QPS, {s} shards"))
    for test, field, label in rows:
        if "@" in field:
            f, sh = field.split("@")
            a, b = pick(peer, test, f, int(sh)), pick(ours, test, f, int(sh))
        else:
            a, b = pick(peer, test, field), pick(ours, test, field)
        ratio = fmt(b / a) if (a and b is not None) else "—"
        lines.append(f"| {label} | {fmt(a)} | {fmt(b)} | {ratio} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- interop

DEFAULT_CLI = HERE.parent / "build" / "tests" / "rulake" / "witness_cli"
SPEC_EXAMPLE_DIGEST = "3de7bfbad5f7366a26d126d44b23a0037301c24f5c4a99fb7d7c02dda20fd7c3"  # rulake.md §6


def cli(path: Path, request: str) -> str:
    """One request to tests/rulake/witness_cli (our C witnesses, sidecar
    reader and ruvec files); its one-line answer."""
    out = subprocess.run([str(path)], input=request + "\n", capture_output=True, text=True)
    return (out.stdout.strip().splitlines() or ["error: no answer"])[0]


def interop(binary: Path, ours_cli: Path) -> int:
    """Bundles across the two implementations. Crate-written bundles are
    read by the crate, by our C reader (witness_cli, from an out-of-tree
    build) and, once it exists, by ruvector.RuLakeBundle; ours are read by
    the crate. One JSON line per check; exit 1 if a check that should pass
    failed. `expect` says what rulake.md leads us to expect."""
    failed = 0
    why = ours_available()

    def report(check: str, ok: bool, expect: bool = True, **kw: Any) -> None:
        nonlocal failed
        failed += ok != expect
        print(json.dumps({"check": check, "ok": ok, "expected": expect, **kw}))

    with tempfile.TemporaryDirectory(prefix="rulake-interop-") as tmp:
        for kind in ("local", "fs"):
            d = Path(tmp) / f"crate-{kind}"
            w = run_peer(binary, ["write-bundle", "--kind", kind, "--out", str(d)])[0]
            r = run_peer(binary, ["read-bundle", str(d)])[0]
            report(f"crate writes {kind}, crate reads", r["rvf_witness"] == w["rvf_witness"],
                   witness=w["rvf_witness"], rows=r.get("rows"), warm_search_ids=r.get("warm_search_ids"))
            if ours_cli.exists():
                got = cli(ours_cli, f"readsidecar {d}")
                report(f"crate writes {kind}, our C reader reads the sidecar", got == w["rvf_witness"], answer=got)
                if kind == "fs":
                    got = cli(ours_cli, f"readruvec {d} docs.ruvec1")
                    report("crate writes ruvec1, our C reader reads it (content digest = rulake.md §6 example)",
                           got == SPEC_EXAMPLE_DIGEST, answer=got)
            if why is None:
                import ruvector
                try:
                    b = ruvector.RuLakeBundle.read(str(d))
                    report(f"crate writes {kind}, ruvector.RuLakeBundle reads", b.rvf_witness == w["rvf_witness"])
                except Exception as e:  # report every failure, keep going
                    report(f"crate writes {kind}, ruvector.RuLakeBundle reads", False, error=repr(e))
        if ours_cli.exists():
            # Ours writes ruvec2 (rulake.md §10.2); the crate reads only ruvec1.
            d = Path(tmp) / "ours-fs"
            d.mkdir()
            example: List[Tuple[int, List[float]]] = [
                (7, [1, 2, 3, 4]), (42, [0.5, -0.5, 0.25, -0.25]), (99, [-1, -2, -3, -4]), (2000, [8, 16, 32, 64])]
            rows = b"".join(i.to_bytes(8, "little") + b"".join(struct.pack("<f", x) for x in v) for i, v in example)
            got = cli(ours_cli, f"writeruvec {d} docs.ruvec2 4 x{rows.hex()}")
            back = cli(ours_cli, f"readruvec {d} docs.ruvec2")
            report("our C writer writes ruvec2, our C reader reads it", back == SPEC_EXAMPLE_DIGEST, answer=back)
            side: Dict[str, Any] = {"format_version": 2, "data_ref": f"file://{d}/docs.ruvec2", "dim": 4, "rotation_seed": 42,
                    "rerank_factor": 20, "generation": "ruvec2-token", "rvf_witness": "", "pii_policy": None,
                    "lineage_id": None}
            from rulake_sidecar_cases import witness_v1
            side["rvf_witness"] = witness_v1(side["data_ref"], 4, 42, 20, "ruvec2-token")
            (d / "table.rulake.json").write_text(json.dumps(side))
            r = run_peer(binary, ["read-bundle", str(d)])[0]
            report("ours writes ruvec2, the crate pulls it", r.get("pulled_rows") == 4, expect=False,
                   crate=r.get("pull_error"), header_answer=got)
        else:
            print(json.dumps({"check": "our C side", "skipped": f"{ours_cli} not built"}))
        if why is None:
            import numpy as np
            import ruvector
            d = Path(tmp) / "ours-local"
            lk = ruvector.RuLake.builder().rerank_factor(20).rotation_seed(42).build()
            be = ruvector.LocalBackend(name="hot-shard")
            be.upsert("docs", ids=np.array([7, 42, 99, 2000], dtype=np.uint64),
                      vectors=np.array([[1, 2, 3, 4], [0.5, -0.5, 0.25, -0.25], [-1, -2, -3, -4], [8, 16, 32, 64]],
                                       dtype=np.float32))
            lk.register_backend(be)
            lk.publish_bundle("docs", out_dir=str(d))
            proc = subprocess.run([str(binary), "read-bundle", str(d)], capture_output=True, text=True)
            report("ours publishes (LocalBackend), the crate reads", proc.returncode == 0,
                   crate=json.loads(proc.stdout) if proc.stdout.strip() else proc.stderr)
        else:
            print(json.dumps({"check": "ruvector.RuLake", "skipped": why}))
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", nargs="?", default="bench", choices=["bench", "interop"])
    ap.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    ap.add_argument("--n", type=int, default=None, help="first N base rows (ground truth recomputed)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tests", default="T1,T2,T4,T5,T6")
    ap.add_argument("--shards", default="1,2,4,8")
    ap.add_argument("--peer-bin", type=Path, default=DEFAULT_BIN)
    ap.add_argument("--ours-cli", type=Path, default=DEFAULT_CLI,
                    help="tests/rulake/witness_cli of an out-of-tree build (interop)")
    ap.add_argument("--build", action="store_true", help="cargo build the peer first")
    ap.add_argument("--no-ours", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="write every result here")
    ap.add_argument("--md", type=Path, default=None, help="write the ratio table here")
    a = ap.parse_args()

    if a.build or not a.peer_bin.exists():
        build_peer()
    if a.mode == "interop":
        return interop(a.peer_bin, a.ours_cli)

    tests = a.tests.split(",")
    shards = [int(x) for x in a.shards.split(",")]
    info = {"machine": machine(), "load_start": loadavg(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": " ".join([sys.executable, *sys.argv])}
    peer_args = ["bench", "--base", str(a.dataset / "base.fvecs"), "--queries", str(a.dataset / "query.fvecs"),
                 "--gt", str(a.dataset / "gt100.ivecs"), "--reps", str(a.reps), "--tests", a.tests,
                 "--shards", a.shards]
    if a.n:
        peer_args += ["--n", str(a.n)]
    info["peer_command"] = " ".join([str(a.peer_bin), *peer_args])
    print(f"# original: {info['peer_command']}", file=sys.stderr)
    peer = run_peer(a.peer_bin, peer_args)
    for r in peer:
        print(json.dumps(r))

    ours: List[Dict[str, Any]] = []
    why = "--no-ours" if a.no_ours else ours_available()
    if why is None:
        base = read_fvecs(a.dataset / "base.fvecs", a.n)
        queries = read_fvecs(a.dataset / "query.fvecs")
        truth = truth_for(base, queries, a.dataset / "gt100.ivecs", a.n is None)
        ours = run_ours(base, queries, truth, a.reps, shards, tests)
        for r in ours:
            print(json.dumps({"system": "ours", **r}))
    info["ours"] = "measured" if why is None else f"not measured: {why}"
    info["load_end"] = loadavg()
    md = table(peer, ours, shards)
    print(json.dumps(info), file=sys.stderr)
    print(md, file=sys.stderr)
    if a.json:
        a.json.write_text(json.dumps({"info": info, "original": peer, "ours": ours}, indent=1) + "\n")
    if a.md:
        a.md.write_text(md + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
