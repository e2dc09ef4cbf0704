"""The asyncio side of the a2a plugin's I/O thread (a2a.md §8).

The plugin runs every asynchronous call on one I/O thread per plugin state
(a curl multi handle) and queues each finished call on its client; the
client's notify fd is readable while the queue is not empty. A _LoopBridge
adds that fd to the event loop the client is used on, and its reader pops
at most _DRAIN_BATCH events per callback (a flood yields to other tasks:
the fd stays readable and the loop comes back) and resolves the waiting
futures. No thread per call; an await that is cancelled aborts the C
transfer (the I/O thread removes it), not only the Python wait.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Dict, Optional

from ._a2a_errors import _RUV_OK, _Outcome

_DRAIN_BATCH = 256


class _LoopBridge:
    """One client's calls on one event loop."""

    def __init__(self, handle: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._h = handle
        self.loop = loop
        self._pid = os.getpid()
        self._waiters: Dict[int, "asyncio.Future[_Outcome]"] = {}
        self._fd: int = handle.notify_fd()
        loop.add_reader(self._fd, self._drain)
        self._open = True

    def _drain(self) -> None:
        for req, out in self._h.poll(_DRAIN_BATCH):
            fut = self._waiters.pop(req, None)
            if fut is not None and not fut.done():
                fut.set_result(out)

    async def call(self, method: int, params: str, policy: Any) -> _Outcome:
        """The outcome of one unary call; a pre-flight refusal comes back
        at once with nothing sent."""
        if os.getpid() != self._pid:
            raise RuntimeError(
                "this A2aClient was connected in the process that forked this one; "
                "connect a new client here"
            )
        out: _Outcome = self._h.submit(method, params, policy)
        if out[0] != _RUV_OK:
            return out
        req: int = out[6]
        fut: "asyncio.Future[_Outcome]" = self.loop.create_future()
        self._waiters[req] = fut
        try:
            return await fut
        except asyncio.CancelledError:
            self._waiters.pop(req, None)
            self._h.abort(req)
            raise

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


def bridge_for(current: Optional[_LoopBridge], handle: Any) -> _LoopBridge:
    """The bridge of the running loop: current when it serves this loop; a
    new one when there is none or its loop has closed. A client serves one
    running loop at a time."""
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
