#!/usr/bin/env python3
"""ruLake side by side: the original (crates.io ruvector-rulake 2.3.0, via
bench/rulake-peer) and ours (ruvector.RuLake) on the same data in one run.

Never run by CI. rulake.md §12 says what T1-T6 are; docs/benchmarks-rulake.md
holds the results and the commands.

    python3 bench/rulake_compare.py [--dataset DIR] [--n N] [--rounds 3] [--reps 1] [--build]
                                    [--tests T1,T2,T3,T4,T5,T6] [--json OUT] [--md OUT]
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
sys.path.insert(0, str(HERE))  # rulake_sidecar_cases.witness_v1, rulake_ours
from rulake_ours import K, Ours, median, read_fvecs, run_ours, t2_child, t6_child, truth_for  # noqa: E402
PEER_DIR = HERE / "rulake-peer"
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", "/work/cargo-target"))
DEFAULT_BIN = TARGET_DIR / "release" / "rulake-peer"
DEFAULT_DATASET = Path("/work/shared/datasets/ruvector-demo-100k")


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


# ---------------------------------------------------------------- table

ROWS = [
    ("T1", "direct_qps", "T1 direct index QPS (1 thread, wall)"),
    ("T1", "fresh_qps", "T1 lake FRESH QPS (wall)"),
    ("T1", "eventual_qps", "T1 lake EVENTUAL QPS (wall)"),
    ("T1", "overhead_fresh", "T1 overhead FRESH, wall (direct/lake, gate <= 1.05)"),
    ("T1", "overhead_eventual", "T1 overhead EVENTUAL, wall (gate <= 1.05)"),
    ("T1", "overhead_fresh_cpu", "T1 overhead FRESH, CPU time (gate <= 1.05)"),
    ("T1", "overhead_eventual_cpu", "T1 overhead EVENTUAL, CPU time (gate <= 1.05)"),
    ("recall", "recall_at_10", "recall@10 at rerank 20 through the lake (k=10)"),
    ("T2", "ratio_first_over_p50", "T2 first search after warm / steady p50 (gate <= 1.5)"),
    ("T2", "ratio_first_over_p50_cpu", "T2 first / steady p50, CPU time (gate <= 1.5)"),
    ("T2", "first_search_us", "T2 first search after warm, us"),
    ("T2", "steady_p50_us", "T2 steady-state p50, us"),
    ("T2", "warm_from_dir_ms", "T2 warm_from_dir ms"),
    ("T3", "async_over_sync_in_memory", "T3 100 async / 100 sync in sequence, in memory (gate <= 1.2)"),
    ("T3", "async_qps", "T3 search_one_async QPS (100 in flight)"),
    ("T3", "sync_qps", "T3 search_one QPS (sync)"),
    ("T3", "slow_async_100_over_one", "T3 100 async / one sync, blocking describe 2 ms on the pool, spec params (gate <= 10)"),
    ("T3", "slow_describes_per_100", "T3 describes per 100 async, blocking describe"),
    ("T3", "slow_adescribe_async_100_over_one", "T3 100 async / one sync, async describe 2 ms on the loop, spec params (gate <= 10)"),
    ("T3", "slow_adescribe_describes_per_100", "T3 describes per 100 async, async describe"),
    ("T3", "slow_adescribe_plan_async_100_over_one", "T3 100 async / one sync, async describe 2 ms, planned params (gate <= 10)"),
    ("T3", "slow_adescribe_plan_ticker_missed_max", "T3 1 ms ticker on the loop: most ticks missed (test 2: <= 2)"),
    ("T3", "slow_small_async_100_over_one", "T3 100 async / one sync, blocking describe 2 ms, 2,000 rows (scans cheap)"),
    ("T3", "slow_adescribe_small_async_100_over_one", "T3 100 async / one sync, async describe 2 ms, 2,000 rows (scans cheap)"),
    ("T3", "slow_adescribe_small_ticker_missed_max", "T3 1 ms ticker, async describe, 2,000 rows: most ticks missed"),
    ("T5", "bare_build_ms", "T5 bare index build ms (wall)"),
    ("T5", "prime_ms", "T5 prime ms (cold first search, wall)"),
    ("T5", "ratio", "T5 prime / build, wall (gate <= 1.25)"),
    ("T5", "ratio_cpu", "T5 prime / build, CPU time (gate <= 1.25)"),
    ("T4_concurrent", "qps_1_thread", "T4 hits QPS, 1 client thread (EVENTUAL)"),
    ("T4_concurrent", "qps_2_threads", "T4 hits QPS, 2 client threads"),
    ("T4_concurrent", "ratio_2_over_1", "T4 2 threads / 1 thread (gate >= 1.8)"),
    ("T4_concurrent", "cpu_over_wall_2", "T4 process CPU / wall in the 2-thread passes (~2: both cores were ours)"),
    ("T4_shards", "qps_4_over_1", "T4 federated QPS 4 shards / 1, median of per-rep ratios (gate >= 0.8)"),
    ("T6", "budget_bytes", "T6 byte budget (1.5 entries; the original has none)"),
    ("T6", "entries_after_3_primes", "T6 entries kept after 3 primes"),
    ("T6", "rss_delta_over_entry_bytes", "T6 RSS growth / one entry's bytes"),
    ("T6", "rss_delta_over_budget", "T6 RSS growth / budget (gate <= 1)"),
    ("T6", "cache_bytes_over_rss_delta", "T6 cache_stats().bytes / RSS growth (gate 0.95-1.05)"),
    ("T6", "cache_bytes_over_rss_delta_from_trimmed_start", "T6 the same, RSS growth from a trimmed start"),
    ("T6", "cache_bytes_over_heap_in_use_delta", "T6 cache_stats().bytes / heap in use growth"),
]


def pick(results: List[Dict[str, Any]], test: str, field: str, shards: Optional[int] = None) -> Optional[float]:
    vals = [r[field] for r in results if r.get("test") == test and isinstance(r.get(field), (int, float))
            and (shards is None or r.get("shards") == shards)]
    return median(vals) if vals else None  # T2 repeats in one process each


def fmt(v: Optional[float]) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int) or abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3f}"


def table(peer: List[Dict[str, Any]], ours: List[Dict[str, Any]], shards: List[int]) -> str:
    lines = ["| measurement | original (ruvector-rulake 2.3.0) | ours | ours / original |", "|---|---:|---:|---:|"]
    rows = list(ROWS)
    for s in shards:
        rows.append(("T4", f"recall_at_10@{s}", f"T4 federated recall@10, {s} shards"))
        rows.append(("T4", f"qps@{s}", f"T4 federated QPS, {s} shards"))
    for rf in (1, 5, 10, 20, 50, 100, 0):
        rows.append(("recall_sweep", f"recall_at_10%{rf}", f"recall@10, direct index, rerank {rf}"))
        rows.append(("recall_sweep", f"qps%{rf}", f"QPS, direct index, rerank {rf}"))
    for test, field, label in rows:
        if "%" in field:
            f, rf = field.split("%")
            a = median([r[f] for r in peer if r.get("test") == test and r.get("rerank") == int(rf)] or [float("nan")])
            b = median([r[f] for r in ours if r.get("test") == test and r.get("rerank") == int(rf)] or [float("nan")])
            a2 = None if a != a else a
            b2 = None if b != b else b
            ratio = fmt(b2 / a2) if (a2 and b2 is not None) else "—"
            lines.append(f"| {label} | {fmt(a2)} | {fmt(b2)} | {ratio} |")
            continue
        if "@" in field:
            f, sh = field.split("@")
            a, b = pick(peer, test, f, int(sh)), pick(ours, test, f, int(sh))
        else:
            a, b = pick(peer, test, field), pick(ours, test, field)
        ratio = fmt(b / a) if (a and b is not None and not isinstance(a, bool)) else "—"
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
    ap.add_argument("mode", nargs="?", default="bench", choices=["bench", "interop", "t2-child", "t6-child"])
    ap.add_argument("root", nargs="?", type=Path, default=None, help="t2-child: the writer's directory")
    ap.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    ap.add_argument("--n", type=int, default=None, help="first N base rows (ground truth recomputed)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds; each runs every test, original then ours")
    ap.add_argument("--reps", type=int, default=1, help="timed passes per test inside a round")
    ap.add_argument("--tests", default="T1,T2,T3,T4,T5,T6")
    ap.add_argument("--shards", default="1,2,4,8")
    ap.add_argument("--peer-bin", type=Path, default=DEFAULT_BIN)
    ap.add_argument("--ours-cli", type=Path, default=DEFAULT_CLI,
                    help="tests/rulake/witness_cli of an out-of-tree build (interop)")
    ap.add_argument("--build", action="store_true", help="cargo build the peer first")
    ap.add_argument("--no-ours", action="store_true")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="write every result here")
    ap.add_argument("--md", type=Path, default=None, help="write the ratio table here")
    a = ap.parse_args()

    if a.mode == "t2-child":
        return t2_child(a.root, a.dataset, a.n)
    if a.mode == "t6-child":
        return t6_child(a.dataset, a.n)
    if not a.no_peer and (a.build or not a.peer_bin.exists()):
        build_peer()
    if a.mode == "interop":
        return interop(a.peer_bin, a.ours_cli)

    tests = a.tests.split(",")
    shards = [int(x) for x in a.shards.split(",")]
    info: Dict[str, Any] = {"machine": machine(), "load_start": loadavg(),
                            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                            "command": " ".join([sys.executable, *sys.argv]), "loads": []}
    peer_base = ["bench", "--base", str(a.dataset / "base.fvecs"), "--queries", str(a.dataset / "query.fvecs"),
                 "--gt", str(a.dataset / "gt100.ivecs"), "--reps", str(a.reps), "--shards", a.shards]
    if a.n:
        peer_base += ["--n", str(a.n)]
    info["peer_command"] = " ".join([str(a.peer_bin), *peer_base, "--tests", "<one test>"])
    why = "--no-ours" if a.no_ours else ours_available()
    o: Optional[Ours] = None
    if why is None:
        base = read_fvecs(a.dataset / "base.fvecs", a.n)
        queries = read_fvecs(a.dataset / "query.fvecs")
        truth = truth_for(base, queries, a.dataset / "gt100.ivecs", a.n is None)
        o = Ours(base, queries, truth, a.reps, shards)
    peer: List[Dict[str, Any]] = []
    ours: List[Dict[str, Any]] = []
    script = Path(__file__).resolve()
    # Interleaved: every round runs each test on the original and then on
    # ours, so that load drifting over the run reaches both alike; the
    # table takes medians over rounds.
    for rnd in range(a.rounds):
        for t in tests:
            info["loads"].append({"round": rnd, "test": t, "load": loadavg()})
            if not a.no_peer and t != "T3":  # the crate has no async API
                for r in run_peer(a.peer_bin, [*peer_base, "--tests", "T1" if t == "recall" else t]):
                    r["round"] = rnd
                    peer.append(r)
                    print(json.dumps({"system": "original", **r}), flush=True)
            if o is not None:
                for r in run_ours(o, t, script, a.dataset, a.n):
                    r["round"] = rnd
                    ours.append(r)
                    print(json.dumps({"system": "ours", **{k: v for k, v in r.items() if k != "runs"}}), flush=True)
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
