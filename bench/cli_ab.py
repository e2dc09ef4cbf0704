#!/usr/bin/env python3
"""Two builds of the ruvector CLI (e.g. an old commit and main) timed against
each other, alternated: `ruvector bench` pinned to CPU 0 at nice -10 (run as
root), 1 thread, the tuned settings bench/peers/run.py runs; each round runs
every case once per CLI, the order flipping between rounds, so that a machine
whose load drifts slows both alike. Prints per-setting recall, median
single-query QPS (the CLI's wall clock) and new / old, then the raw numbers
as one JSON line. Never run in CI.

    python3 bench/cli_ab.py OLD/build/tools/ruvector NEW/build/tools/ruvector ROUNDS CASES_JSON

CASES_JSON: [{"name": "demo-100k 4-bit", "base": ".../base.fvecs", "queries":
".../query200x5.fvecs", "gt": ".../gt100-q200x5.ivecs", "metric": "l2",
"args": ["--type", "rabitq_plus", "--bits", "4", "--nlist", "256", "--nprobe", "2,4,8"]}]
(the query and truth files as bench/peers/run.py writes them into its cache).
Plugins: each CLI's <build>/plugins/kernel-avx2.
"""
import json, os, statistics, subprocess, sys, time
old, new = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3])
cases = json.loads(sys.argv[4])  # [{"name":..., "base":..., "queries":..., "gt":..., "metric":..., "args":[...]}]
os.nice(-10)
def env(cli):
    e = dict(os.environ)
    e["RUVECTOR_PLUGIN_PATH"] = os.path.join(os.path.dirname(os.path.dirname(cli)), "plugins", "kernel-avx2")
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        e[v] = "1"
    return e
res = {}
for r in range(rounds):
    for c in cases:
        order = [("old", old), ("new", new)] if r % 2 == 0 else [("new", new), ("old", old)]
        for tag, cli in order:
            cmd = ["taskset", "-c", "0", cli, "bench", c["base"], c["queries"], "--gt", c["gt"],
                   "--metric", c["metric"], "-k", "10", "--repeats", "3", "--json", "--threads", "1"] + c["args"]
            out = subprocess.run(cmd, env=env(cli), capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"{tag} failed: {out.stderr[-2000:]}")
            j = json.loads(out.stdout)
            for x in j["results"]:
                key = (c["name"], x.get("nprobe"))
                res.setdefault(key, {"old": [], "new": [], "recall": {}})
                res[key][tag].append(x["qps_single"])
                res[key]["recall"][tag] = x["recall@10"]
        print(f"round {r + 1} {c['name']} done {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}", flush=True)
print("| setting | nprobe | recall old / new | QPS old (median) | QPS new (median) | new / old | per-round new/old |")
print("|---|---:|---|---:|---:|---:|---|")
for (name, npr), v in res.items():
    mo, mn = statistics.median(v["old"]), statistics.median(v["new"])
    pr = [n / o for n, o in zip(v["new"], v["old"])]
    print(f"| {name} | {npr} | {v['recall']['old']:.4f} / {v['recall']['new']:.4f} | {mo:,.0f} | {mn:,.0f} | {mn / mo:.2f} | "
          + " ".join(f"{x:.2f}" for x in pr) + " |", flush=True)
print(json.dumps({f"{k[0]}|{k[1]}": v for k, v in res.items()}))
