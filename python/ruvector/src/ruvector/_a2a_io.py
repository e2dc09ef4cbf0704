"""The asyncio side of the a2a plugin's I/O thread (a2a.md §8).

The plugin runs every asynchronous call and stream on one I/O thread per
plugin state (a curl multi handle) and queues their events on the client;
the client's notify fd is readable while that queue is not empty. A
_LoopBridge adds the fd to the event loop the client is used on; its
reader pops at most _DRAIN_BATCH events per callback (a flood yields to
other tasks: the fd stays readable and the loop comes back), resolves the
futures of unary calls and feeds each stream's buffer. A stream's events
are credited back to the plugin as the consumer takes them, so the plugin
pauses the transfer (and TCP slows the peer) while the consumer lags: the
buffer here never holds more than the plugin's limit (1,024 events or
8 MiB, plus one network chunk). No thread per call; an await or a stream
that is cancelled or closed aborts its C transfer, not only the Python side.
"""

from __future__ import annotations

import asyncio
import collections
import os
from typing import Any, AsyncGenerator, Callable, Deque, Dict, NoReturn, Optional

from ._a2a_errors import _RUV_OK, _Outcome

_DRAIN_BATCH = 256
_CREDIT_BATCH = 64
_EV_RESULT, _EV_STREAM, _EV_END = 2, 3, 4


class _Feed:
    """One stream's events between the fd reader and its consumer."""

    __slots__ = ("items", "end", "waiter")

    def __init__(self) -> None:
        self.items: Deque[str] = collections.deque()
        self.end: Optional[_Outcome] = None
        self.waiter: Optional["asyncio.Future[None]"] = None

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class _LoopBridge:
    """One client's calls and streams on one event loop."""

    def __init__(self, handle: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._h = handle
        self.loop = loop
        self._pid = os.getpid()
        self._waiters: Dict[int, "asyncio.Future[_Outcome]"] = {}
        self._feeds: Dict[int, _Feed] = {}
        self._fd: int = handle.notify_fd()
        loop.add_reader(self._fd, self._drain)
        self._open = True

    def _drain(self) -> None:
        for req, kind, out in self._h.poll(_DRAIN_BATCH):
            if kind == _EV_RESULT:
                fut = self._waiters.pop(req, None)
                if fut is not None and not fut.done():
                    fut.set_result(out)
                continue
            feed = self._feeds.get(req)
            if feed is None:
                continue  # a stream its consumer gave up on
            if kind == _EV_STREAM:
                feed.items.append(out[6])
            else:
                feed.end = out
            feed.wake()

    def _check_pid(self) -> None:
        if os.getpid() != self._pid:
            raise RuntimeError(
                "this A2aClient was connected in the process that forked this one; "
                "connect a new client here"
            )

    async def call(self, method: int, params: str, policy: Any) -> _Outcome:
        """The outcome of one unary call; a pre-flight refusal comes back
        at once with nothing sent."""
        self._check_pid()
        out: _Outcome = self._h.submit(method, params, policy)
        if out[0] != _RUV_OK:
            return out
        return await self.wait_for(out[6])

    async def wait_for(self, req: int) -> _Outcome:
        """The outcome of the submitted operation req (a call, or the
        connect that made this client); cancelling aborts it."""
        fut: "asyncio.Future[_Outcome]" = self.loop.create_future()
        self._waiters[req] = fut
        try:
            return await fut
        except asyncio.CancelledError:
            self._waiters.pop(req, None)
            self._h.abort(req)
            raise

    async def stream(self, method: int, params: str, policy: Any,
                     fail: Callable[[_Outcome], NoReturn]) -> AsyncGenerator[str, None]:
        """The stream's events (JSON text) in order; its failure, or a
        pre-flight refusal, goes to fail (which raises)."""
        self._check_pid()
        out: _Outcome = self._h.stream_submit(method, params, policy)
        if out[0] != _RUV_OK:
            fail(out)
        req: int = out[6]
        feed = _Feed()
        self._feeds[req] = feed
        ended = False
        taken = 0
        try:
            while True:
                if feed.items:
                    item = feed.items.popleft()
                    taken += 1
                    if taken >= _CREDIT_BATCH or not feed.items:
                        self._h.credit(req, taken)
                        taken = 0
                    yield item
                    continue
                if feed.end is not None:
                    ended = True
                    if feed.end[0] != _RUV_OK:
                        fail(feed.end)
                    return
                feed.waiter = self.loop.create_future()
                try:
                    await feed.waiter
                finally:
                    feed.waiter = None
        finally:
            self._feeds.pop(req, None)
            if not ended and self._open:
                self._h.abort(req)

    def close(self) -> None:
        """Stops watching the fd (before the client, and its fd, go away)."""
        if not self._open:
            return
        self._open = False
        if os.getpid() == self._pid and not self.loop.is_closed():
            self.loop.remove_reader(self._fd)
        for fut in self._waiters.values():
            if not fut.done():
                fut.cancel()
        self._waiters.clear()
        for feed in self._feeds.values():
            if feed.waiter is not None and not feed.waiter.done():
                feed.waiter.cancel()


def bridge_for(current: Optional[_LoopBridge], handle: Any) -> _LoopBridge:
    """The bridge of the running loop: current when it serves this loop; a
    new one when there is none or its loop is no longer running. A client
    serves one running loop at a time."""
    loop = asyncio.get_running_loop()
    if current is not None:
        if current.loop is loop:
            return current
        if not current.loop.is_closed() and current.loop.is_running():
            raise RuntimeError(
                "this A2aClient is bound to another running event loop; "
                "connect a client per loop"
            )
        current.close()
    return _LoopBridge(handle, loop)
