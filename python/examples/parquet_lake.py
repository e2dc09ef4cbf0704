"""ruLake over a Parquet file: the lake keeps a search index of the file's
vectors, checks the file before every search (FRESH consistency), and
rebuilds only when the file changes. Needs pyarrow (pip install pyarrow).

Run:  python examples/parquet_lake.py [/tmp/parquet-lake]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import ruvector


def main(workdir: Path) -> None:
    rng = np.random.default_rng(7)
    ids = np.arange(20_000, dtype=np.uint64) * np.uint64(10)
    vectors = rng.standard_normal((ids.size, 64), dtype=np.float32)
    path = workdir / "docs.parquet"
    # Any Parquet file with an integer id column and a list-of-floats column
    # works (id_column= and vector_column= name them); write() makes one.
    ruvector.ParquetBackend.write(path, ids, vectors)

    backend = ruvector.ParquetBackend("warehouse", {"docs": path})
    with ruvector.RuLake.builder().build() as lake:
        lake.register_backend(backend)
        t0 = time.perf_counter()
        hits = lake.search_one("docs", vectors[42], k=5)  # pulls the file, builds
        print(f"first search {time.perf_counter() - t0:.2f} s:",
              [(h.id, round(h.score, 3)) for h in hits])
        t0 = time.perf_counter()
        hits = lake.search_one("docs", vectors[43], k=5)  # cached: a stat and a search
        print(f"cached search {1e3 * (time.perf_counter() - t0):.2f} ms:", [h.id for h in hits])

        # Rewrite the file: the next search sees it and rebuilds.
        vectors[43] += 50.0
        ruvector.ParquetBackend.write(path, ids, vectors)
        hits = lake.search_one("docs", vectors[43], k=1)
        print("after the rewrite:", hits[0].id, "primes:", lake.cache_stats().primes)

        # Publish a bundle other processes can refresh against or warm from.
        w2 = lake.publish_bundle("docs", out_dir=workdir / "bundle")
        print("bundle:", ruvector.RuLakeBundle.read(workdir / "bundle"), w2[:16])


if __name__ == "__main__":
    if len(sys.argv) > 1:
        out = Path(sys.argv[1])
        out.mkdir(parents=True, exist_ok=True)
        main(out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
