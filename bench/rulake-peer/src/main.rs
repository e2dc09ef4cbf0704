//! rulake-peer: the original ruLake (crates.io `ruvector-rulake` 2.3.0)
//! measured for the side-by-side in docs/benchmarks-rulake.md, and its
//! bundle reader/writer for the interop test. Never built by CI.
//!
//! Usage:
//!   rulake-peer bench --base B.fvecs --queries Q.fvecs [--gt G.ivecs] [--n N]
//!                     [--nq Q] [--rerank 20] [--seed 42] [--reps 3]
//!                     [--shards 1,2,4,8] [--tests T1,T2,T4,T5,T6]
//!                     [--settle-ms 0]   (T2 diagnostic: pause before the first search)
//!   rulake-peer write-bundle --kind local|fs --out DIR [--base B.fvecs --n N]
//!                     [--seed 42] [--rerank 20]
//!   rulake-peer read-bundle DIR
//!   rulake-peer witness-vectors
//!
//! Every result is one JSON line on stdout.

mod bench;
mod bundle_io;
mod data;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

struct Args {
    positional: Vec<String>,
    opts: HashMap<String, String>,
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut a = Args { positional: Vec::new(), opts: HashMap::new() };
    let mut it = argv.iter();
    while let Some(x) = it.next() {
        if let Some(name) = x.strip_prefix("--") {
            let v = it.next().ok_or_else(|| format!("option --{name} needs a value"))?;
            a.opts.insert(name.to_string(), v.clone());
        } else {
            a.positional.push(x.clone());
        }
    }
    Ok(a)
}

impl Args {
    fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.opts.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{name}: not a number: {v:?}")),
        }
    }
    fn path(&self, name: &str) -> Option<PathBuf> {
        self.opts.get(name).map(PathBuf::from)
    }
}

/// Loads the dataset. `queries_only` skips the base and ground truth (the
/// T2 child needs only queries).
fn setup(a: &Args, queries_only: bool) -> Result<bench::Setup, String> {
    let qpath = a.path("queries").ok_or("--queries is required")?;
    let nq: usize = a.num("nq", usize::MAX)?;
    let (qdim, mut queries) = data::read_fvecs(&qpath, None)?;
    queries.truncate(nq);
    let rerank = a.num("rerank", 20usize)?;
    let seed = a.num("seed", 42u64)?;
    let reps = a.num("reps", 3usize)?;
    let settle_ms = a.num("settle-ms", 0u64)?;
    if queries_only {
        return Ok(bench::Setup {
            base: Vec::new(),
            queries,
            dim: qdim,
            truth: data::Truth { kth_dist: Vec::new(), top_ids: Vec::new() },
            rerank,
            seed,
            reps,
            dataset: String::new(),
            settle_ms,
        });
    }
    let bpath = a.path("base").ok_or("--base is required")?;
    let n = a.opts.get("n").map(|v| v.parse::<usize>()).transpose().map_err(|_| "--n: not a number")?;
    let (dim, base) = data::read_fvecs(&bpath, n)?;
    if dim != qdim {
        return Err(format!("base dim {dim} != query dim {qdim}"));
    }
    // The shipped ground truth holds for the full base only; with --n
    // (a prefix) it is recomputed exactly.
    let full_rows = std::fs::metadata(&bpath).map(|m| m.len() as usize / (4 + 4 * dim)).unwrap_or(0);
    let gt = match a.path("gt") {
        Some(p) if base.len() == full_rows => Some(data::read_ivecs(&p)?),
        _ => None,
    };
    let truth = data::ground_truth(&base, &queries, gt.as_deref(), bench::K);
    let dataset = format!(
        "{} (n={}, dim={}, {} queries, truth={})",
        bpath.display(),
        base.len(),
        dim,
        queries.len(),
        if gt.is_some() { "shipped ivecs" } else { "exact scan" }
    );
    Ok(bench::Setup { base, queries, dim, truth, rerank, seed, reps, dataset, settle_ms })
}

fn run(argv: &[String]) -> Result<(), String> {
    let a = parse(argv)?;
    let cmd = a.positional.first().map(String::as_str).unwrap_or("");
    match cmd {
        "bench" => {
            let s = setup(&a, false)?;
            let tests = a.opts.get("tests").cloned().unwrap_or_else(|| "T1,T2,T4,T5,T6".into());
            let shards: Vec<usize> = a
                .opts
                .get("shards")
                .map(String::as_str)
                .unwrap_or("1,2,4,8")
                .split(',')
                .map(|x| x.parse().map_err(|_| format!("--shards: bad count {x:?}")))
                .collect::<Result<_, _>>()?;
            bench::emit(
                "setup",
                json!({"dataset": s.dataset, "rerank": s.rerank, "seed": s.seed, "reps": s.reps,
                       "rayon_threads": std::thread::available_parallelism().map(|x| x.get()).unwrap_or(1)}),
            );
            // Options to hand to child processes (dataset + settings).
            let mut tail = Vec::new();
            for k in ["queries", "nq", "rerank", "seed", "reps", "settle-ms"] {
                if let Some(v) = a.opts.get(k) {
                    tail.push(format!("--{k}"));
                    tail.push(v.clone());
                }
            }
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            for t in tests.split(',') {
                match t {
                    "T1" => bench::t1_and_recall(&s),
                    "T2" => bench::t2(&s, &exe, &tail),
                    "T4" => {
                        bench::t4(&s, &shards);
                        bench::t4_concurrent(&s);
                    }
                    "T5" => bench::t5(&s),
                    "T6" => {
                        let mut args = vec!["t6-child".to_string()];
                        args.extend(argv[1..].iter().cloned());
                        let out = std::process::Command::new(&exe).args(&args).output().map_err(|e| e.to_string())?;
                        print!("{}", String::from_utf8_lossy(&out.stdout));
                        if !out.status.success() {
                            bench::emit("T6", json!({"error": String::from_utf8_lossy(&out.stderr)}));
                        }
                    }
                    other => return Err(format!("--tests: unknown test {other:?}")),
                }
            }
            Ok(())
        }
        "t6-child" => {
            let s = setup(&a, false)?;
            bench::t6_child(&s);
            Ok(())
        }
        "t2-child" => {
            let root = PathBuf::from(a.positional.get(1).ok_or("t2-child ROOT")?);
            let s = setup(&a, true)?;
            bench::t2_child(&s, &root);
            Ok(())
        }
        "write-bundle" => {
            let out = a.path("out").ok_or("--out DIR is required")?;
            let kind = a.opts.get("kind").cloned().unwrap_or_else(|| "local".into());
            let rows = match a.path("base") {
                Some(p) => Some(data::read_fvecs(&p, Some(a.num("n", 1000usize)?))?),
                None => None,
            };
            let v = bundle_io::write_bundle(&kind, &out, rows, a.num("seed", 42u64)?, a.num("rerank", 20usize)?)?;
            println!("{v}");
            Ok(())
        }
        "read-bundle" => {
            let dir = a.positional.get(1).ok_or("read-bundle DIR")?;
            let v = bundle_io::read_bundle(Path::new(dir));
            println!("{v}");
            if v["ok"] == json!(true) {
                Ok(())
            } else {
                Err("the crate's reader rejected the bundle".into())
            }
        }
        "witness-vectors" => {
            let mut all = true;
            for v in bundle_io::witness_vectors() {
                all &= v["match"] == json!(true);
                println!("{v}");
            }
            if all {
                Ok(())
            } else {
                Err("a witness differs from rulake.md §6.1".into())
            }
        }
        _ => Err("usage: rulake-peer bench|write-bundle|read-bundle|witness-vectors ... (see src/main.rs)".into()),
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rulake-peer: {e}");
            ExitCode::FAILURE
        }
    }
}
