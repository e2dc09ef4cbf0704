"""The sync methods' side of the a2a plugin's I/O thread (a2a.md §8).

send_task_sync and its siblings submit on the plugin's I/O thread, as the
async methods do, and block the calling thread until their event arrives:
no thread per call and no asyncio.run. The client's event queue is one per
client, so threads that wait on it at once share it: one of them (the
poller) blocks in the plugin's ops->wait with the GIL released, moves what
poll returns into each request's box and wakes the others, who wait on a
condition meanwhile; whoever finds its event in its box returns with it.
A box exists from the submit on (the submit runs under the same lock), so
no event is lost to a poller that is faster than its caller; the events of
a request nobody waits for any more (it was aborted) are dropped.

Closing the client aborts its unary calls in flight; the plugin client is
freed once the last sync operation has ended (an open stream keeps it
alive until it ends, as the blocking path did).
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
from typing import (
    Any,
    AsyncGenerator,
    Awaitable,
    Callable,
    Deque,
    Dict,
    Generator,
    Iterator,
    NoReturn,
    Tuple,
    TypeVar,
    Union,
)

from ._a2a_errors import _RUV_OK, _Outcome
from ._a2a_types import TaskUpdate

T = TypeVar("T")

_POLL_BATCH = 256
# Waits wake this often when nothing happens: a signal (Ctrl-C) the kernel
# gave another thread (the I/O thread) is then handled by the main thread.
_WAKE_S = 0.2
_CREDIT_BATCH = 64
_EV_STREAM = 3
_RUV_E_STATE = -9
_CLOSED: _Outcome = (_RUV_E_STATE, 0, 0, 0, 0, "a2a: the client is closed", None)


class _Box:
    __slots__ = ("events", "stream")

    def __init__(self, stream: bool) -> None:
        self.events: Deque[Tuple[int, _Outcome]] = collections.deque()
        self.stream = stream


class SyncDriver:
    """One client's sync calls and streams, from any threads outside a
    running event loop."""

    def __init__(self, handle: Any, free: Callable[[], None]) -> None:
        self._h = handle
        self._free = free  # frees the plugin client (called once)
        self._cond = threading.Condition()
        self._boxes: Dict[int, _Box] = {}
        self._polling = False
        self._pid = os.getpid()
        self._closing = False
        self._freed = False

    @property
    def closing(self) -> bool:
        """close() was called (the client may still serve open streams)."""
        return self._closing

    def busy(self) -> bool:
        with self._cond:
            return bool(self._boxes)

    def submit(self, stream: bool, method: int, params: str, policy: Any) -> _Outcome:
        """The submit's outcome; on RUV_OK its payload is the request id,
        whose events next() returns from now on."""
        if os.getpid() != self._pid:
            raise RuntimeError(
                "this A2aClient was connected in the process that forked this one; "
                "connect a new client here"
            )
        with self._cond:
            if self._closing:
                return _CLOSED
            out: _Outcome = (self._h.stream_submit if stream else self._h.submit)(
                method, params, policy)
            if out[0] == _RUV_OK:
                self._boxes[out[6]] = _Box(stream)
        return out

    def next(self, req: int) -> Tuple[int, _Outcome]:
        """The next event (kind, outcome) of req; blocks with the GIL
        released. A signal's exception (KeyboardInterrupt) propagates."""
        with self._cond:
            while True:
                box = self._boxes[req]
                if box.events:
                    return box.events.popleft()
                if not self._polling:
                    self._polling = True
                    break
                self._cond.wait(_WAKE_S)
        try:
            while True:
                if not self._h.wait(int(_WAKE_S * 1000)):  # ops->wait, GIL released
                    continue
                events = self._h.poll(_POLL_BATCH)
                with self._cond:
                    for r, kind, out in events:
                        other = self._boxes.get(r)
                        if other is not None:
                            other.events.append((kind, out))
                    if events:
                        self._cond.notify_all()
                    if box.events:
                        return box.events.popleft()
        finally:
            with self._cond:
                self._polling = False
                self._cond.notify_all()

    def pending(self, req: int) -> int:
        with self._cond:
            box = self._boxes.get(req)
            return len(box.events) if box is not None else 0

    def finish(self, req: int, abort: bool) -> None:
        """req's caller is done with it (abort: it had not ended)."""
        if abort:
            self._h.abort(req)
        with self._cond:
            self._boxes.pop(req, None)
            free = self._closing and not self._boxes and not self._freed
            if free:
                self._freed = True
        if free:
            self._free()

    def call(self, method: int, params: str, policy: Any) -> _Outcome:
        """One unary call's outcome (a pre-flight refusal: at once)."""
        out = self.submit(False, method, params, policy)
        if out[0] != _RUV_OK:
            return out
        req: int = out[6]
        ended = False
        try:
            res = self.next(req)[1]
            ended = True
            return res
        finally:
            self.finish(req, abort=not ended)

    def events(self, req: int, fail: Callable[[_Outcome], NoReturn]) -> Generator[str, None, None]:
        """The submitted stream req's events (JSON text) in order, credited
        as they are taken; its failure goes to fail. Leaving early aborts
        the transfer."""
        ended = False
        taken = 0
        try:
            while True:
                kind, out = self.next(req)
                if kind == _EV_STREAM:
                    taken += 1
                    if taken >= _CREDIT_BATCH or not self.pending(req):
                        self._h.credit(req, taken)
                        taken = 0
                    yield out[6]
                    continue
                ended = True
                if out[0] != _RUV_OK:
                    fail(out)
                return
        finally:
            self.finish(req, abort=not ended)

    def close(self) -> bool:
        """Aborts the unary calls in flight; True when the plugin client
        may be freed now, False when the last operation to end frees it."""
        with self._cond:
            self._closing = True
            calls = [r for r, b in self._boxes.items() if not b.stream]
            if self._boxes:
                now = False
            else:
                now = not self._freed
                self._freed = True
        for r in calls:
            self._h.abort(r)
        return now


def _refuse_in_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"{name} blocks; inside a running event loop use await A2aClient.{name.replace('_sync', '')}(...)"
    )


def _on_loop(loop: asyncio.AbstractEventLoop, aw: Awaitable[T]) -> T:
    """aw's result, run on loop (running in another thread); this thread
    blocks (GIL released). An exception here (KeyboardInterrupt) cancels
    it there, which aborts its transfer."""

    async def run() -> T:
        return await aw

    fut = asyncio.run_coroutine_threadsafe(run(), loop)
    try:
        return fut.result()
    except BaseException:
        fut.cancel()
        raise


class _Ended:
    pass


_END = _Ended()


async def _start(agen: AsyncGenerator[TaskUpdate, None]) -> Union[TaskUpdate, _Ended]:
    try:
        return await agen.__anext__()
    except StopAsyncIteration:
        return _END


def _stream_on_loop(loop: asyncio.AbstractEventLoop, agen: AsyncGenerator[TaskUpdate, None],
                    first: Union[TaskUpdate, _Ended]) -> Iterator[TaskUpdate]:
    """A stream of a loop-bound client, consumed from another thread."""
    try:
        upd = first
        while not isinstance(upd, _Ended):
            yield upd
            upd = _on_loop(loop, _start(agen))
    finally:
        if not loop.is_closed():
            try:
                _on_loop(loop, agen.aclose())
            except RuntimeError:
                pass  # still running its cancelled step, which aborts it
