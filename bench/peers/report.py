"""Renders the peer benchmark results (the JSON run.py writes) as
docs/benchmarks-peers.md plus one recall-vs-QPS plot per dataset.

Every number in the output comes from the results file; the prose around
them is fixed text or derived from those numbers.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import cpuinfo

LEVELS = (0.90, 0.95, 0.99)
DATASET_ORDER = ("demo-100k", "embed384-100k", "demo-1m", "clustered-1m", "embed384-1m")
SOURCE_MARK = {"memory_bytes": "r", "memory_usage": "r", "serialized": "s", "saved file": "s",
               "RSS delta": "m"}

Point = dict[str, Any]


# --------------------------------------------------------------------------
# Curves and iso-recall


def frontier(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Pareto frontier of (recall, qps): no other point has both higher recall
    and higher QPS. Sorted by recall ascending."""
    best: list[tuple[float, float]] = []
    top_qps = -math.inf
    for r, q in sorted(points, key=lambda p: (-p[0], -p[1])):
        if q > top_qps:
            best.append((r, q))
            top_qps = q
    return sorted(best)


def qps_at(points: list[tuple[float, float]], target: float) -> float | None:
    """QPS at recall `target` along the curve's frontier: log-linear
    interpolation between the frontier points around it; the fastest point
    at or above it when none is below; None when the curve never reaches it."""
    front = frontier([(r, q) for r, q in points if q > 0])
    above = [(r, q) for r, q in front if r >= target]
    if not above:
        return None
    r_hi, q_hi = above[0]  # lowest recall >= target: the fastest such point
    below = [(r, q) for r, q in front if r < target]
    if not below or r_hi == target:
        return q_hi
    r_lo, q_lo = below[-1]
    t = (target - r_lo) / (r_hi - r_lo)
    return math.exp(math.log(q_lo) + t * (math.log(q_hi) - math.log(q_lo)))


def curves(points: list[Point], key: str) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for p in points:
        v = qps_value(p, key)
        if v is not None:
            out.setdefault(p["family"], []).append((p["recall@10"], v))
    return out


def qps_value(p: Point, key: str) -> float | None:
    if key == "single":
        return float(p["qps_single"])
    v = p.get("batch_qps", {}).get(key)
    return float(v) if v is not None else None


# --------------------------------------------------------------------------
# Formatting


def fnum(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "—"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def fratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def family_order(points: list[Point]) -> list[str]:
    seen: list[str] = []
    for p in points:
        if p["family"] not in seen:
            seen.append(p["family"])
    return sorted(seen, key=lambda f: (0 if f.startswith("ours") else 1, seen.index(f)))


def config_text(p: Point) -> str:
    sp = p.get("search_params") or {}
    text = " ".join(f"{k}={v}" for k, v in sp.items())
    if p["system"] == "ours" and p.get("cli_rerank") == -1 and p["build_params"].get("type") == "rabitq_plus":
        text = (text + " rerank=error-bound").strip()
    return text or "—"


# --------------------------------------------------------------------------
# Plot


def plot(name: str, title: str, points: list[Point], path: Path) -> None:
    """Recall vs single-query QPS; each curve in sweep order. Left: the whole
    range; right: recall >= 0.85."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 6.2), gridspec_kw={"width_ratios": [1, 1]})
    fams = family_order(points)
    ours_colors = plt.get_cmap("tab10")
    peer_colors = plt.get_cmap("tab20b")
    markers = "sD^v<>phX*"
    for ax, lo in zip(axes, (0.0, 0.85)):
        io = ip = 0
        for fam in fams:
            pts = [(p["recall@10"], p["qps_single"]) for p in points if p["family"] == fam]
            ours = fam.startswith("ours")
            if ours:
                color, marker, style, width = ours_colors(io % 10), "o", "-", 2.4
                io += 1
            else:
                color, marker, style, width = peer_colors((ip * 3) % 20), markers[ip % len(markers)], "--", 1.2
                ip += 1
            ax.plot([r for r, _ in pts], [q for _, q in pts], marker=marker, linestyle=style, linewidth=width,
                    markersize=5 if ours else 4, color=color, label=fam)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10 (k=10, tie-tolerant)")
        ax.set_xlim(left=lo if lo > 0 else None, right=1.005)
        for lv in LEVELS:
            ax.axvline(lv, color="grey", linewidth=0.6, linestyle=":")
        ax.grid(True, which="both", linewidth=0.3)
    axes[0].set_ylabel("QPS, single-query loop, 1 thread (log)")
    axes[0].set_title("all configurations")
    axes[1].set_title("recall ≥ 0.85")
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.suptitle(f"{title}: recall vs QPS (ours: solid; peers: dashed)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------
# Markdown


def iso_table(points: list[Point], key: str, what: str) -> list[str]:
    cv = curves(points, key)
    best_ours = {lv: best_of(cv, lv, ours=True) for lv in LEVELS}
    lines = [
        f"QPS at iso-recall, {what} (interpolated along each curve; — = never reached). "
        "“ours/this” divides the best of our curves at that recall by this curve.",
        "",
        "| curve | " + " | ".join(f"QPS @{lv:.2f}" for lv in LEVELS) + " | "
        + " | ".join(f"ours/this @{lv:.2f}" for lv in LEVELS) + " |",
        "|---|" + "---:|" * (2 * len(LEVELS)),
    ]
    lines.append("| **best of ours** | " + " | ".join(f"**{fnum(best_ours[lv])}**" for lv in LEVELS)
                 + " | " + " | ".join("" for _ in LEVELS) + " |")
    for fam in family_order(points):
        if fam not in cv:
            continue
        vals = {lv: qps_at(cv[fam], lv) for lv in LEVELS}
        lines.append(f"| {fam} | " + " | ".join(fnum(vals[lv]) for lv in LEVELS) + " | "
                     + " | ".join(fratio(best_ours[lv], vals[lv]) if not fam.startswith("ours") else ""
                                  for lv in LEVELS) + " |")
    return lines


def best_of(cv: dict[str, list[tuple[float, float]]], level: float, ours: bool) -> float | None:
    """The best single curve's QPS at `level` (curves are not mixed)."""
    vals = [qps_at(pts, level) for fam, pts in cv.items() if fam.startswith("ours") == ours]
    return max((v for v in vals if v is not None), default=None)


# Like-for-like pairs: (our curve, peer curve) regexes on the family names.
PAIRS: tuple[tuple[str, str], ...] = (
    (r"^ours flat_f32$", r"^faiss IndexFlat"),
    (r"^ours rabitq IVF\d+ 1-bit$", r"^faiss RR,IVF\d+,RaBitQ1$"),
    (r"^ours rabitq IVF\d+ 1-bit$", r"^rabitqlib IVF\d+ 1-bit$"),
    (r"^ours rabitq IVF\d+ 4-bit$", r"^faiss RR,IVF\d+,RaBitQ4$"),
    (r"^ours rabitq IVF\d+ 4-bit$", r"^rabitqlib IVF\d+ 4-bit$"),
    (r"^ours rabitq_plus", r"^ruvector 0\.1\.4 RabitqIndex$"),
    (r"^ours rabitq_plus", r"^faiss IVF\d+,Flat$"),
    (r"^ours rabitq_plus", r"^rabitqlib IVF\d+ 7-bit$"),
    (r"^ours rabitq_plus", r"^hnswlib M=16$"),
)


def head_to_head(points: list[Point]) -> list[str]:
    """Each pair compared at the highest recall both curves reach."""
    single, batch2 = curves(points, "single"), curves(points, "2")
    bpv = {p["family"]: p["bytes_per_vector"] for p in points}
    lines = [
        "Like-for-like: each pair at the highest recall@10 both curves reach (r*), "
        "QPS interpolated along each curve.",
        "",
        "| ours | peer | max recall ours / peer | r* | QPS single ours / peer | ratio | "
        "batch 2t ours / peer | ratio | B/vector ours / peer |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    fams = family_order(points)
    for ours_re, peer_re in PAIRS:
        for o in (f for f in fams if re.search(ours_re, f)):
            for pf in (f for f in fams if re.search(peer_re, f)):
                ro = max(r for r, _ in single[o])
                rp = max(r for r, _ in single[pf])
                rs = min(ro, rp)
                qo, qp = qps_at(single[o], rs), qps_at(single[pf], rs)
                bo = qps_at(batch2[o], rs) if o in batch2 else None
                bp = qps_at(batch2[pf], rs) if pf in batch2 else None
                lines.append(f"| {o} | {pf} | {ro:.4f} / {rp:.4f} | {rs:.4f} | {fnum(qo)} / {fnum(qp)} | "
                             f"{fratio(qo, qp)} | {fnum(bo)} / {fnum(bp)} | {fratio(bo, bp)} | "
                             f"{fnum(bpv.get(o))} / {fnum(bpv.get(pf))} |")
    return lines


def summary_lines(points: list[Point], key: str, what: str) -> list[str]:
    """Derived statements: best ours vs best peer at each recall level."""
    cv = curves(points, key)
    out = []
    for lv in LEVELS:
        ours = [(qps_at(p, lv), f) for f, p in cv.items() if f.startswith("ours")]
        peers = [(qps_at(p, lv), f) for f, p in cv.items() if not f.startswith("ours")]
        o = max(((q, f) for q, f in ours if q is not None), default=None)
        pr = max(((q, f) for q, f in peers if q is not None), default=None)
        if o is None and pr is None:
            out.append(f"- recall {lv:.2f}, {what}: no system reaches it.")
        elif o is None:
            assert pr is not None
            out.append(f"- recall {lv:.2f}, {what}: **we do not reach it**; best peer {pr[1]} at {fnum(pr[0])} QPS.")
        elif pr is None:
            out.append(f"- recall {lv:.2f}, {what}: only ours reaches it ({o[1]}, {fnum(o[0])} QPS).")
        else:
            verdict = "we lead" if o[0] > pr[0] else "we trail"
            out.append(f"- recall {lv:.2f}, {what}: ours {fnum(o[0])} QPS ({o[1]}) vs best peer "
                       f"{fnum(pr[0])} QPS ({pr[1]}): {o[0] / pr[0]:.2f}× — **{verdict}**.")
    return out


def floor_lines(floors: list[Point]) -> list[str]:
    if not floors:
        return []
    f = floors[-1]["floor_us"]
    return [
        "Python call floor: µs per single-query call on a 1,000-vector index (pinned, 1 thread) — the "
        "binding's own cost, included in each peer's “QPS single” (ours is timed in C): "
        + "; ".join(f"{k} {v:.1f} µs" for k, v in f.items()) + ".",
        "",
    ]


def dataset_section(name: str, ds: dict[str, Any], all_points: list[Point], img_dir: Path, doc: Path) -> list[str]:
    title = ds["title"]
    points = [p for p in all_points if p["system"] != "call-floor"]
    floors = [p for p in all_points if p["system"] == "call-floor"]
    img = img_dir / f"bench-{name}.png"
    plot(name, title, points, img)
    rel = Path("img") / img.name if img_dir.resolve() == (doc.parent / "img").resolve() else img
    lines = [
        f"## {title}",
        "",
        f"{ds['description']}. n = {ds['n']:,}, D = {ds['dim']}, {ds['nq']:,} queries, metric {ds['metric']}, k = 10.",
        "",
        "### Summary (derived from the tables below)",
        "",
        *summary_lines(points, "single", "single query, 1 thread"),
        *summary_lines(points, "2", "batch, 2 threads"),
        "",
        f"![recall vs QPS, {name}]({rel})",
        "",
        "### Every configuration",
        "",
        "QPS single = single-query loop on 1 thread (pinned to CPU 0); batch = all queries in one call "
        "on 1 / 2 threads; build on 2 threads (IVF peers: shared k-means time included); "
        "B/vector: r = index-reported memory, s = serialized/saved index size, m = RSS delta / n. "
        "p99 values near 4,000 µs are the scheduler's time slice: another process ran on CPU 0 "
        "during that query.",
        "",
        *floor_lines(floors),
        "| system | config | recall@10 | QPS single 1t | p99 µs | batch 1t | batch 2t | build s | B/vector |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fam in family_order(points):
        fam_pts = [p for p in points if p["family"] == fam]
        for p in fam_pts:
            b = p.get("batch_qps", {})
            nq_note = f" (first {p['nq']} queries)" if p.get("nq") and p["nq"] != ds["nq"] else ""
            lines.append(
                f"| {fam} | {config_text(p)}{nq_note} | {p['recall@10']:.4f} | {fnum(p['qps_single'])} | "
                f"{fnum(p.get('latency_p99_us'))} | {fnum(b.get('1'))} | {fnum(b.get('2'))} | "
                f"{fnum(p['build_seconds'], 2)} | {fnum(p['bytes_per_vector'])} "
                f"{SOURCE_MARK.get(p['bytes_source'], '?')} |")
    lines += ["", "### Iso-recall", "", *iso_table(points, "single", "single-query loop, 1 thread"), "",
              *iso_table(points, "2", "batch of all queries, 2 threads"), "",
              "### Head to head", "", *head_to_head(points), ""]
    return lines


def cpu_line(meta: dict[str, Any]) -> str:
    """The CPU as the machine reported it when the results were taken (the
    run's lscpu text), not assumed."""
    if meta.get("cpu_description"):
        return str(meta["cpu_description"])
    if isinstance(meta.get("lscpu"), str) and meta["lscpu"]:
        return cpuinfo.describe(meta["lscpu"])
    return str(meta.get("cpu_model", "unknown CPU"))


def render(results: dict[str, Any], doc: Path, img_dir: Path) -> None:
    meta = results.get("meta", {})
    runs = meta.get("runs") or [{k: meta.get(k) for k in ("command", "started", "finished", "loadavg_start",
                                                            "loadavg_end", "repeats")}]
    v = meta.get("versions", {})
    info = meta.get("ruvector_info") if isinstance(meta.get("ruvector_info"), dict) else {}
    kernel = (info or {}).get("kernel", {}).get("name", "?")
    blas = (info or {}).get("blas", "?")
    avx = "AVX-512" if meta.get("avx512f") else ("AVX2 only, no AVX-512" if meta.get("avx2") else "no AVX2")
    # the CPU description names the vector flags itself (and says "no AVX-512")
    flags = "" if meta.get("cpu_description") else f", {avx}"
    built = str(meta.get("ruvector_commit", meta.get("git_head", "?")))
    how = ("a build of that tree as it was, not a frozen snapshot" if built.startswith("working tree")
           else "`bench/peers/build-snapshot.sh`: a `git archive` of that commit, built with scripts/build.sh")
    results_file = meta.get("results_file") or f"{meta.get('cache_dir', '?')}/results.json"
    lines = [
        "# ruvector against its peers",
        "",
        "Generated by `bench/peers/run.py` from the results file "
        f"`{results_file}`; do not edit by hand (re-run, or "
        "`run.py --report-only`). How it measures and its caveats: `bench/peers/README.md`.",
        "",
        "## Machine and versions",
        "",
        f"- Machine: {cpu_line(meta)}, {meta.get('cpus', '?')} vCPUs{flags}; "
        f"Linux {meta.get('kernel', '?')}; Python {meta.get('python', '?')}.",
        f"- ruvector (ours): `{meta.get('ruvector_version', '?')}` built from "
        f"{built if built.startswith('working tree') else built[:40]} ({how}), "
        f"kernel `{kernel}`, BLAS {blas}. Full `ruvector info --json` is in the results file.",
        "- Peers (PyPI, in a separate venv): " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + ".",
        "- The machine is shared with other engineers' builds, tests and benchmarks, which ran during "
        "these runs (load averages below; 2.0 would mean both vCPUs busy): numbers are medians of "
        "repeats after a warm-up, and still noisy. Compare curves, not single points.",
        "",
        "Commands (in order; `--resume` runs add to or redo parts of the same results file):",
        "",
        "```sh",
        "bench/peers/setup.sh",
        *[r["command"] for r in runs],
        "```",
        "",
        "| run | started | finished | datasets | repeats | nice | load avg at start | at end |",
        "|---:|---|---|---|---:|---:|---|---|",
        *[f"| {i + 1} | {r.get('started', '?')} | {r.get('finished', 'unfinished')} | "
          f"{', '.join(r.get('datasets', [])) or '?'} | {r.get('repeats', '?')} | {r.get('nice', 0)} | "
          f"{' '.join(str(r.get('loadavg_start', '?')).split()[:3])} | "
          f"{' '.join(str(r.get('loadavg_end', '?')).split()[:3])} |" for i, r in enumerate(runs)],
        "",
        *[f"- {note}" for note in meta.get("notes", [])],
        *([""] if meta.get("notes") else []),
        "Ours runs through its C CLI (`ruvector bench`: the single-query loop is C); every peer runs "
        "through its Python binding, so each of its single-query calls also pays the Python → C call "
        "(a few µs; it matters only above ~20k QPS). Recall@10 is measured at k = 10 (never truncated "
        "from a larger k), tie-tolerant: a result is a hit if its exact distance is ≤ the 10th ground-truth "
        "distance × (1 + 1e-6).",
        "",
    ]
    points = results.get("points", [])
    names = [n for n in DATASET_ORDER if n in results.get("datasets", {})]
    names += [n for n in results.get("datasets", {}) if n not in names]
    for name in names:
        pts = [p for p in points if p["dataset"] == name]
        if pts:
            lines += dataset_section(name, results["datasets"][name], pts, img_dir, doc)
    fails = results.get("failures", [])
    lines += ["## What could not be run, and what is not measured", ""]
    for f in fails:
        lines.append(f"- {f['dataset']}: `{f['kind']}` {f['params']} failed: {f['error']}")
    if not fails:
        lines.append("- Every planned job of the datasets above ran.")
    missing = [n for n in DATASET_ORDER if n not in names]
    if missing:
        lines.append(f"- Datasets not in this results file: {', '.join(missing)} "
                     "(`--quick` skips the 1M sets; `embed384-1m` needs `--large`).")
    lines += [
        "- ruvector 0.1.4 on PyPI exposes only `RabitqIndex` (its RaBitQ+: symmetric 1-bit scan + exact "
        "rerank) and `HnswIndex` (plus non-index classes); its Flat, sym-only and Asym indexes are Rust-only, "
        "so they are not compared here. It has no batch search and its classes are unsendable: no batch "
        "columns. `RabitqIndex` is L2-only (on the unit-norm cosine set that ranks identically).",
        "- ruvector 0.1.4's `HnswIndex` runs on the 100k sets only (string ids, slow build) unless "
        "`--all-systems`; so does hnswlib M=32 at 1M.",
        "- Not in the plan: faiss HNSW, IVF-PQ, RaBitQ FastScan and refine stages; rabitqlib's other bit "
        "widths and its HNSW/SymQG indexes; estimator-error metrics; on-disk size for the peers.",
        "",
    ]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("\n".join(lines))
