#!/usr/bin/env python3
"""ruvector against its peers: one command, same data, same metrics.

    bench/peers/setup.sh                  # once: the peers' venv
    python3 bench/peers/run.py            # everything (1M sets included)
    python3 bench/peers/run.py --quick    # the two 100k sets only

Runs ruvector's CLI (`ruvector bench`, built by ./scripts/build.sh or given
with --ruvector) and the peers (faiss-cpu, hnswlib, usearch, rabitqlib and the
PyPI `ruvector` 0.1.4) over each dataset, writes every number to a JSON file
in the cache directory, then renders docs/benchmarks-peers.md and one
recall-vs-QPS plot per dataset under docs/img/. See bench/peers/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_VENV = Path(os.environ.get("PEERS_VENV", "/tmp/ruvector-peers-venv"))


def _reexec_in_venv() -> None:
    """Runs under the peers' venv when started with another interpreter."""
    venv_py = DEFAULT_VENV / "bin" / "python"
    try:
        import faiss  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        if venv_py.exists() and Path(sys.prefix).resolve() != DEFAULT_VENV.resolve():
            os.execv(str(venv_py), [str(venv_py), *sys.argv])
        sys.exit(f"run.py: numpy/faiss missing; run bench/peers/setup.sh first (venv {DEFAULT_VENV})")


_reexec_in_venv()
sys.path.insert(0, str(HERE))

import bench_data  # noqa: E402
import cpuinfo  # noqa: E402
from bench_data import Dataset, ivf_lists, query_files  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Jobs


@dataclass
class Job:
    kind: str  # "ours" or a drivers.DRIVERS key
    params: dict[str, Any] = field(default_factory=dict)

    def key(self, dataset: str) -> str:
        return f"{dataset}|{self.kind}|{json.dumps(self.params, sort_keys=True)}"


def plan(ds: Dataset, systems: set[str] | None, all_systems: bool) -> list[Job]:
    n = ds.n
    nlist = ivf_lists(n)
    nlist_plus = max(16, int(round(0.8 * math.sqrt(n) / 16.0)) * 16)  # 256 at 100k, 800 at 1M
    # The cosine sets hold 10 % out-of-distribution queries, whose neighbours sit
    # in many lists / far in the graph: their sweeps go further.
    wide = ds.metric == "cosine"
    nprobe_ivf = [1, 2, 4, 8, 16, 32, 64] + ([128] if n >= 500_000 or wide else []) + ([256] if wide else [])
    nprobe_plus = [p for p in [1, 2, 4, 8, 16, 32, 64] + ([128, 256] if wide else []) if p <= nlist_plus]
    flat_q = {"max_queries": 200} if n >= 500_000 else {}
    ef = [16, 32, 64, 128, 256] + ([512] if wide else [])
    jobs = [
        Job("ours", {"type": "flat_f32", **flat_q}),
        Job("ours", {"type": "rabitq_plus", "nlist": nlist_plus, "nprobe": nprobe_plus}),
        Job("ours", {"type": "rabitq_plus", "bits": 4, "nlist": nlist_plus, "nprobe": nprobe_plus}),
        Job("ours", {"type": "rabitq", "bits": 1, "nlist": nlist, "nprobe": nprobe_ivf}),
        Job("ours", {"type": "rabitq", "bits": 4, "nlist": nlist, "nprobe": nprobe_ivf}),
        Job("ours", {"type": "rabitq_asym"}),
        Job("faiss-flat", {**flat_q}),
        Job("faiss-flat", {"blas_threshold": 20, **flat_q}),
        Job("faiss-ivf", {"nlist": nlist, "bits": None, "nprobe": nprobe_ivf}),
        Job("faiss-ivf", {"nlist": nlist, "bits": 1, "nprobe": nprobe_ivf}),
        Job("faiss-ivf", {"nlist": nlist, "bits": 4, "nprobe": nprobe_ivf}),
        Job("rabitqlib-ivf", {"nlist": nlist, "bits": 1, "nprobe": nprobe_ivf}),
        Job("rabitqlib-ivf", {"nlist": nlist, "bits": 4, "nprobe": nprobe_ivf}),
        Job("rabitqlib-ivf", {"nlist": nlist, "bits": 7, "nprobe": nprobe_ivf}),
        Job("hnswlib", {"M": 16, "efC": 200, "ef": ef}),
        *([Job("hnswlib", {"M": 32, "efC": 200, "ef": ef})] if n <= 200_000 or all_systems else []),
        Job("usearch", {"connectivity": 16, "expansion_add": 128, "expansion_search": ef}),
        Job("ruvector-pypi-rabitq", {"rerank_factor": [5, 20, 50]}),
    ]
    # ruvector's HnswIndex takes string ids and builds slowly, and hnswlib M=32 at 1M
    # takes ~20 min on 2 vCPUs: 100k sets only unless --all-systems.
    if n <= 200_000 or all_systems:
        jobs.append(Job("ruvector-pypi-hnsw", {"M": 16, "efC": 200, "ef": ef}))
    jobs.append(Job("call-floor", {"dim": ds.dim}))
    if systems:
        jobs = [j for j in jobs if selected(j, systems)]
    return jobs


def selected(job: Job, systems: set[str]) -> bool:
    """Whether --systems names this job: its kind (faiss-ivf), its family
    (faiss), or for ours one index type (ours:flat_f32)."""
    if job.kind in systems or job.kind.split("-")[0] in systems:
        return True
    return job.kind == "ours" and f"ours:{job.params.get('type')}" in systems


# --------------------------------------------------------------------------
# ours: the ruvector CLI

MIN_TIMED_QUERIES = 1000


def plugin_path_for(cli: Path) -> str:
    if os.environ.get("RUVECTOR_PLUGIN_PATH"):
        return os.environ["RUVECTOR_PLUGIN_PATH"]
    build = cli.resolve().parent.parent
    return ":".join(str(build / "plugins" / p) for p in ("kernel-avx2", "kernel-avx512", "kernel-neon"))


def cli_env(cli: Path, threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env["RUVECTOR_PLUGIN_PATH"] = plugin_path_for(cli)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def ours_family(p: dict[str, Any]) -> str:
    t = p["type"]
    if t == "rabitq_plus":
        bits = f" {p['bits']}-bit" if p.get("bits", 1) != 1 else ""
        return f"ours rabitq_plus IVF{p['nlist']}{bits}"
    if t == "rabitq":
        return f"ours rabitq IVF{p['nlist']} {p['bits']}-bit"
    return f"ours {t}"


def run_ours(cli: Path, ds: Dataset, p: dict[str, Any], cache: Path, repeats: int) -> list[dict[str, Any]]:
    """Two CLI runs: pinned (`taskset -c 0`, 1-thread engine and BLAS) for the
    single-query loop, recall and 1-thread batch; unpinned for the 2-thread
    build and batch. Fewer than MIN_TIMED_QUERIES queries are tiled (see
    bench_data.query_files) so that each timed pass lasts long enough."""
    subset = p.get("max_queries")
    queries, gt = query_files(ds, cache, subset, min_nq=0 if subset else MIN_TIMED_QUERIES)
    args = [str(cli), "bench", str(ds.base), str(queries), "--gt", str(gt), "--type", p["type"],
            "--metric", ds.metric, "-k", "10", "--repeats", str(repeats), "--json"]
    for opt in ("bits", "nlist"):
        if opt in p:
            args += [f"--{opt}", str(p[opt])]
    if "nprobe" in p:
        args += ["--nprobe", ",".join(map(str, p["nprobe"]))]
    runs: dict[int, dict[str, Any]] = {}
    for threads, prefix in ((1, ["taskset", "-c", "0"]), (2, [])):
        cmd = prefix + args + ["--threads", str(threads)]
        log("  $ " + " ".join(shlex.quote(c) for c in cmd))
        out = subprocess.run(cmd, env=cli_env(cli, threads), capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"ruvector bench exited {out.returncode}: {out.stderr.strip()[-2000:]}")
        runs[threads] = json.loads(out.stdout)
    one, two = runs[1], runs[2]
    points = []
    for r1, r2 in zip(one["results"], two["results"], strict=True):
        setting = {"nprobe": r1["nprobe"]} if "nprobe" in p else {}
        label = ours_family(p) + "".join(f" {k}={v}" for k, v in setting.items())
        points.append({
            "dataset": ds.name,
            "system": "ours",
            "family": ours_family(p),
            "label": label,
            "build_params": p,
            "search_params": setting,
            "recall@10": r1["recall@10"],
            "recall@10_2t_run": r2["recall@10"],
            "qps_single": r1["qps_single"],
            "latency_p50_us": r1["latency_p50_us"],
            "latency_p99_us": r1["latency_p99_us"],
            "batch_qps": {"1": r1["batch"][0]["qps"], "2": r2["batch"][0]["qps"]},
            "build_seconds": two["build_seconds"],
            "build_threads": two["build_threads"],
            "build_seconds_1t": one["build_seconds"],
            "bytes_per_vector": two["bytes_per_vector"],
            "bytes_source": "memory_bytes",
            "file_bytes_per_vector": two.get("file_bytes_per_vector"),
            "kernel": two.get("kernel"),
            "pinning": "single loop and 1-thread batch: taskset -c 0, OMP/OPENBLAS/MKL_NUM_THREADS=1",
            "nq": min(int(p.get("max_queries") or ds.nq), ds.nq),
            "timed_queries_per_pass": one["nq"],
            "cli_rerank": r1.get("rerank"),
        })
        log(f"    {label}: recall@10 {r1['recall@10']:.4f}, {r1['qps_single']:.0f} QPS single, "
            f"batch 1t {r1['batch'][0]['qps']:.0f} / 2t {r2['batch'][0]['qps']:.0f}")
    return points


# --------------------------------------------------------------------------
# peers: one worker process per index build


def run_peer(job: Job, ds: Dataset, cache: Path, repeats: int) -> list[dict[str, Any]]:
    out = cache / "worker-out.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(HERE / "run.py"), "--worker", job.kind, "--worker-dataset", ds.name,
           "--worker-params", json.dumps(job.params), "--worker-out", str(out),
           "--cache-dir", str(cache), "--repeats", str(repeats)]
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "2"
    env.pop("OPENBLAS_NUM_THREADS", None)  # faiss's OpenBLAS is the OpenMP build
    proc = subprocess.run(cmd, env=env, check=False)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"worker {job.kind} exited {proc.returncode}")
    points: list[dict[str, Any]] = json.loads(out.read_text())
    return points


def worker_main(args: argparse.Namespace) -> int:
    import drivers

    cache = Path(args.cache_dir)
    meta = json.loads((cache / args.worker_dataset / "dataset.json").read_text())
    ds = Dataset(**meta)
    params = json.loads(args.worker_params)
    if args.worker == "call-floor":
        floor = drivers.call_floor(int(params["dim"]), args.repeats)
        points: list[dict[str, Any]] = [{"dataset": ds.name, "system": "call-floor", "family": "call-floor",
                                         "label": "call-floor", "floor_us": floor}]
        log("  per-call floor (µs): " + ", ".join(f"{k} {v:.1f}" for k, v in floor.items()))
    else:
        points = drivers.run_worker(args.worker, ds, params, cache, args.repeats, log)
    Path(args.worker_out).write_text(json.dumps(points))
    return 0


# --------------------------------------------------------------------------
# Environment record


def sh(cmd: list[str], env: dict[str, str] | None = None) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False, env=env).stdout.strip()
    except OSError as e:
        return f"({e})"


def snapshot_commit(cli: Path) -> str:
    """The commit a build-snapshot.sh build was made from, else
    "working tree of <repo>" (a build of a tree that may hold uncommitted edits)."""
    stamp = cli.resolve().parent.parent.parent / "COMMIT"
    if stamp.exists():
        return stamp.read_text().strip()
    return f"working tree at {cli.resolve().parent.parent.parent}"


def environment(cli: Path, command: str) -> dict[str, Any]:
    import importlib.metadata as md

    versions: dict[str, str | None] = {}
    for dist in ("faiss-cpu", "hnswlib", "usearch", "rabitqlib", "ruvector", "numpy", "matplotlib"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = None
    lscpu = sh(["lscpu"])
    model = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), "?")
    flags = next((ln.split(":", 1)[1].split() for ln in lscpu.splitlines() if ln.startswith("Flags")), [])
    info_txt = sh([str(cli), "info", "--json"], env=cli_env(cli, 1))
    try:
        info: Any = json.loads(info_txt)
    except json.JSONDecodeError:
        info = info_txt
    return {
        "command": command,
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": model,
        "cpu_description": cpuinfo.describe(),
        "cpus": os.cpu_count(),
        "avx512f": "avx512f" in flags,
        "avx2": "avx2" in flags,
        "kernel": platform.release(),
        "lscpu": lscpu,
        "python": platform.python_version(),
        "versions": versions,
        "ruvector_cli": str(cli),
        "ruvector_version": sh([str(cli), "--version"], env=cli_env(cli, 1)),
        "ruvector_info": info,
        "git_head": sh(["git", "-C", str(REPO), "rev-parse", "HEAD"]),
        "ruvector_commit": snapshot_commit(cli),
        "loadavg_start": Path("/proc/loadavg").read_text().strip(),
    }


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip the 1M datasets")
    ap.add_argument("--large", action="store_true", help="also the 1M x 384 cosine set")
    ap.add_argument("--datasets", help="comma-separated dataset names (overrides --quick/--large)")
    ap.add_argument("--systems", help="comma-separated: ours, faiss, hnswlib, usearch, rabitqlib, ruvector "
                                     "(or full job kinds like faiss-ivf, or one of our index types "
                                     "like ours:flat_f32)")
    ap.add_argument("--all-systems", action="store_true",
                    help="also hnswlib M=32 and ruvector's HnswIndex at 1M")
    ap.add_argument("--ruvector", default=str(REPO / "build" / "tools" / "ruvector"),
                    help="the ruvector CLI (default: ./build/tools/ruvector from scripts/build.sh)")
    ap.add_argument("--cache-dir", default=os.environ.get(
        "RUVECTOR_BENCH_CACHE", str(Path(os.environ.get("XDG_CACHE_HOME", "/tmp")) / "ruvector-bench-data")),
        help="generated data, k-means, results (default $XDG_CACHE_HOME or /tmp, /ruvector-bench-data)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats, median reported")
    ap.add_argument("--nice", type=int, default=0,
                    help="niceness for this run and its children (negative needs root): on a shared "
                         "machine -10 keeps other people's jobs from time-slicing the measured thread")
    ap.add_argument("--results", help="results JSON (default <cache>/results.json)")
    ap.add_argument("--resume", action="store_true", help="keep finished jobs from --results, run the rest")
    ap.add_argument("--redo", action="store_true",
                    help="with --resume: run the selected datasets' jobs again, replacing their points")
    ap.add_argument("--report-only", action="store_true", help="render the docs from --results only")
    ap.add_argument("--doc", default=str(REPO / "docs" / "benchmarks-peers.md"))
    ap.add_argument("--img-dir", default=str(REPO / "docs" / "img"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-dataset", help=argparse.SUPPRESS)
    ap.add_argument("--worker-params", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        return worker_main(args)

    import report

    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    results_path = Path(args.results) if args.results else cache / "results.json"
    if args.report_only:
        report.render(json.loads(results_path.read_text()), Path(args.doc), Path(args.img_dir))
        log(f"wrote {args.doc}")
        return 0

    if args.nice:
        os.nice(args.nice)
    cli = Path(args.ruvector)
    if not os.access(cli, os.X_OK):
        sys.exit(f"run.py: no ruvector CLI at {cli}: run ./scripts/build.sh or pass --ruvector")
    if args.datasets:
        names = args.datasets.split(",")
    else:
        names = ["demo-100k", "embed384-100k"] + ([] if args.quick else ["demo-1m"])
        if args.large:
            names.append("embed384-1m")
    systems = set(args.systems.split(",")) if args.systems else None

    command = "python3 bench/peers/run.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    results: dict[str, Any] = {"meta": {}, "datasets": {}, "points": [], "failures": [], "done": []}
    if args.resume and results_path.exists():
        results = json.loads(results_path.read_text())
    env_now = environment(cli, command)
    runs = results.get("meta", {}).get("runs", [])
    runs.append({"command": command, "started": env_now["started"], "loadavg_start": env_now["loadavg_start"],
                 "repeats": args.repeats, "nice": os.nice(0)})
    results["meta"] = {**results.get("meta", {}), **env_now, "runs": runs}
    results["meta"]["cache_dir"] = str(cache)
    results["meta"]["results_file"] = str(results_path)
    results["meta"]["repeats"] = args.repeats

    def save() -> None:
        tmp = results_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1))
        tmp.replace(results_path)

    for name in names:
        log(f"== dataset {name}")
        ds = bench_data.prepare(name, cache, log)
        results["datasets"][name] = ds.to_json()
        jobs = plan(ds, systems, args.all_systems)
        # Jobs no longer in the (unfiltered) plan, e.g. a sweep changed: their points go.
        keys = {j.key(name) for j in plan(ds, None, True)}
        stale = {p["job"] for p in results["points"] if p["dataset"] == name and p.get("job") not in keys}
        results["points"] = [p for p in results["points"] if p.get("job") not in stale]
        results["done"] = [k for k in results["done"] if k not in stale]
        results["failures"] = [f for f in results["failures"] if f["dataset"] != name or f["key"] in keys]
        save()
        for job in jobs:
            key = job.key(name)
            if key in results["done"] and not args.redo:
                continue
            log(f"-- {name}: {job.kind} {json.dumps(job.params)}")
            t0 = time.perf_counter()
            try:
                if job.kind == "ours":
                    points = run_ours(cli, ds, job.params, cache, args.repeats)
                else:
                    points = run_peer(job, ds, cache, args.repeats)
            except Exception as e:  # a peer that fails is reported, not fatal
                log(f"   FAILED: {e}")
                results["failures"] = [f for f in results["failures"] if f["key"] != key]
                results["failures"].append({"key": key, "dataset": name, "kind": job.kind,
                                            "params": job.params, "error": str(e)})
                save()
                continue
            results["points"] = [p for p in results["points"] if p.get("job") != key]
            for p in points:
                p["job"] = key
                p["job_seconds"] = round(time.perf_counter() - t0, 1)
            results["points"].extend(points)
            results["failures"] = [f for f in results["failures"] if f["key"] != key]
            if key not in results["done"]:
                results["done"].append(key)
            save()
        report.render(results, Path(args.doc), Path(args.img_dir))
    results["meta"]["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    results["meta"]["loadavg_end"] = Path("/proc/loadavg").read_text().strip()
    results["meta"]["runs"][-1].update(finished=results["meta"]["finished"],
                                       loadavg_end=results["meta"]["loadavg_end"],
                                       datasets=names)
    save()
    report.render(results, Path(args.doc), Path(args.img_dir))
    log(f"results: {results_path}\nreport: {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
