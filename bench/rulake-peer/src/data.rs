//! Dataset input (fvecs / ivecs), exact ground truth and recall.

use std::fs;
use std::path::Path;

/// Rows of an `.fvecs` file: per row an i32 dimension, then that many f32
/// (little-endian). `limit` keeps the first rows only.
pub fn read_fvecs(path: &Path, limit: Option<usize>) -> Result<(usize, Vec<Vec<f32>>), String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    let mut off = 0usize;
    let mut dim0 = 0usize;
    while off < bytes.len() {
        if limit.is_some_and(|l| rows.len() >= l) {
            break;
        }
        if off + 4 > bytes.len() {
            return Err(format!("{}: truncated row header at byte {off}", path.display()));
        }
        let d = i32::from_le_bytes(bytes[off..off + 4].try_into().unwrap());
        if d <= 0 || d > 65536 {
            return Err(format!("{}: bad dimension {d} at byte {off}", path.display()));
        }
        let d = d as usize;
        if dim0 == 0 {
            dim0 = d;
        } else if d != dim0 {
            return Err(format!("{}: row {} has dim {d}, expected {dim0}", path.display(), rows.len()));
        }
        let end = off + 4 + 4 * d;
        if end > bytes.len() {
            return Err(format!("{}: truncated row {}", path.display(), rows.len()));
        }
        let row = bytes[off + 4..end]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        rows.push(row);
        off = end;
    }
    if rows.is_empty() {
        return Err(format!("{}: no rows", path.display()));
    }
    Ok((dim0, rows))
}

/// Rows of an `.ivecs` file (same layout with i32 payload).
pub fn read_ivecs(path: &Path) -> Result<Vec<Vec<i32>>, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    let mut off = 0usize;
    while off + 4 <= bytes.len() {
        let d = i32::from_le_bytes(bytes[off..off + 4].try_into().unwrap());
        if d <= 0 {
            return Err(format!("{}: bad row length {d}", path.display()));
        }
        let end = off + 4 + 4 * d as usize;
        if end > bytes.len() {
            return Err(format!("{}: truncated row {}", path.display(), rows.len()));
        }
        rows.push(
            bytes[off + 4..end]
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        );
        off = end;
    }
    Ok(rows)
}

pub fn sq_l2(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Exact answer for one query: the 10th-nearest squared distance (the
/// tie-tolerant threshold) and the exact top-10 row numbers.
pub struct Truth {
    pub kth_dist: Vec<f32>,
    pub top_ids: Vec<Vec<u64>>,
}

/// Ground truth for `k`: from the shipped ivecs when it covers this base
/// (same row count), else by an exact scan in f64.
pub fn ground_truth(
    base: &[Vec<f32>],
    queries: &[Vec<f32>],
    gt: Option<&[Vec<i32>]>,
    k: usize,
) -> Truth {
    let mut kth = Vec::with_capacity(queries.len());
    let mut tops = Vec::with_capacity(queries.len());
    for (qi, q) in queries.iter().enumerate() {
        let ids: Vec<u64> = match gt {
            Some(g) => g[qi][..k].iter().map(|&i| i as u64).collect(),
            None => {
                let mut d: Vec<(f64, u64)> = base
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let s: f64 = v
                            .iter()
                            .zip(q)
                            .map(|(x, y)| {
                                let t = *x as f64 - *y as f64;
                                t * t
                            })
                            .sum();
                        (s, i as u64)
                    })
                    .collect();
                d.select_nth_unstable_by(k - 1, |a, b| a.partial_cmp(b).unwrap());
                d.truncate(k);
                d.sort_by(|a, b| a.partial_cmp(b).unwrap());
                d.into_iter().map(|(_, i)| i).collect()
            }
        };
        let last = ids[k - 1] as usize;
        kth.push(sq_l2(&base[last], q));
        tops.push(ids);
    }
    Truth { kth_dist: kth, top_ids: tops }
}

/// (tie-tolerant recall, id-overlap recall) of `results[q]` (row numbers)
/// against the truth. Tie-tolerant: a returned row is a hit when its exact
/// distance is ≤ the k-th true distance × (1 + 1e-6), as docs/benchmarks-peers.md.
pub fn recall(base: &[Vec<f32>], queries: &[Vec<f32>], truth: &Truth, results: &[Vec<u64>], k: usize) -> (f64, f64) {
    let mut tol_hits = 0usize;
    let mut id_hits = 0usize;
    for (qi, res) in results.iter().enumerate() {
        let thr = truth.kth_dist[qi] * (1.0 + 1e-6);
        for &id in res.iter().take(k) {
            if (id as usize) < base.len() && sq_l2(&base[id as usize], &queries[qi]) <= thr {
                tol_hits += 1;
            }
            if truth.top_ids[qi].contains(&id) {
                id_hits += 1;
            }
        }
    }
    let denom = (results.len() * k) as f64;
    (tol_hits as f64 / denom, id_hits as f64 / denom)
}
