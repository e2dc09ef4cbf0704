//! rulake.md §12 measurements on the original crate (T1, T2, T4, T5, T6
//! and recall@10), one JSON line per measurement on stdout.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use ruvector_rabitq::{AnnIndex, RabitqPlusIndex};
use ruvector_rulake::cache::Consistency;
use ruvector_rulake::{FsBackend, LocalBackend, RuLake};
use serde_json::{json, Value};

use crate::data::{recall, Truth};

pub const SYSTEM: &str = "ruvector-rulake 2.3.0 (crates.io)";
pub const K: usize = 10;

pub struct Setup {
    pub base: Vec<Vec<f32>>,
    pub queries: Vec<Vec<f32>>,
    pub dim: usize,
    pub truth: Truth,
    pub rerank: usize,
    pub seed: u64,
    pub reps: usize,
    pub dataset: String,
    /// T2 diagnostic: pause after the warm, before the first search.
    pub settle_ms: u64,
}

pub fn emit(test: &str, mut v: Value) {
    let o = v.as_object_mut().unwrap();
    o.insert("system".into(), json!(SYSTEM));
    o.insert("test".into(), json!(test));
    println!("{}", v);
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn items_of(rows: &[Vec<f32>]) -> Vec<(usize, Vec<f32>)> {
    rows.iter().cloned().enumerate().collect()
}

fn ids_of(n: usize) -> Vec<u64> {
    (0..n as u64).collect()
}

/// A lake over one LocalBackend "b"/"c" holding the whole base, primed.
fn primed_lake(s: &Setup, consistency: Consistency) -> RuLake {
    let lake = RuLake::new(s.rerank, s.seed).with_consistency(consistency);
    let b = Arc::new(LocalBackend::new("b"));
    b.put_collection("c", s.dim, ids_of(s.base.len()), s.base.clone()).unwrap();
    lake.register_backend(b).unwrap();
    lake.search_one("b", "c", &s.queries[0], K).unwrap();
    lake
}

fn qps_of<F: FnMut(&[f32])>(queries: &[Vec<f32>], mut f: F) -> f64 {
    let t = Instant::now();
    for q in queries {
        f(q);
    }
    queries.len() as f64 / t.elapsed().as_secs_f64()
}

/// T1 (lake vs direct index, FRESH and EVENTUAL) and recall@10 at the
/// crate's defaults, plus a rerank sweep on the direct index.
pub fn t1_and_recall(s: &Setup) {
    let t = Instant::now();
    let direct = RabitqPlusIndex::from_vectors_parallel(s.dim, s.seed, s.rerank, items_of(&s.base)).unwrap();
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let fresh = primed_lake(s, Consistency::Fresh);
    let eventual = primed_lake(s, Consistency::Eventual { ttl_ms: 60_000 });

    // Warm-up pass on each, then interleaved repeats so that load drift
    // hits all three alike.
    let (mut qd, mut qf, mut qe) = (Vec::new(), Vec::new(), Vec::new());
    for rep in 0..=s.reps {
        let d = qps_of(&s.queries, |q| {
            direct.search(q, K).unwrap();
        });
        let f = qps_of(&s.queries, |q| {
            fresh.search_one("b", "c", q, K).unwrap();
        });
        let e = qps_of(&s.queries, |q| {
            eventual.search_one("b", "c", q, K).unwrap();
        });
        if rep > 0 {
            qd.push(d);
            qf.push(f);
            qe.push(e);
        }
    }
    let (md, mf, me) = (median(qd.clone()), median(qf.clone()), median(qe.clone()));
    emit(
        "T1",
        json!({"n": s.base.len(), "dim": s.dim, "k": K, "rerank": s.rerank, "queries": s.queries.len(),
               "reps": s.reps, "direct_qps": md, "fresh_qps": mf, "eventual_qps": me,
               "overhead_fresh": md / mf, "overhead_eventual": md / me,
               "direct_qps_all": qd, "fresh_qps_all": qf, "eventual_qps_all": qe,
               "direct_build_ms": build_ms,
               "note": "overhead = direct RabitqPlusIndex.search QPS / primed LocalBackend search_one QPS, 1 thread"}),
    );

    // Recall@10 at the defaults (rerank 20, k = 10) through the lake and
    // the direct index (they must agree: same code path underneath).
    let ids_lake: Vec<Vec<u64>> = s
        .queries
        .iter()
        .map(|q| fresh.search_one("b", "c", q, K).unwrap().iter().map(|r| r.id).collect())
        .collect();
    let ids_direct: Vec<Vec<u64>> = s
        .queries
        .iter()
        .map(|q| direct.search(q, K).unwrap().iter().map(|r| r.id as u64).collect())
        .collect();
    let (rl, rl_ids) = recall(&s.base, &s.queries, &s.truth, &ids_lake, K);
    let (rd, _) = recall(&s.base, &s.queries, &s.truth, &ids_direct, K);
    emit(
        "recall",
        json!({"n": s.base.len(), "k": K, "rerank": s.rerank, "via": "RuLake.search_one (Fresh)",
               "recall_at_10": rl, "recall_at_10_id_overlap": rl_ids, "direct_index_recall_at_10": rd,
               "qps": mf, "dataset": s.dataset}),
    );

    // Sweep of the rerank factor on the direct index (the lake adds only
    // T1's overhead on top), for a recall-vs-QPS curve: recall at equal
    // QPS against ours is read off it.
    for rf in [1usize, 5, 10, 20, 50, 100] {
        let mut qs = Vec::new();
        let mut res = Vec::new();
        for rep in 0..=s.reps.min(3) {
            let mut out = Vec::new();
            let q = qps_of(&s.queries, |q| {
                out.push(direct.search_with_rerank(q, K, rf).unwrap().iter().map(|r| r.id as u64).collect::<Vec<u64>>());
            });
            if rep > 0 {
                qs.push(q);
            }
            res = out;
        }
        let (r, r_ids) = recall(&s.base, &s.queries, &s.truth, &res, K);
        emit(
            "recall_sweep",
            json!({"n": s.base.len(), "k": K, "rerank": rf, "recall_at_10": r, "recall_at_10_id_overlap": r_ids,
                   "qps": median(qs), "via": "RabitqPlusIndex.search_with_rerank (direct)"}),
        );
    }
}

/// T4: the base split into S contiguous shards (one LocalBackend each),
/// `search_federated` at its defaults (adaptive per-shard rerank, k').
pub fn t4(s: &Setup, shard_counts: &[usize]) {
    for &shards in shard_counts {
        let lake = RuLake::new(s.rerank, s.seed).with_consistency(Consistency::Eventual { ttl_ms: 600_000 });
        let n = s.base.len();
        let chunk = n.div_ceil(shards);
        let mut targets = Vec::new();
        for sh in 0..shards {
            let (lo, hi) = (sh * chunk, ((sh + 1) * chunk).min(n));
            let id = format!("shard-{sh}");
            let b = Arc::new(LocalBackend::new(&id));
            b.put_collection("c", s.dim, (lo as u64..hi as u64).collect(), s.base[lo..hi].to_vec())
                .unwrap();
            lake.register_backend(b).unwrap();
            targets.push((id, "c".to_string()));
        }
        let tr: Vec<(&str, &str)> = targets.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let t = Instant::now();
        lake.search_federated(&tr, &s.queries[0], K).unwrap();
        let prime_ms = t.elapsed().as_secs_f64() * 1e3;
        let mut qs = Vec::new();
        let mut res = Vec::new();
        for rep in 0..=s.reps {
            let mut out = Vec::new();
            let q = qps_of(&s.queries, |q| {
                out.push(lake.search_federated(&tr, q, K).unwrap().iter().map(|r| r.id).collect::<Vec<u64>>());
            });
            if rep > 0 {
                qs.push(q);
            }
            res = out;
        }
        let (r, r_ids) = recall(&s.base, &s.queries, &s.truth, &res, K);
        emit(
            "T4",
            json!({"n": n, "shards": shards, "k": K, "rerank_global": s.rerank,
                   "rerank_per_shard": if shards > 1 { (s.rerank / shards).max(5) } else { s.rerank },
                   "recall_at_10": r, "recall_at_10_id_overlap": r_ids, "qps": median(qs.clone()), "qps_all": qs,
                   "prime_ms_parallel": prime_ms, "consistency": "Eventual(600 s), primed",
                   "note": "search_federated defaults; shard fan-out on the rayon pool (2 vCPUs)"}),
        );
    }
}

/// T4, concurrency: hits on a primed EVENTUAL lake (one collection, the
/// whole base) from 1 and then 2 client threads, each running every query;
/// total QPS and the ratio (rulake.md §12: ≥ 1.8× for ours).
pub fn t4_concurrent(s: &Setup) {
    let lake = primed_lake(s, Consistency::Eventual { ttl_ms: 600_000 });
    let mut by_threads = Vec::new();
    for threads in [1usize, 2] {
        let mut qs = Vec::new();
        for rep in 0..=s.reps {
            let t = Instant::now();
            std::thread::scope(|sc| {
                for _ in 0..threads {
                    sc.spawn(|| {
                        for q in &s.queries {
                            lake.search_one("b", "c", q, K).unwrap();
                        }
                    });
                }
            });
            let q = (threads * s.queries.len()) as f64 / t.elapsed().as_secs_f64();
            if rep > 0 {
                qs.push(q);
            }
        }
        by_threads.push((threads, median(qs.clone()), qs));
    }
    emit(
        "T4_concurrent",
        json!({"n": s.base.len(), "k": K, "rerank": s.rerank, "qps_1_thread": by_threads[0].1,
               "qps_2_threads": by_threads[1].1, "ratio_2_over_1": by_threads[1].1 / by_threads[0].1,
               "qps_1_thread_all": by_threads[0].2, "qps_2_threads_all": by_threads[1].2,
               "note": "search_one hits, Eventual(600 s), one shared lake"}),
    );
}

/// T5: prime through the lake (pull + build, timed as the cold first
/// search, and the crate's own last_prime_ms) vs a bare index build from
/// the same arrays with the same constructor.
pub fn t5(s: &Setup) {
    let (mut bare, mut cold, mut stat) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..s.reps.max(1) {
        let items = items_of(&s.base);
        let t = Instant::now();
        let idx = RabitqPlusIndex::from_vectors_parallel(s.dim, s.seed, s.rerank, items).unwrap();
        bare.push(t.elapsed().as_secs_f64() * 1e3);
        drop(idx);

        let lake = RuLake::new(s.rerank, s.seed);
        let b = Arc::new(LocalBackend::new("b"));
        b.put_collection("c", s.dim, ids_of(s.base.len()), s.base.clone()).unwrap();
        lake.register_backend(b).unwrap();
        let t = Instant::now();
        lake.search_one("b", "c", &s.queries[0], K).unwrap();
        cold.push(t.elapsed().as_secs_f64() * 1e3);
        stat.push(lake.cache_stats().last_prime_ms);
    }
    let (b, c) = (median(bare.clone()), median(cold.clone()));
    emit(
        "T5",
        json!({"n": s.base.len(), "bare_build_ms": b, "prime_ms": c, "ratio": c / b,
               "crate_last_prime_ms": median(stat.clone()), "bare_build_ms_all": bare, "prime_ms_all": cold,
               "note": "bare = RabitqPlusIndex::from_vectors_parallel on prepared items; prime = first search_one on a cold LocalBackend (pull clone + build + search)"}),
    );
}

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for l in s.lines() {
        if let Some(v) = l.strip_prefix("VmRSS:") {
            return v.trim().trim_end_matches("kB").trim().parse::<u64>().unwrap_or(0) * 1024;
        }
    }
    0
}

/// T6 (run in a child process for a clean RSS): the crate has no byte
/// budget, only `with_max_cache_entries`. Prime three collections of n/3
/// rows each under a cap of 1 entry and report entries kept and the RSS
/// growth against the indexes' own `memory_bytes()`.
pub fn t6_child(s: &Setup) {
    let n3 = s.base.len() / 3;
    let lake = RuLake::new(s.rerank, s.seed)
        .with_consistency(Consistency::Eventual { ttl_ms: 600_000 })
        .with_max_cache_entries(1);
    let mut backends = Vec::new();
    for i in 0..3 {
        let b = Arc::new(LocalBackend::new(format!("b{i}")));
        b.put_collection("c", s.dim, ids_of(n3), s.base[i * n3..(i + 1) * n3].to_vec()).unwrap();
        lake.register_backend(b.clone()).unwrap();
        backends.push(b);
    }
    // One bare index of n/3 rows gives the per-entry size the crate
    // would count if it counted bytes.
    let bare = RabitqPlusIndex::from_vectors_parallel(s.dim, s.seed, s.rerank, items_of(&s.base[..n3])).unwrap();
    let entry_bytes = bare.memory_bytes() as u64;
    drop(bare);
    let rss0 = rss_bytes();
    let mut after = Vec::new();
    for i in 0..3 {
        lake.search_one(&format!("b{i}"), "c", &s.queries[0], K).unwrap();
        after.push(json!({"primed": i + 1, "entries": lake.cache_entry_count(), "rss_delta_bytes": rss_bytes() as i64 - rss0 as i64}));
    }
    let rss_delta = rss_bytes() as i64 - rss0 as i64;
    emit(
        "T6",
        json!({"rows_per_collection": n3, "max_cache_entries": 1, "entries_after_3_primes": lake.cache_entry_count(),
               "entry_memory_bytes": entry_bytes, "budget_bytes": Value::Null,
               "rss_delta_bytes": rss_delta, "rss_delta_over_entry_bytes": rss_delta as f64 / entry_bytes as f64,
               "steps": after,
               "note": "no byte budget exists in the crate; the entry cap does not evict pinned entries, so all 3 stay resident"}),
    );
}

/// T2, writer half: an FsBackend (ruvec1) collection, primed and saved
/// with save_cache_to_dir; then a new process warms and searches.
pub fn t2(s: &Setup, exe: &Path, args_tail: &[String]) {
    let root = std::env::temp_dir().join(format!("rulake-peer-t2-{}", std::process::id()));
    let data = root.join("data");
    let cache = root.join("cache");
    let _ = std::fs::remove_dir_all(&root);
    let fs = Arc::new(FsBackend::new("fs", &data).unwrap());
    fs.write("c", "base.ruvec1", s.dim, &ids_of(s.base.len()), &s.base).unwrap();
    let lake = RuLake::new(s.rerank, s.seed);
    lake.register_backend(fs).unwrap();
    lake.search_one("fs", "c", &s.queries[0], K).unwrap();
    let t = Instant::now();
    lake.save_cache_to_dir(&("fs".to_string(), "c".to_string()), &cache).unwrap();
    let save_ms = t.elapsed().as_secs_f64() * 1e3;
    drop(lake);
    for run in 0..s.reps.max(1) {
        let out = Command::new(exe)
            .arg("t2-child")
            .arg(&root)
            .args(args_tail)
            .output()
            .expect("spawn t2-child");
        if !out.status.success() {
            emit("T2", json!({"error": String::from_utf8_lossy(&out.stderr)}));
            break;
        }
        let mut v: Value = serde_json::from_slice(&out.stdout).expect("t2-child json");
        v["run"] = json!(run);
        v["save_ms"] = json!(save_ms);
        emit("T2", v);
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// T2, reader half (new process): FsBackend registered, FRESH, warm
/// from the cache directory, first search, then the steady-state p50.
pub fn t2_child(s: &Setup, root: &PathBuf) {
    let fs = Arc::new(FsBackend::new("fs", root.join("data")).unwrap());
    fs.register("c", "base.ruvec1").unwrap();
    let lake = RuLake::new(s.rerank, s.seed);
    lake.register_backend(fs).unwrap();
    let t = Instant::now();
    let rows = lake.warm_from_dir(&("fs".to_string(), "c".to_string()), root.join("cache")).unwrap();
    let warm_ms = t.elapsed().as_secs_f64() * 1e3;
    // Diagnostic only (default 0): a pause between the warm and the first
    // search, to tell rayon's still-spinning workers from pre-emption.
    if s.settle_ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(s.settle_ms));
    }
    let t = Instant::now();
    lake.search_one("fs", "c", &s.queries[1], K).unwrap();
    let first_us = t.elapsed().as_secs_f64() * 1e6;
    let stats = lake.cache_stats();
    let mut lat = Vec::new();
    for q in s.queries.iter().cycle().take(s.queries.len() * 2) {
        let t = Instant::now();
        lake.search_one("fs", "c", q, K).unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let p50 = median(lat);
    println!(
        "{}",
        json!({"n": rows, "warm_from_dir_ms": warm_ms, "first_search_us": first_us, "steady_p50_us": p50,
               "ratio_first_over_p50": first_us / p50, "primes_after_first": stats.primes,
               "warm_installs": stats.warm_installs, "settle_ms": s.settle_ms, "consistency": "Fresh", "backend": "FsBackend (ruvec1)",
               "note": "warm_from_dir replays the index build from index.rbpx (the crate stores vectors, not codes)"})
    );
}
