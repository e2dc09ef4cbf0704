"""The sync methods on the a2a plugin's I/O thread (a2a.md §8, issue 12):
send_task_sync and its siblings submit there and block the caller until
their event arrives; no thread per call, and leaving a sync stream early
(close, break, KeyboardInterrupt) aborts its transfer. A client whose event
loop runs in another thread serves sync calls through that loop; threads
that call one client at once share its event queue."""

from __future__ import annotations

import _thread
import asyncio
import gc
import os
import sys
import threading
from typing import List, Optional

import pytest

import ruvector
from ruvector.a2a import A2aClient, TaskSpec, TaskState

from a2a_support import FakePeer, a2a_engine
from a2a_support import engine, fake  # noqa: F401  (fixtures)


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def in_flight(engine: ruvector.Engine) -> int:
    """Calls in flight on the plugin's I/O thread (its report fragment)."""
    feats = ruvector.runtime_info(engine).get("features", {})
    return int(feats.get("a2a", {}).get("io_in_flight", "-1"))


def wait_idle(engine: ruvector.Engine) -> int:
    """in_flight once it reaches 0, or after 5 s of trying (an abort is
    asynchronous: the I/O thread removes the transfer on its next turn)."""
    done = threading.Event()
    for _ in range(500):
        if in_flight(engine) == 0:
            break
        done.wait(0.01)
    return in_flight(engine)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc/self/task")
def test_sync_calls_add_no_thread(fake: FakePeer) -> None:
    """20 sequential sync calls (and a sync stream) on a fresh engine: the
    first submit starts the plugin's one I/O thread; nothing else starts a
    thread, not even for a moment (a sampler thread watches)."""
    fake.control()
    engine = a2a_engine()  # its own plugin state: no I/O thread yet
    gc.collect()
    gc.disable()  # no other engine's I/O thread is joined meanwhile
    try:
        with A2aClient.connect_sync(fake.url, engine=engine) as c:
            before = os_threads()
            task = c.send_task_sync(TaskSpec(skill="echo", input="warm"))
            base = os_threads()
            assert base <= before + 1  # at most the I/O thread
            stop, peak = threading.Event(), [0]

            def sample() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], os_threads())
                    stop.wait(0.001)

            sampler = threading.Thread(target=sample)
            sampler.start()
            try:
                with_sampler = os_threads()
                py_before = threading.active_count()
                for i in range(20):
                    if i % 4 == 0:
                        got = c.send_task_sync(TaskSpec(skill="echo", input=f"q{i}"))
                    elif i % 4 == 1:
                        got = c.get_task_sync(task.id)
                    elif i % 4 == 2:
                        got = c.cancel_task_sync(
                            c.send_task_sync(TaskSpec(skill="echo", input="c")).id)
                        assert got.status.state is TaskState.CANCELED
                    else:
                        ups = list(c.stream_task_sync(TaskSpec(skill="echo", input="s")))
                        assert ups and ups[-1].status is not None
                        continue
                    assert got.id
                    assert os_threads() == with_sampler
                assert threading.active_count() == py_before
                assert os_threads() == with_sampler
            finally:
                stop.set()
                sampler.join()
            assert peak[0] == with_sampler
            # (join() returns a moment before the kernel drops the thread.)
            for _ in range(500):
                if os_threads() == base:
                    break
                stop.wait(0.01)
            assert os_threads() == base
    finally:
        gc.enable()


@pytest.mark.parametrize("how", ["close", "break"])
def test_leaving_a_sync_stream_aborts_it(how: str, fake: FakePeer, engine: ruvector.Engine) -> None:
    """A sync stream left early aborts its transfer on the I/O thread (the
    peer would stay silent for 5 s)."""
    fake.control("sse_stall")  # one event, then silence
    with A2aClient.connect_sync(fake.url, engine=engine) as c:
        it = c.stream_task_sync(TaskSpec(skill="echo", input="s"))
        if how == "close":
            next(it)
            assert in_flight(engine) == 1
            it.close()  # type: ignore[attr-defined]
        else:
            for _ in it:
                assert in_flight(engine) == 1
                break
            del it  # the generator's finally runs: it aborts
        assert wait_idle(engine) == 0
    fake.control()


def test_interrupted_sync_stream_aborts_it(fake: FakePeer, engine: ruvector.Engine) -> None:
    """KeyboardInterrupt while a sync stream waits for its next event: it
    propagates, and the transfer is aborted."""
    fake.control("sse_stall")
    main = threading.get_ident()
    with A2aClient.connect_sync(fake.url, engine=engine) as c:
        it = c.stream_task_sync(TaskSpec(skill="echo", input="s"))
        next(it)

        def interrupt() -> None:
            # Once the main thread waits inside the driver's next().
            for _ in range(1000):
                frame = sys._current_frames().get(main)
                if frame is not None and frame.f_code.co_name == "next" \
                        and frame.f_code.co_filename.endswith("_a2a_sync.py"):
                    break
                threading.Event().wait(0.005)
            _thread.interrupt_main()

        th = threading.Thread(target=interrupt)
        th.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                next(it)
        finally:
            th.join()
        assert wait_idle(engine) == 0
    fake.control()


def test_sync_calls_from_many_threads(fake: FakePeer, engine: ruvector.Engine) -> None:
    """Four threads call one client at once: they share its event queue and
    each gets its own answers."""
    fake.control()
    errors: List[BaseException] = []
    with A2aClient.connect_sync(fake.url, engine=engine) as c:
        def work(n: int) -> None:
            try:
                for i in range(10):
                    t = c.send_task_sync(TaskSpec(skill="echo", input=f"{n}-{i}"))
                    assert c.get_task_sync(t.id).id == t.id
                    ups = list(c.stream_task_sync(TaskSpec(skill="echo", input="s")))
                    assert len(ups) == 6
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        ths = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
    assert errors == []


def bound_to(c: A2aClient) -> Optional[asyncio.AbstractEventLoop]:
    return c._bridge.loop if c._bridge is not None else None


def test_sync_calls_on_a_loop_bound_client(fake: FakePeer, engine: ruvector.Engine) -> None:
    """A client connected with await connect() on a loop that runs in another
    thread: sync calls from this thread go through that loop; once the loop
    is gone, the sync path takes the client over."""
    fake.control()
    loop = asyncio.new_event_loop()
    th = threading.Thread(target=loop.run_forever)
    th.start()
    try:
        c = asyncio.run_coroutine_threadsafe(A2aClient.connect(fake.url, engine=engine),
                                             loop).result(10)
        task = c.send_task_sync(TaskSpec(skill="echo", input="x"))
        assert c.get_task_sync(task.id).id == task.id
        ups = list(c.stream_task_sync(TaskSpec(skill="echo", input="s")))
        assert len(ups) == 6
        it = c.stream_task_sync(TaskSpec(skill="echo", input="s"))
        next(it)
        it.close()  # type: ignore[attr-defined]
        assert bound_to(c) is loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        th.join()
    assert c.get_task_sync(task.id).id == task.id  # the loop stopped: the sync path
    assert bound_to(c) is None
    loop.close()
    assert len(list(c.stream_task_sync(TaskSpec(skill="echo", input="s")))) == 6
    c.close()
    with pytest.raises(ruvector.StateError, match="closed"):
        c.get_task_sync(task.id)


def freed(c: A2aClient) -> bool:
    """Whether the client's plugin client has been freed."""
    return c._sync._freed


def test_close_aborts_sync_calls_in_flight(fake: FakePeer, engine: ruvector.Engine) -> None:
    """close() from another thread aborts a sync call waiting on a slow peer
    (CanceledError, not the peer's 5 s); an open sync stream keeps the client
    alive until it ends, and then the client is freed."""
    fake.control("slow_headers")  # one header byte every 100 ms, for 5 s
    c = A2aClient.connect_sync(fake.url, engine=engine)
    errors: List[BaseException] = []

    def call() -> None:
        try:
            c.get_task_sync("t")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    th = threading.Thread(target=call)
    th.start()
    for _ in range(500):
        if in_flight(engine) == 1:
            break
        threading.Event().wait(0.01)
    assert in_flight(engine) == 1
    c.close()
    th.join(10)
    assert not th.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], ruvector.CanceledError), errors
    assert wait_idle(engine) == 0

    fake.control("sse_stall")
    c = A2aClient.connect_sync(fake.url, engine=engine)
    it = c.stream_task_sync(TaskSpec(skill="echo", input="s"))
    next(it)
    c.close()  # the stream goes on
    with pytest.raises(ruvector.StateError, match="closed"):
        c.get_task_sync("t")
    assert in_flight(engine) == 1 and not freed(c)
    it.close()  # type: ignore[attr-defined]
    assert freed(c)  # by the stream's end
    assert wait_idle(engine) == 0
    with pytest.raises(ruvector.StateError, match="closed"):
        c.get_task_sync("t")
    fake.control()
