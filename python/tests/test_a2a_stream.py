"""Gate G2 (a2a.md §8, issue 12): the A2A client shares an event loop
without fighting it.

test_stream_no_thread_fight runs, on the default asyncio loop and on
uvloop (skipped, saying why, when uvloop is not installed):
  - 1,000 SSE status updates from the loopback fake peer
    (tests/a2a/fakes, mode "sse_many": the peer writes one about every
    millisecond) consumed with stream_task while two ruLake
    search_one_async workloads (600 sequential queries each on 20,000
    vectors of 64 dimensions, of similar length) run in the same loop;
  - loop debug on with slow_callback_duration = 0.1 s: a handler on the
    asyncio logger must see no slow-callback warning (asserted; see run_g2
    for the retry on an oversubscribed machine);
  - 50 concurrent get_task calls (the plugin's I/O thread, no thread per
    call): the interpreter's and the process's thread counts unchanged
    (asserted);
  - the timing ratio together / slowest alone, medians of 3. The house rule
    is no timing assertions in tests, so the ratio is printed and recorded
    (the test's `g2_ratio` property and, when RUVECTOR_G2_RECORD names a
    file, a JSON line there); RUVECTOR_G2_ENFORCE=1 turns the 1.2x bound
    into an assertion for benchmark runs on a quiet machine.
Also here: cancelling an awaiting call aborts its transfer in the plugin,
and an A2aClient refuses a second running loop."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import statistics
import threading
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import numpy as np
import pytest

import ruvector
from ruvector import LocalBackend, RuLake
from ruvector.a2a import A2aClient, TaskSpec

from a2a_support import FakePeer
from a2a_support import engine, fake  # noqa: F401  (fixtures)

N_UPDATES = 1000
N_ROWS = 20_000
N_QUERIES = 600
SLOW_CALLBACK_S = 0.1


def os_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1


class SlowCallbacks(logging.Handler):
    """Collects the asyncio logger's slow-callback / blocked-loop warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "took" in msg or "slow" in msg.lower() or "blocked" in msg.lower():
            self.seen.append(msg)


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        import uvloop  # noqa: PLC0415 (checked by the caller)

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()


def make_lake() -> Tuple[RuLake, np.ndarray]:
    rng = np.random.default_rng(7)
    ids = np.arange(N_ROWS, dtype=np.uint64) + np.uint64(1)
    vecs = rng.standard_normal((N_ROWS, 64), dtype=np.float32)
    hot = LocalBackend("g2")
    hot.upsert("docs", ids, vecs)
    lake = RuLake.builder().build()
    lake.register_backend(hot)
    lake.search_one("docs", vecs[0], k=10)  # primed
    return lake, vecs


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    t0 = time.perf_counter()
    await work()
    return time.perf_counter() - t0


class G2:
    """The three workloads of gate G2 on one client and one lake."""

    def __init__(self, client: A2aClient, lake: RuLake, vecs: np.ndarray,
                 text: str = "g2", expect: int = N_UPDATES + 2) -> None:
        # The fake's sse_many stream: the task, 1,000 updates, COMPLETED;
        # an SDK peer's "many:1000" one: the task, WORKING, 1,000 more,
        # the artifact, COMPLETED.
        self.client, self.lake, self.vecs = client, lake, vecs
        self.text, self.expect = text, expect

    async def stream(self) -> None:
        got = 0
        async for _ in self.client.stream_task(TaskSpec(skill="echo", input=self.text)):
            got += 1
        assert got == self.expect

    async def lake_work(self, offset: int) -> None:
        for i in range(N_QUERIES):
            hits = await self.lake.search_one_async("docs", self.vecs[(offset + i) % N_ROWS], k=10)
            assert hits

    async def together(self, r: int) -> None:
        await asyncio.gather(self.stream(), self.lake_work(r), self.lake_work(1000 + r))

    async def medians(self) -> Dict[str, float]:
        await self.stream()  # warm-up (threads, caches)
        await self.lake_work(0)
        runs: Dict[str, List[float]] = {"stream": [], "lake1": [], "lake2": [], "together": []}
        for r in range(3):
            runs["stream"].append(await timed(self.stream))
            runs["lake1"].append(await timed(lambda: self.lake_work(r)))
            runs["lake2"].append(await timed(lambda: self.lake_work(1000 + r)))
            runs["together"].append(await timed(lambda: self.together(r)))
        return {k: statistics.median(v) for k, v in runs.items()}

    async def checked(self) -> None:
        """The gate's run once more, then 50 concurrent unary calls on the
        plugin's I/O thread: no thread per call (counted after one call,
        which may start that thread)."""
        await self.together(7)
        task = await self.client.send_task(TaskSpec(skill="echo", input="t"))
        await self.client.get_task(task.id)
        # Engines that earlier test modules left unreachable close when the
        # garbage collector finds them, joining their I/O threads: collect
        # them now, and not during the count.
        gc.collect()
        gc.disable()
        try:
            await self._count_threads(task.id)
        finally:
            gc.enable()

    async def _count_threads(self, task_id: str) -> None:
        py_before, os_before = threading.active_count(), os_threads()
        peak = [os_before]

        async def sample() -> None:
            for _ in range(50):
                peak[0] = max(peak[0], os_threads())
                await asyncio.sleep(0.001)

        sampler = asyncio.ensure_future(sample())
        # Started one per loop turn: in debug mode each new task records its
        # stack, and 50 in one callback would itself be a slow callback.
        calls = []
        for _ in range(50):
            calls.append(asyncio.ensure_future(self.client.get_task(task_id)))
            await asyncio.sleep(0)
        res = await asyncio.gather(*calls)
        await sampler
        assert all(t.id == task_id for t in res)
        assert threading.active_count() == py_before
        assert os_threads() == os_before
        assert peak[0] == os_before


def run_g2(kind: str, fake: FakePeer, engine: ruvector.Engine,
           record_property: Callable[[str, object], None]) -> None:
    fake.control("sse_many")
    try:
        run_g2_at(kind, fake.url, engine, record_property)
    finally:
        fake.control()


def run_g2_at(kind: str, url: str, engine: ruvector.Engine,
              record_property: Callable[[str, object], None], protocol: str = "auto",
              text: str = "g2", expect: int = N_UPDATES + 2, what: str = "") -> None:
    """Gate G2 against the peer at url (the fake in sse_many mode, or an SDK
    peer streaming "many:1000"). Timing first with loop debug off (debug
    mode's own bookkeeping would distort it), then the asserted run with
    debug on. On an oversubscribed machine (load average above the CPU
    count) a slow callback can be the scheduler's, not the loop's: the debug
    run is then tried up to 3 times and must be clean once; otherwise once.
    A callback that really blocks is slow every time."""
    lake, vecs = make_lake()
    log = logging.getLogger("asyncio")
    loop = new_loop(kind)
    attempts: List[List[str]] = []
    try:
        client = loop.run_until_complete(A2aClient.connect(url, engine=engine,
                                                           protocol=protocol))
        g2 = G2(client, lake, vecs, text, expect)
        med = loop.run_until_complete(g2.medians())
        for _ in range(3):
            slow = SlowCallbacks()
            log.addHandler(slow)
            loop.set_debug(True)
            loop.slow_callback_duration = SLOW_CALLBACK_S
            try:
                loop.run_until_complete(g2.checked())
            finally:
                loop.set_debug(False)
                log.removeHandler(slow)
            attempts.append(slow.seen)
            if not slow.seen or os.getloadavg()[0] <= (os.cpu_count() or 1):
                break
        loop.run_until_complete(client.aclose())
    finally:
        loop.close()
    assert attempts[-1] == [], f"slow callbacks on {kind}: {attempts[-1][:5]!r}"
    ratio = med["together"] / max(med["stream"], med["lake1"], med["lake2"])
    line = (f"G2 {what}{kind}: together {med['together']*1000:.0f} ms, alone stream "
            f"{med['stream']*1000:.0f} / lake {med['lake1']*1000:.0f}, "
            f"{med['lake2']*1000:.0f} ms; ratio {ratio:.2f} (gate 1.2; load "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; clean debug run after "
            f"{len(attempts)} attempt(s))")
    print(line)
    record_property(f"g2_ratio_{what}{kind}", round(ratio, 3))
    rec = os.environ.get("RUVECTOR_G2_RECORD")
    if rec:
        with open(rec, "a", encoding="utf-8") as f:
            f.write(json.dumps({"peer": what or "fake", "loop": kind, "ratio": ratio, "attempts": len(attempts),
                                "medians_ms": {k: v * 1000 for k, v in med.items()},
                                "load": os.getloadavg()[0]}) + "\n")
    if os.environ.get("RUVECTOR_G2_ENFORCE") == "1":
        assert ratio <= 1.2, line


@pytest.mark.parametrize("kind", ["asyncio", "uvloop"])
def test_stream_no_thread_fight(kind: str, fake: FakePeer, engine: ruvector.Engine,
                                record_property: Callable[[str, object], None],
                                capsys: pytest.CaptureFixture[str]) -> None:
    if kind == "uvloop":
        try:
            import uvloop  # noqa: F401, PLC0415
        except ImportError:
            pytest.skip("uvloop is not installed (pip install uvloop); G2 ran on asyncio only")
    with capsys.disabled():
        run_g2(kind, fake, engine, record_property)


def test_cancel_aborts_the_transfer(fake: FakePeer, engine: ruvector.Engine) -> None:
    """A cancelled await aborts the C transfer: the plugin reports no call in
    flight right after, although the peer would dribble its headers for 5 s."""

    async def main() -> None:
        async with await A2aClient.connect(fake.url, engine=engine) as c:
            fake.control("slow_headers")
            t = asyncio.ensure_future(c.get_task("x"))
            await asyncio.sleep(0.2)
            assert in_flight(engine) == 1
            t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
            for _ in range(100):  # the I/O thread's next turn
                if in_flight(engine) == 0:
                    break
                await asyncio.sleep(0.01)
            assert in_flight(engine) == 0
            fake.control()
            task = await c.send_task(TaskSpec(skill="echo", input="after"))
            assert (await c.get_task(task.id)).id == task.id

    t0 = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - t0 < 4.5  # not the peer's 5 s


def in_flight(engine: ruvector.Engine) -> int:
    """Calls in flight on the plugin's I/O thread (its report fragment)."""
    feats = ruvector.runtime_info(engine).get("features", {})
    return int(feats.get("a2a", {}).get("io_in_flight", "-1"))


def test_client_serves_one_running_loop(fake: FakePeer, engine: ruvector.Engine) -> None:
    fake.control()
    c = A2aClient.connect_sync(fake.url, engine=engine)
    task = c.send_task_sync(TaskSpec(skill="echo", input="x"))

    async def use() -> str:
        return (await c.get_task(task.id)).id

    # One loop after another: the client follows (the old loop is closed).
    assert asyncio.run(use()) == task.id
    assert asyncio.run(use()) == task.id
    # Two running at once: refused with a clear error.
    started, release = threading.Event(), threading.Event()
    errors: List[BaseException] = []

    def other() -> None:
        async def hold() -> None:
            await c.get_task(task.id)
            started.set()
            while not release.is_set():
                await asyncio.sleep(0.01)
        try:
            asyncio.run(hold())
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
            started.set()

    th = threading.Thread(target=other)
    th.start()
    assert started.wait(10)
    with pytest.raises(RuntimeError, match="another running event loop"):
        asyncio.run(use())
    release.set()
    th.join()
    assert errors == []
    c.close()


def test_async_stream_backpressure(fake: FakePeer, engine: ruvector.Engine) -> None:
    """5,002 events while the consumer stalls for a second: the buffer
    between the fd reader and the consumer stops at the plugin's limit
    (1,024 events, plus one network chunk) because the transfer pauses;
    then every event arrives, in order."""
    fake.control("sse_flood")

    async def main() -> Tuple[int, int]:
        async with await A2aClient.connect(fake.url, engine=engine) as c:
            n, buffered = 0, 0
            async for u in c.stream_task(TaskSpec(skill="echo", input="flood")):
                if n == 0:
                    assert u.task is not None
                    await asyncio.sleep(1.0)
                    assert c._bridge is not None
                    buffered = max(len(f.items) for f in c._bridge._feeds.values())
                n += 1
            return n, buffered

    n, buffered = asyncio.run(main())
    fake.control()
    assert n == 5002
    assert 900 <= buffered <= 1024 + 200


@pytest.mark.parametrize("mode,n,error", [
    ("normal", 6, None),
    ("sse_early_eof", 5, None),       # resumed, the snapshot reconciled
    ("sse_early_eof_done", 6, None),  # ended meanwhile: GetTask
    ("sse_error_event", 2, "RemoteError"),
    ("sse_malformed", 2, "ProtocolError"),
    ("upfront_error", 0, "UnsupportedOperation"),
])
def test_async_stream_modes(mode: str, n: int, error: Optional[str], fake: FakePeer,
                            engine: ruvector.Engine) -> None:
    fake.control(mode)

    async def main() -> Tuple[int, str]:
        got = 0
        async with await A2aClient.connect(fake.url, engine=engine) as c:
            try:
                async for _ in c.stream_task(TaskSpec(skill="echo", input="m")):
                    got += 1
            except ruvector.a2a.A2aError as e:
                return got, type(e).__name__
        return got, ""

    got, err = asyncio.run(main())
    fake.control()
    assert (got, err) == (n, error or "")


def test_leaving_a_stream_aborts_it(fake: FakePeer, engine: ruvector.Engine) -> None:
    """Breaking out of stream_task aborts the transfer on the I/O thread."""
    fake.control("sse_stall")  # one event, then 5 s of silence

    async def main() -> None:
        async with await A2aClient.connect(fake.url, engine=engine) as c:
            async for _ in c.stream_task(TaskSpec(skill="echo", input="s")):
                assert in_flight(engine) == 1
                break
            for _ in range(100):
                if in_flight(engine) == 0:
                    break
                await asyncio.sleep(0.01)
            assert in_flight(engine) == 0

    t0 = time.monotonic()
    asyncio.run(main())
    fake.control()
    assert time.monotonic() - t0 < 4.5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
def test_forked_child_is_refused(fake: FakePeer, engine: ruvector.Engine) -> None:
    """After fork() the child has no I/O thread: using the parent's client
    asynchronously raises a clear error (never hangs); the parent's client
    carries on."""
    fake.control()
    c = A2aClient.connect_sync(fake.url, engine=engine)
    task = c.send_task_sync(TaskSpec(skill="echo", input="f"))

    async def use() -> str:
        return (await c.get_task(task.id)).id

    assert asyncio.run(use()) == task.id  # the I/O thread runs now
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        code = 1
        try:
            asyncio.run(asyncio.wait_for(use(), 10))
        except (RuntimeError, ruvector.RuVectorError) as e:
            code = 0 if "fork" in str(e) else 2
        except BaseException:  # noqa: BLE001
            code = 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert asyncio.run(use()) == task.id
    c.close()


def test_close_from_another_thread(fake: FakePeer, engine: ruvector.Engine) -> None:
    """close() from a thread other than the loop's: the loop drops its
    reader of the notify fd itself (the selector is not thread-safe)."""
    fake.control()
    c = A2aClient.connect_sync(fake.url, engine=engine)
    task = c.send_task_sync(TaskSpec(skill="echo", input="x"))
    loop = asyncio.new_event_loop()
    th = threading.Thread(target=loop.run_forever)
    th.start()
    try:
        got = asyncio.run_coroutine_threadsafe(c.get_task(task.id), loop).result(10)
        assert got.id == task.id
        assert c._bridge is not None
        fd = c._bridge._fd
        c.close()

        async def still_watched() -> bool:
            await asyncio.sleep(0.05)
            return loop.remove_reader(fd)

        assert asyncio.run_coroutine_threadsafe(still_watched(), loop).result(10) is False
    finally:
        loop.call_soon_threadsafe(loop.stop)
        th.join()
        loop.close()
