#!/usr/bin/env python3
"""Two builds of the ruvector CLI (e.g. an old commit and main) timed against
each other, alternated: each round runs every case once per CLI, the order
flipping between rounds, so that a machine whose load drifts slows both
alike. Prints per-setting recall, median QPS and new / old, then the raw
numbers as one JSON line. Never run in CI.

    python3 bench/cli_ab.py OLD/build/tools/ruvector NEW/build/tools/ruvector ROUNDS CASES_JSON
        [--clock wall|cpu] [--nice N] [--tile N] [--work DIR] [--reuse-index]
        [--new-build-args "ARGS"]

--clock wall (default, session 9): `ruvector bench` pinned to CPU 0, 1 thread;
QPS = the CLI's own single-query loop on the wall clock, recall from the CLI.

--clock cpu (session 10): per round and CLI, `ruvector build --threads 1`
pinned to CPU 0 (build CPU and wall seconds), then for every nprobe
`ruvector search --threads 1` over the queries tiled --tile times (or the
case's "tile"), its user CPU time (children's rusage) minus that of a
search of one query on the same file (loading the index), divided by the
queries: CPU-clock QPS of one thread, immune to time the process spent
waiting for the CPU. --reuse-index builds once per CLI and case instead of
every round. Recall@10 is
computed here from the ids the search wrote (tie-tolerant, bench/peers'
rule), so this mode needs numpy (e.g. the peers' venv) and the cases'
"dist" (gt100.dist.fvecs). --new-build-args adds a third build per round,
timed only: the new CLI with extra options (e.g. "--target-recall 0", the
fixed defaults of before, against the default calibrated build).

CASES_JSON: [{"name": "demo-1m 4-bit", "base": ".../base.fvecs", "queries":
".../query.fvecs", "gt": ".../gt100.ivecs", "dist": ".../gt100.dist.fvecs",
"metric": "l2", "args": ["--type", "rabitq_plus", "--bits", "4", "--nlist",
"800", "--nprobe", "2,4,8"]}] (the query and truth files as bench/peers/run.py
writes them into its cache). Plugins: each CLI's <build>/plugins/kernel-avx2 and
kernel-avx512 (session 12; before, avx2 alone).
"""
import argparse, json, os, resource, shlex, statistics, subprocess, sys, time

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("old")
ap.add_argument("new")
ap.add_argument("rounds", type=int)
ap.add_argument("cases")
ap.add_argument("--clock", choices=("wall", "cpu"), default="wall")
ap.add_argument("--nice", type=int, default=-10, help="niceness increment (session 9: -10; session 10: 5)")
ap.add_argument("--tile", type=int, default=5, help="cpu clock: queries repeated this many times")
ap.add_argument("--work", default="/tmp/cli_ab", help="cpu clock: index and id files (outside the repo)")
ap.add_argument("--reuse-index", action="store_true",
                help="cpu clock: build each case's index once per CLI (kept in --work), alternate the searches")
ap.add_argument("--new-build-args", default="", help="cpu clock: a third, timed-only build of the new CLI")
opt = ap.parse_args()
old, new, rounds = opt.old, opt.new, opt.rounds
cases = json.loads(opt.cases)
os.nice(opt.nice)


def env(cli):
    e = dict(os.environ)
    # both x86 kernel plugins: on an AVX-512 machine the engine races them per
    # slot, as a user's install does; elsewhere avx512 does not load
    plugins = os.path.join(os.path.dirname(os.path.dirname(cli)), "plugins")
    e["RUVECTOR_PLUGIN_PATH"] = os.pathsep.join(
        os.path.join(plugins, k) for k in ("kernel-avx2", "kernel-avx512"))
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        e[v] = "1"
    return e


def run(cli, tag, argv, user_only=False):
    """Runs the CLI pinned to CPU 0; returns (stdout, CPU seconds, wall
    seconds). user_only: user CPU alone (loading a 700 MB index costs 0.3-5 s
    of system time that varies run to run with the machine's memory traffic;
    the search itself makes no system calls)."""
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    out = subprocess.run(["taskset", "-c", "0", cli] + argv, env=env(cli), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode:
        sys.exit(f"{tag} failed ({shlex.join(argv)}): {out.stderr[-2000:]}")
    cpu = r1.ru_utime - r0.ru_utime
    if not user_only:
        cpu += r1.ru_stime - r0.ru_stime
    return out.stdout, cpu, wall


def wall_round(r, res):
    for c in cases:
        order = [("old", old), ("new", new)] if r % 2 == 0 else [("new", new), ("old", old)]
        for tag, cli in order:
            argv = ["bench", c["base"], c["queries"], "--gt", c["gt"], "--metric", c["metric"], "-k", "10",
                    "--repeats", "3", "--json", "--threads", "1"] + c["args"]
            j = json.loads(run(cli, tag, argv)[0])
            for x in j["results"]:
                key = (c["name"], x.get("nprobe"))
                res.setdefault(key, {"old": [], "new": [], "recall": {}})
                res[key][tag].append(x["qps_single"])
                res[key]["recall"][tag] = x["recall@10"]
        print(f"round {r + 1} {c['name']} done {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}", flush=True)


# --- cpu clock ---------------------------------------------------------------

def split_args(args):
    """The case's options for `build` and its --nprobe list."""
    build, nprobes, i = [], [], 0
    while i < len(args):
        if args[i] == "--nprobe":
            nprobes = [int(p) for p in args[i + 1].split(",")]
        else:
            build += args[i:i + 2]
        i += 2
    return build, nprobes


_data = {}


def case_data(c):
    """Queries tiled --tile times, a one-query file, and what the recall needs."""
    if c["name"] in _data:
        return _data[c["name"]]
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
    sys.dont_write_bytecode = True
    import numpy as np
    import bench_data as bd
    from pathlib import Path
    q = bd.read_vecs(Path(c["queries"]))
    os.makedirs(opt.work, exist_ok=True)
    stem = os.path.join(opt.work, c["name"].replace(" ", "_"))
    tile = int(c.get("tile", opt.tile))
    tiled, one = stem + f"-q{tile}.fvecs", stem + "-q1.fvecs"
    bd.write_vecs(Path(tiled), np.tile(q, (tile, 1)))
    bd.write_vecs(Path(one), q[:1])
    kth = bd.read_vecs(Path(c["dist"])).astype(np.float64)[:, 9]
    base = bd.read_vecs(Path(c["base"]))

    def recall(ids_path):
        ids = bd.read_vecs(Path(ids_path), np.int32)[: q.shape[0]]
        return bd.tie_tolerant_recall(base, q, ids, kth, c["metric"], 10)

    _data[c["name"]] = (tiled, one, q.shape[0] * tile, recall)
    return _data[c["name"]]


def cpu_round(r, res, builds, loads):
    for c in cases:
        tiled, one, nq, recall = case_data(c)
        bargs, nprobes = split_args(c["args"])
        clis = [("old", old, []), ("new", new, [])]
        if r % 2:
            clis.reverse()
        if opt.new_build_args:
            clis.append(("new+", new, shlex.split(opt.new_build_args)))
        for tag, cli, extra in clis:
            idx = os.path.join(opt.work, f"{tag}.rvx")
            if opt.reuse_index:
                idx = os.path.join(opt.work, f"{tag}-{c['name'].replace(' ', '_')}.rvx")
            if not (opt.reuse_index and os.path.exists(idx)):
                _, bcpu, bwall = run(cli, tag, ["build", c["base"], "-o", idx, "--metric", c["metric"],
                                                "--threads", "1"] + bargs + extra)
                builds.setdefault(c["name"], {}).setdefault(tag, []).append((bcpu, bwall))
            if tag == "new+":
                continue
            _, load_cpu, _ = run(cli, tag, ["search", idx, one, "--threads", "1"], user_only=True)
            loads.setdefault(c["name"], {}).setdefault(tag, []).append(load_cpu)
            for p in nprobes:
                ids = os.path.join(opt.work, f"{tag}-ids.ivecs")
                _, cpu, _ = run(cli, tag, ["search", idx, tiled, "--threads", "1", "--nprobe", str(p),
                                           "--out", ids], user_only=True)
                key = (c["name"], p)
                res.setdefault(key, {"old": [], "new": [], "recall": {}})
                res[key][tag].append((nq - 1) / max(cpu - load_cpu, 1e-9))
                if tag not in res[key]["recall"]:
                    res[key]["recall"][tag] = recall(ids)
        print(f"round {r + 1} {c['name']} done {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}", flush=True)


res, builds, loads = {}, {}, {}
print(f"start {time.strftime('%H:%M:%S')} load {' '.join(f'{x:.1f}' for x in os.getloadavg())} clock {opt.clock}",
      flush=True)
for r in range(rounds):
    (cpu_round(r, res, builds, loads) if opt.clock == "cpu" else wall_round(r, res))
qps = "QPS (user CPU clock)" if opt.clock == "cpu" else "QPS"
print(f"| setting | nprobe | recall old / new | {qps} old (median) | {qps} new (median) | new / old | per-round new/old |")
print("|---|---:|---|---:|---:|---:|---|")
for (name, npr), v in res.items():
    mo, mn = statistics.median(v["old"]), statistics.median(v["new"])
    pr = [n / o for n, o in zip(v["new"], v["old"])]
    print(f"| {name} | {npr} | {v['recall']['old']:.4f} / {v['recall']['new']:.4f} | {mo:,.0f} | {mn:,.0f} | {mn / mo:.2f} | "
          + " ".join(f"{x:.2f}" for x in pr) + " |", flush=True)
if builds:
    print("\n| setting | build | CPU s (median) | wall s (median) | CPU / old | per-round CPU |")
    print("|---|---|---:|---:|---:|---|")
    for name, by in builds.items():
        ocpu = statistics.median(x[0] for x in by["old"])
        for tag, xs in by.items():
            mc = statistics.median(x[0] for x in xs)
            print(f"| {name} | {tag} | {mc:.2f} | {statistics.median(x[1] for x in xs):.2f} | {mc / ocpu:.2f} | "
                  + " ".join(f"{x[0]:.2f}" for x in xs) + " |")
if loads:
    print("\n| setting | index load, user CPU s (median) | per round |")
    print("|---|---|---|")
    for name, by in loads.items():
        print(f"| {name} | " + " / ".join(f"{t} {statistics.median(xs):.2f}" for t, xs in by.items()) + " | "
              + " / ".join(" ".join(f"{x:.2f}" for x in xs) for xs in by.values()) + " |")
print(json.dumps({"qps": {f"{k[0]}|{k[1]}": v for k, v in res.items()}, "builds": builds, "loads": loads}))
print(f"end {time.strftime('%H:%M:%S')} load {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
