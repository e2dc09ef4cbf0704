//! Bundle interop: write bundles with the crate's own writers, read a
//! bundle directory with the crate's reader, and print the crate's
//! witnesses for rulake.md §6.1's vectors.

use std::path::Path;
use std::sync::Arc;

use ruvector_rulake::cache::Consistency;
use ruvector_rulake::{FsBackend, Generation, LocalBackend, RuLake, RuLakeBundle};
use serde_json::{json, Value};

/// rulake.md §6's example collection: ids 7, 42, 99, 2000, dim 4.
fn spec_example() -> (Vec<u64>, Vec<Vec<f32>>) {
    (
        vec![7, 42, 99, 2000],
        vec![
            vec![1.0, 2.0, 3.0, 4.0],
            vec![0.5, -0.5, 0.25, -0.25],
            vec![-1.0, -2.0, -3.0, -4.0],
            vec![8.0, 16.0, 32.0, 64.0],
        ],
    )
}

/// `kind`:
/// - `local`: LocalBackend `hot-shard`/`docs` → `publish_bundle(out)`
///   (sidecar only; rulake.md §6's example when no rows are given, whose
///   v1 witness the spec gives as cfbc83a2…).
/// - `fs`: FsBackend rooted at `out` (file `docs.ruvec1`), primed, then
///   `save_cache_to_dir(out)`: `docs.ruvec1`, `index.rbpx` and
///   `table.rulake.json` side by side.
pub fn write_bundle(kind: &str, out: &Path, rows: Option<(usize, Vec<Vec<f32>>)>, seed: u64, rerank: usize) -> Result<Value, String> {
    let (dim, ids, vecs) = match rows {
        Some((d, v)) => (d, (0..v.len() as u64).collect::<Vec<u64>>(), v),
        None => {
            let (i, v) = spec_example();
            (4, i, v)
        }
    };
    let e = |x: ruvector_rulake::RuLakeError| x.to_string();
    std::fs::create_dir_all(out).map_err(|x| x.to_string())?;
    let lake = RuLake::new(rerank, seed);
    let key = ("hot-shard".to_string(), "docs".to_string());
    match kind {
        "local" => {
            let b = Arc::new(LocalBackend::new("hot-shard"));
            b.put_collection("docs", dim, ids.clone(), vecs.clone()).map_err(e)?;
            lake.register_backend(b).map_err(e)?;
            lake.publish_bundle(&key, out).map_err(e)?;
        }
        "fs" => {
            let b = Arc::new(FsBackend::new("hot-shard", out).map_err(e)?);
            b.write("docs", "docs.ruvec1", dim, &ids, &vecs).map_err(e)?;
            lake.register_backend(b).map_err(e)?;
            lake.search_one("hot-shard", "docs", &vecs[0], 1).map_err(e)?;
            lake.save_cache_to_dir(&key, out).map_err(e)?;
        }
        other => return Err(format!("unknown bundle kind {other:?} (local | fs)")),
    }
    let b = RuLakeBundle::read_from_dir(out).map_err(e)?;
    Ok(json!({"mode": "write-bundle", "kind": kind, "dir": out, "rows": ids.len(), "dim": dim,
              "rvf_witness": b.rvf_witness, "data_ref": b.data_ref, "generation": b.generation,
              "format_version": b.format_version}))
}

/// Read `dir/table.rulake.json` with the crate's reader (witness
/// verified) and count rows the ways the crate can: `warm_from_dir` when
/// `index.rbpx` is there, else a pull through FsBackend when data_ref is
/// a `file://` path. Every failure is reported, not fatal.
pub fn read_bundle(dir: &Path) -> Value {
    let mut out = json!({"mode": "read-bundle", "dir": dir});
    let b = match RuLakeBundle::read_from_dir(dir) {
        Ok(b) => b,
        Err(err) => {
            out["ok"] = json!(false);
            out["error"] = json!(err.to_string());
            return out;
        }
    };
    out["ok"] = json!(true);
    out["witness_verified"] = json!(true);
    out["rvf_witness"] = json!(b.rvf_witness);
    out["format_version"] = json!(b.format_version);
    out["data_ref"] = json!(b.data_ref);
    out["dim"] = json!(b.dim);
    out["rotation_seed"] = json!(b.rotation_seed);
    out["rerank_factor"] = json!(b.rerank_factor);
    out["generation"] = json!(b.generation);
    out["pii_policy"] = json!(b.pii_policy);
    out["lineage_id"] = json!(b.lineage_id);
    out["memory_class"] = json!(b.memory_class);
    let others: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|x| x.ok()).map(|x| x.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    out["files"] = json!(others);

    let key = ("peer".to_string(), "c".to_string());
    if dir.join("index.rbpx").exists() {
        let lake = RuLake::new(b.rerank_factor, b.rotation_seed).with_consistency(Consistency::Frozen);
        match lake.warm_from_dir(&key, dir) {
            Ok(n) => {
                out["rows"] = json!(n);
                out["rows_via"] = json!("warm_from_dir(index.rbpx)");
                // Ids the warmed entry answers with (query = zero vector).
                if let Ok(h) = lake.search_one("peer", "c", &vec![0.0; b.dim], n.min(8)) {
                    out["warm_search_ids"] = json!(h.iter().map(|r| r.id).collect::<Vec<u64>>());
                }
            }
            Err(err) => out["warm_error"] = json!(err.to_string()),
        }
    } else if out["files"].as_array().unwrap().iter().any(|f| f.as_str().unwrap().starts_with("index-")) {
        out["warm_error"] = json!("no index.rbpx (the crate's only cache index name); index-*.idx is not readable by the crate");
    }
    // A file:// data_ref is also pulled (ruvec1 only), whatever the above.
    {
        if let Some(path) = b.data_ref.strip_prefix("file://") {
            let p = Path::new(path);
            match (p.parent(), p.file_name()) {
                (Some(root), Some(name)) => {
                    let name = name.to_string_lossy().into_owned();
                    let pulled = FsBackend::new("peer", root)
                        .and_then(|fs| fs.register("c", name).map(|_| fs))
                        .and_then(|fs| {
                            use ruvector_rulake::BackendAdapter;
                            fs.pull_vectors("c")
                        });
                    match pulled {
                        Ok(batch) => {
                            if out.get("rows").is_none() {
                                out["rows"] = json!(batch.ids.len());
                                out["rows_via"] = json!("FsBackend.pull_vectors(data_ref)");
                            }
                            out["pulled_rows"] = json!(batch.ids.len());
                            out["first_ids"] = json!(batch.ids.iter().take(8).collect::<Vec<_>>());
                            out["fs_generation_now"] = json!(batch.generation);
                        }
                        Err(err) => out["pull_error"] = json!(err.to_string()),
                    }
                }
                _ => out["pull_error"] = json!(format!("data_ref path {path:?} has no parent/file name")),
            }
        }
    }
    if out.get("rows").is_none() {
        out["rows"] = Value::Null;
    }
    out
}

/// The crate's v1 witnesses for the six vectors of rulake.md §6.1 and the
/// spec's example (cfbc83a2…), one JSON line each, with the spec's value.
pub fn witness_vectors() -> Vec<Value> {
    let cases: Vec<(&str, usize, u64, usize, Generation, &str)> = vec![
        ("gs://bucket/x.parquet", 128, 42, 20, Generation::Num(7), "7eac1775d1f76a4db88672655fc64977287ec60eda47c6df3a19bacfd0c038cd"),
        ("x", 1, 0, 1, Generation::Num(7), "1cc8073588bc0c76ef87dd44d7be3440e306a089ca313ba05c2db6710205983b"),
        ("x", 1, 0, 1, Generation::Opaque("\x07\0\0\0\0\0\0\0".into()), "a19518def03e50a5dd1c34204cf5ac2df34051041a358044c078f790cf0a3afc"),
        ("iceberg://catalog/db/table", 384, 0xdead_beef, 5, Generation::Opaque("01JCX7NK6G5R9G1YZ7QH".into()), "6b1a75410b684054ec05c6c717a4e75204419722d5ce64e37ac1a2703c8e940b"),
        ("local://b/c", 8, 42, 20, Generation::Num(1), "aaa52194b87ddea9b60b1df3c8cf6c39b489a6b172454c7ece8a66fffe61816f"),
        ("", 1, 0, 0, Generation::Opaque(String::new()), "8d70cab4edfff48f1375c75a33aa4a59f2f425967eea865ce209222fc1e59c1c"),
        ("local://hot-shard/docs", 4, 42, 20, Generation::Num(1), "cfbc83a2e5561551db0843faa85b920d5bb6fa01f6b7190c61e32db7b9b0d365"),
    ];
    cases
        .into_iter()
        .map(|(d, dim, seed, rr, g, spec)| {
            let w = RuLakeBundle::new(d, dim, seed, rr, g.clone()).rvf_witness;
            json!({"mode": "witness-vectors", "data_ref": d, "dim": dim, "seed": seed, "rerank": rr,
                   "generation": g, "crate": w, "spec": spec, "match": w == spec})
        })
        .collect()
}
