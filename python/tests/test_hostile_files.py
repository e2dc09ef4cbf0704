"""Index files that change or are not files (issue 13, items 1 and 2): a
loaded index does not depend on its file, and a FIFO is refused at once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ruvector

SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np, ruvector
    path, kind = sys.argv[1], sys.argv[2]
    data = np.random.default_rng(1).standard_normal((500, 16)).astype(np.float32)
    cls = getattr(ruvector, kind)
    cls.build(data).save(path)
    idx = ruvector.load_index(path)
    before, scores = idx.search_batch(data[:4], 5)
    os.truncate(path, 64)            # cut short under the loaded index
    ids, again = idx.search_batch(data[:4], 5)
    assert (ids == before).all() and (again == scores).all(), (ids, before)
    with open(path, "wb") as f:     # rewritten in place with other bytes
        f.write(b"x" * 4096)
    assert [h.id for h in idx.search(data[1], 5)] == before[1].tolist()
    print("ok")
    """
)


@pytest.mark.parametrize(
    "kind", ["FlatF32Index", "RabitqIndex", "RabitqPlusIndex", "RabitqAsymIndex"]
)
def test_truncated_or_rewritten_file_does_not_reach_a_loaded_index(
    kind: str, tmp_path: Path
) -> None:
    # In a child: the old behaviour was SIGBUS, which would take pytest down.
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "x.idx"), kind],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.strip() == "ok"


FIFO_SCRIPT = textwrap.dedent(
    """
    import sys, ruvector
    try:
        ruvector.load_index(sys.argv[1])
    except ruvector.IoError as exc:
        print(exc)
    """
)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "index.fifo"
    os.mkfifo(fifo)
    # In a child with a timeout: the old open() blocked for ever, and retried
    # through EINTR, so no signal in this process could have ended it. The
    # timeout is a guard against that hang, not a timing check.
    proc = subprocess.run(
        [sys.executable, "-c", FIFO_SCRIPT, str(fifo)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "not a regular file (a FIFO)" in proc.stdout, proc.stdout
    with pytest.raises(ruvector.IoError, match="a directory"):
        ruvector.FlatF32Index.load(tmp_path)
