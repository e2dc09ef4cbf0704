"""Ctrl-C stops a long build, add or search_batch: the engine call is canceled
(it frees what it allocated and leaves the index as it was) and
KeyboardInterrupt arrives, instead of waiting for the call to finish.

Each case runs in a child process that sizes its work to take about 60 s on
the machine at hand (from a timed small run; builds and adds are capped by
memory), sends itself SIGINT 0.3 s into the long call, and reports what
happened. The bound on the time from signal to exception is deliberately
loose (20 s): the point is that the interrupt arrives mid-call and the
index is intact afterwards. Without the cancellation the calls finish first
(the add case also fails on the index having changed)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from typing import Any, Dict

import numpy as np
import pytest

import ruvector
from conftest import gaussian

CHILD = r"""
import json, os, signal, sys, threading, time
import numpy as np
import ruvector

case = sys.argv[1]
dim = 32
rng = np.random.default_rng(5)

def data(n):
    return rng.standard_normal((n, dim), dtype=np.float32)

def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t

def scale(seconds, cap):
    # how many times the timed unit fits in ~60 s (at least 6, at most cap:
    # memory); well past the 20 s bound, so a call that cannot be
    # interrupted fails the test instead of finishing inside the bound
    return int(min(cap, max(6.0, 60.0 / max(seconds, 1e-3))))

def interrupted(call):
    # runs call with SIGINT sent 0.3 s in; returns (how, seconds signal -> exception)
    sent = []
    def fire():
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)
    timer = threading.Timer(0.3, fire)
    timer.start()
    try:
        call()
        how = "finished"
    except KeyboardInterrupt:
        how = "KeyboardInterrupt"
    took = time.perf_counter() - sent[0] if sent else -1.0
    timer.join()
    return how, took

out = {}
if case == "build":
    n0 = 20000
    unit = data(n0)
    t = timed(lambda: ruvector.RabitqIndex.build(unit, nlist=256))
    big = data(n0 * scale(t, 60))
    out["how"], out["took"] = interrupted(lambda: ruvector.RabitqIndex.build(big, nlist=256))
    small = ruvector.RabitqIndex.build(unit, nlist=64)  # the engine still builds
    out["after"] = len(small) == n0
elif case == "add":
    base = data(20000)
    idx = ruvector.RabitqIndex.build(base, nlist=256)
    q = data(100)
    ids0, sc0 = idx.search_batch(q, 10, nprobe=16)
    unit = data(20000)
    scratch = ruvector.RabitqIndex.build(base, nlist=256)
    t = timed(lambda: scratch.add(np.arange(10**6, 10**6 + len(unit), dtype=np.uint64), unit))
    big = data(20000 * scale(t, 60))
    more_ids = np.arange(10**7, 10**7 + len(big), dtype=np.uint64)
    out["how"], out["took"] = interrupted(lambda: idx.add(more_ids, big))
    ids1, sc1 = idx.search_batch(q, 10, nprobe=16)
    same = len(idx) == 20000 and (ids0 == ids1).all() and (sc0 == sc1).all()
    idx.add(np.arange(10**6, 10**6 + len(unit), dtype=np.uint64), unit)
    out["after"] = bool(same) and len(idx) == 40000
elif case in ("search_flat", "search_rabitq"):
    base = data(100000)
    if case == "search_flat":
        idx = ruvector.FlatF32Index.build(base)
    else:
        idx = ruvector.RabitqPlusIndex.build(base, nlist=64, nprobe=64)
    q = data(200)
    t = timed(lambda: idx.search_batch(q, 10))
    big = data(200 * scale(t, 2000))
    ids0, sc0 = idx.search_batch(q[:50], 10)
    out["how"], out["took"] = interrupted(lambda: idx.search_batch(big, 10))
    ids1, sc1 = idx.search_batch(q[:50], 10)
    out["after"] = bool((ids0 == ids1).all() and (sc0 == sc1).all()) and len(idx) == 100000
print(json.dumps(out), flush=True)
"""


def run_child(case: str) -> Dict[str, Any]:
    p = subprocess.run(
        [sys.executable, "-c", CHILD, case], capture_output=True, text=True, timeout=600
    )
    assert p.returncode == 0, p.stderr[-3000:]
    result: Dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("case", ["build", "add", "search_flat", "search_rabitq"])
def test_ctrl_c_interrupts_the_call(case: str) -> None:
    r = run_child(case)
    print(case, r)
    assert r["how"] == "KeyboardInterrupt", r
    assert 0.0 <= r["took"] < 20.0, r
    assert r["after"] is True, r


class Alarm(Exception):
    pass


def _raise_alarm(signum: int, frame: object) -> None:
    raise Alarm()


def test_any_signal_handler_that_raises_stops_a_batch() -> None:
    """Not only KeyboardInterrupt: a SIGALRM handler that raises (a timeout)
    stops a long flat batch the same way, in this process."""
    base = gaussian(50000, 32, seed=3)
    idx = ruvector.FlatF32Index.build(base)
    q = gaussian(200, 32, seed=4)
    t = time.perf_counter()
    idx.search_batch(q, 10)
    unit = time.perf_counter() - t
    big = np.tile(q, (int(min(2000.0, max(6.0, 60.0 / max(unit, 1e-3)))), 1))
    before = idx.search_batch(q[:20], 10)
    old = signal.signal(signal.SIGALRM, _raise_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t = time.perf_counter()
        with pytest.raises(Alarm):
            idx.search_batch(big, 10)
        assert time.perf_counter() - t < 20.3  # the full batch would take ~60 s
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    after = idx.search_batch(q[:20], 10)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
