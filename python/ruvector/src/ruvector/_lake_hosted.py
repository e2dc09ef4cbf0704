"""The async search path of RuLake (rulake.md §4, §5): requests run on the
engine's pool through the plugin's submit; a BackendAdapter whose
``describe`` or ``pull_vectors`` is ``async def`` is awaited here, on the
caller's event loop, so a slow remote describe holds no pool thread.

Per key and event loop, concurrent calls share one describe that began
after each of them arrived (rulake.md §5 step 3: 100 concurrent FRESH
searches cost two describes, not 100) and one pull (§7 single-flight).
The plugin makes every other decision (modes, TTL, witnesses, priming);
when it lacks a description or rows for such a target it says so
(``needs``), and the call obtains it and submits again."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ._errors import LakeError, RuVectorError
from ._lake_types import Key, _lake_error

if TYPE_CHECKING:
    from ._lake import RuLake
    from ._lake_adapter import BackendAdapter

__all__: List[str] = []

DESCRIBE, PULL = 1, 2  # RUV_LAKE_SUPPLY_DESCRIBE, RUV_LAKE_SUPPLY_PULL
_NOTFOUND, _BACKEND = -3, -14
_ROUNDS = 16  # a backend changing under every round: give up, saying so

_Desc = Tuple[bytes, int, int, int, bytes, int, int, bytes]
_Pulled = Tuple[Any, Any, _Desc]
_Statuses = List[Tuple[int, str]]
_Described = Tuple[Optional[_Desc], Optional[Exception]]


class _KeyCalls:
    """One key's shared describe and pull on one event loop."""

    __slots__ = ("loop", "users", "running", "next", "pulls", "pull", "last_pull")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.users = 0  # searches in progress on this key and loop
        #: the callers of the describe running now, and of the one that
        #: begins when it ends (callers that arrived while it ran wait for
        #: that one): each caller's own future, done with (description or
        #: None, the adapter's exception or None); None: no such describe
        self.running: Optional[List["asyncio.Future[_Described]"]] = None
        self.next: Optional[List["asyncio.Future[_Described]"]] = None
        self.pulls = 0  # pulls begun
        self.pull: Optional["asyncio.Future[Tuple[Optional[_Pulled], Optional[Exception]]]"] = None
        #: the last pull (its number, rows or error) while searches that may
        #: want it are in progress: dropped with the last of them, so the
        #: rows are not kept beyond the prime
        self.last_pull: Optional[Tuple[int, Tuple[Optional[_Pulled], Optional[Exception]]]] = None


class HostCalls:
    """Describes and pulls of async BackendAdapters, shared per key and loop."""

    def __init__(self) -> None:
        self._keys: Dict[Tuple[int, Key], _KeyCalls] = {}

    def _state(self, key: Key) -> _KeyCalls:
        loop = asyncio.get_running_loop()
        st = self._keys.get((id(loop), key))
        if st is None or st.loop is not loop:
            # list(): one step under the GIL, as loops in other threads may add keys
            for k, v in list(self._keys.items()):
                if v.loop.is_closed():
                    self._keys.pop(k, None)
            st = self._keys[(id(loop), key)] = _KeyCalls(loop)
        return st

    def enter(self, key: Key) -> int:
        """A search of key begins; returns the pulls begun so far (a pull
        numbered above began after it)."""
        st = self._state(key)
        st.users += 1
        return st.pulls

    def leave(self, key: Key) -> None:
        st = self._state(key)
        st.users -= 1
        if st.users == 0:
            st.last_pull = None

    async def describe(self, adapter: "BackendAdapter", key: Key) -> _Desc:
        """A description from a describe begun after this call arrived (see
        describe_future); raises the adapter's failure as the plugin would."""
        desc, exc = await self.describe_future(adapter, key, self._state(key))
        if exc is not None:
            raise _host_error(key, "describe", exc)
        assert desc is not None
        return desc

    def describe_future(self, adapter: "BackendAdapter", key: Key,
                        st: _KeyCalls) -> "asyncio.Future[_Described]":
        """This caller's future of a describe begun after it arrived: the one
        running now began before, so it waits for the next one, which
        begins as soon as that ends and serves every call that arrived
        meanwhile. The describe runs in a task of its own: cancelling a
        caller cancels only its future. The callers are woken _WAKE_BATCH a
        loop turn (each goes on to submit its request: 100 of them in one
        turn would hold off the loop's timers)."""
        w: "asyncio.Future[_Described]" = st.loop.create_future()
        if st.running is None:
            st.running = [w]
            self._begin(adapter, key, st)
        elif st.next is None:
            st.next = [w]
        else:
            st.next.append(w)
        return w

    def _begin(self, adapter: "BackendAdapter", key: Key, st: _KeyCalls) -> None:
        async def run() -> None:
            result: _Described = (None, None)
            try:
                result = (await adapter._lake_describe_async(key[1]), None)
            except Exception as exc:  # the adapter's: every waiter reports it
                result = (None, exc)
            except BaseException as exc:  # cancelled (the loop is closing): waiters see it
                result = (None, RuntimeError(f"the describe was cancelled: {exc!r}"))
                raise
            finally:
                waiters, st.running = st.running or [], None
                if st.next is not None:  # the round the late callers wait for
                    st.running, st.next = st.next, None
                    self._begin(adapter, key, st)
                _wake(st.loop, waiters, result, 0)

        asyncio.ensure_future(run())

    async def pull(self, adapter: "BackendAdapter", key: Key, arrived: int) -> _Pulled:
        """The rows of one pull shared by every call that needs them: the one
        running, or the last one if it began after this call (arrived: what
        enter returned). Cancelling one caller does not cancel the pull the
        others wait for."""
        st = self._state(key)
        if st.last_pull is not None and st.last_pull[0] > arrived:
            rows, exc = st.last_pull[1]
        else:
            if st.pull is None:
                st.pulls += 1
                st.pull = asyncio.ensure_future(self._pull_once(adapter, key, st, st.pulls))
            rows, exc = await asyncio.shield(st.pull)
        if exc is not None:
            raise _host_error(key, "pull", exc)
        assert rows is not None
        return rows

    @staticmethod
    async def _pull_once(adapter: "BackendAdapter", key: Key, st: _KeyCalls,
                         number: int) -> Tuple[Optional[_Pulled], Optional[Exception]]:
        result: Tuple[Optional[_Pulled], Optional[Exception]] = (None, None)
        try:
            result = (await adapter._lake_pull_async(key[1]), None)
        except Exception as exc:
            result = (None, exc)
        finally:
            st.pull = None
            if st.users > 0:
                st.last_pull = (number, result)
        return result


#: callers of a finished describe woken a loop turn (see describe_future)
_WAKE_BATCH = 16


def _wake(loop: asyncio.AbstractEventLoop, waiters: List["asyncio.Future[_Described]"],
          result: _Described, start: int) -> None:
    end = start + _WAKE_BATCH
    for w in waiters[start:end]:
        if not w.done():  # a cancelled caller's future is done already
            w.set_result(result)
    if end < len(waiters):  # the rest after the woken ones took their turn
        loop.call_soon(_wake, loop, waiters, result, end)


def _host_error(key: Key, what: str, exc: Exception) -> RuVectorError:
    """The error the plugin would give for this adapter failure."""
    status = _NOTFOUND if isinstance(exc, LookupError) else _BACKEND
    err = _lake_error(status, f"backend '{key[0]}' collection '{key[1]}': {what}: "
                              f"{type(exc).__name__}: {exc}")
    if isinstance(err, LakeError):
        err.backend, err.collection = key
    err.__cause__ = exc
    err.__suppress_context__ = True
    return err


_Result = Tuple[int, str, List[Tuple[int, str, int]], Optional[Tuple[List[int], List[float]]]]


class Completions:
    """The finished requests of one lake, taken on the event loops that wait
    for them: the lake's notify fd is readable while its queue holds some
    (_ext_lake_async.c); each loop with requests in flight reads it. A pool
    thread never takes the GIL to hand a result over. Each request's token
    is the future its caller awaits, resolved here with (status, detail,
    statuses, hits): no callback object per request."""

    __slots__ = ("_h", "_fd", "_loops")

    def __init__(self, handle: Any) -> None:
        self._h = handle
        self._fd: int = handle.notify_fd()
        #: loops with requests in flight, and how many
        self._loops: Dict[asyncio.AbstractEventLoop, int] = {}

    def enter(self, loop: asyncio.AbstractEventLoop) -> None:
        """A request is about to be submitted from loop (its thread)."""
        n = self._loops.get(loop, 0)
        if n == 0:
            for other in [lp for lp in self._loops if lp.is_closed()]:
                self._loops.pop(other, None)  # closed with requests in flight
            loop.add_reader(self._fd, self._drain, loop)
        self._loops[loop] = n + 1

    def leave(self, loop: asyncio.AbstractEventLoop) -> None:
        """A request of loop was resolved, or not submitted (its thread)."""
        n = self._loops.get(loop, 0) - 1
        if n > 0:
            self._loops[loop] = n
            return
        self._loops.pop(loop, None)
        if not loop.is_closed():
            loop.remove_reader(self._fd)

    def _resolve(self, fut: "asyncio.Future[_Result]", result: _Result) -> None:
        """On fut's loop (its thread): the reader goes with its last request."""
        self.leave(fut.get_loop())
        if not fut.done():  # a cancelled caller's future is done already
            fut.set_result(result)

    def _drain(self, running: asyncio.AbstractEventLoop) -> None:
        # at most _POLL_BATCH a turn: the fd stays readable for the rest
        for fut, status, detail, statuses, hits in self._h.poll(_POLL_BATCH):
            loop = fut.get_loop()
            if loop is running:
                self._resolve(fut, (status, detail, statuses, hits))
                continue
            try:  # taken by another loop of this lake, on another thread
                loop.call_soon_threadsafe(self._resolve, fut, (status, detail, statuses, hits))
            except RuntimeError:
                pass  # that loop is closed: nobody waits


#: results taken a turn: the rest wait for the loop's next turn, so that a
#: burst of them (100 searches) does not hold off its timers for long
_POLL_BATCH = 32


_Supply = Tuple[int, Optional[_Desc], Optional[_Pulled]]


def submit_one(lake: "RuLake", key: Key, q: Any, k: int, rf: int, flags: int,
               supply: Optional[_Supply] = None) -> Tuple["asyncio.Future[_Result]", int]:
    """One query of one key on the engine's pool (search_one_async): the
    future the result comes to, and the request's ticket. No coroutine of
    its own and no output arrays: the event loop makes 100 concurrent calls
    in one turn (gather), so what each costs there holds off its timers."""
    loop = asyncio.get_running_loop()
    fut: "asyncio.Future[_Result]" = loop.create_future()
    completions = lake._completions
    completions.enter(loop)
    try:
        return fut, lake._h.submit_one(key[0], key[1], q, k, rf, flags, fut,
                                       None if supply is None else (supply,))
    except BaseException:
        completions.leave(loop)
        raise


async def search_one(lake: "RuLake", key: Key, q: Any, k: int, rf: int,
                     flags: int) -> Tuple[List[int], List[float]]:
    """search_one_async of a key whose adapter has async methods: the
    single-target case of search() in fewer steps (each call's first step
    and its wake-up after the shared describe run in the loop's turns).
    Returns (ids, scores); raises what search() raises."""
    hosted = lake._hosted_flags[key[0]]
    adapter = lake._adapters[key[0]]
    calls = lake._host_calls
    st = calls._state(key)
    st.users += 1
    arrived = st.pulls
    try:
        desc: Optional[_Desc] = None
        rows: Optional[_Pulled] = None
        if hosted & DESCRIBE and lake._checks_every_call():  # FRESH: describe now
            desc, exc = await calls.describe_future(adapter, key, st)
            if exc is not None:
                raise _host_error(key, "describe", exc)
        for _ in range(_ROUNDS):
            fut, ticket = submit_one(lake, key, q, k, rf, flags, (hosted, desc, rows))
            try:
                status, detail, statuses, hits = await fut
            except asyncio.CancelledError:
                lake._h.cancel(ticket)
                raise
            need = statuses[0][2]
            if not need:
                break
            if need & PULL:
                rows = await calls.pull(adapter, key, arrived)
                desc = rows[2]  # the pull's own description
            elif need & DESCRIBE:
                desc = await calls.describe(adapter, key)
        else:
            raise LakeError(f"backend '{key[0]}' collection '{key[1]}' changed in each of "
                            f"{_ROUNDS} rounds of describe and pull", status=_BACKEND,
                            status_name="RUV_E_BACKEND")
        if status != 0:
            raise lake._with_cause(_lake_error(status, detail), key)
        assert hits is not None
        return hits
    finally:
        calls.leave(key)


async def _submit(lake: "RuLake", targets: Sequence[Key], qs: Any, k: int, rf: int, flags: int,
                  outs: Tuple[Any, Any, Any, Any],
                  supplies: Optional[Tuple[Optional[Tuple[int, Optional[_Desc],
                                                          Optional[_Pulled]]], ...]]
                  ) -> Tuple[int, str, List[Tuple[int, str, int]]]:
    """One request on the engine's pool; a loop reading the lake's finished
    requests (Completions) hands the result to this one. Cancelling the
    awaiting task cancels the request while it is queued (a running one
    finishes)."""
    loop = asyncio.get_running_loop()
    fut: "asyncio.Future[_Result]" = loop.create_future()
    completions = lake._completions
    ids, scores, tg, nh = outs
    completions.enter(loop)
    try:
        ticket = lake._h.submit(tuple(targets), qs, k, rf, flags, ids, scores, tg, nh, fut,
                                supplies)
    except BaseException:
        completions.leave(loop)
        raise
    try:
        status, detail, statuses, _ = await fut
    except asyncio.CancelledError:
        lake._h.cancel(ticket)
        raise
    return status, detail, statuses


async def search(lake: "RuLake", targets: Sequence[Key], qs: Any, k: int, rf: int, flags: int,
                 outs: Tuple[Any, Any, Any, Any]) -> _Statuses:
    """Runs one async search; returns (status, detail) per target (a
    federated call, flags with PARTIAL, keeps failed targets there), raises
    the error of a failed single-target call."""
    hosted = [lake._hosted_flags.get(b, 0) for b, _ in targets]
    if not any(hosted):
        status, detail, statuses = await _submit(lake, targets, qs, k, rf, flags, outs, None)
        if status != 0:
            raise lake._with_cause(_lake_error(status, detail), targets[0])
        return [(s, d) for s, d, _ in statuses]

    n = len(targets)
    entered = [(i, lake._host_calls.enter(targets[i])) for i in range(n) if hosted[i]]
    try:
        return await _search_hosted(lake, targets, qs, k, rf, flags, outs, hosted, dict(entered))
    finally:
        for i, _ in entered:
            lake._host_calls.leave(targets[i])


async def _search_hosted(lake: "RuLake", targets: Sequence[Key], qs: Any, k: int, rf: int,
                         flags: int, outs: Tuple[Any, Any, Any, Any], hosted: List[int],
                         arrived: Dict[int, int]) -> _Statuses:
    n = len(targets)
    descs: List[Optional[_Desc]] = [None] * n
    rows: List[Optional[_Pulled]] = [None] * n
    failed: Dict[int, RuVectorError] = {}

    async def fill(i: int, need: int) -> None:
        adapter = lake._adapters[targets[i][0]]
        try:
            if need & PULL:
                got = await lake._host_calls.pull(adapter, targets[i], arrived[i])
                rows[i], descs[i] = got, got[2]  # the pull's own description
            elif need & DESCRIBE:
                descs[i] = await lake._host_calls.describe(adapter, targets[i])
        except RuVectorError as exc:
            failed[i] = exc
            if exc.__cause__ is not None and len(targets) > 1:  # _federated_result takes it back
                adapter._failed(targets[i][1], exc.__cause__)

    async def fill_all(wants: List[Tuple[int, int]]) -> None:
        if len(wants) == 1:  # the common case: no task per call
            await fill(*wants[0])
        elif wants:
            await asyncio.gather(*(fill(i, need) for i, need in wants))

    if lake._checks_every_call():  # FRESH: describe now, not after a round trip
        await fill_all([(i, DESCRIBE) for i in range(n) if hosted[i] & DESCRIBE])
    single = len(targets) == 1
    active: List[int] = []
    statuses: List[Tuple[int, str, int]] = []
    status, detail = 0, ""
    for _ in range(_ROUNDS):
        if single and failed:
            raise failed[0]
        active = [i for i in range(n) if i not in failed]
        if not active:
            break
        supplies = tuple((hosted[i], descs[i], rows[i]) if hosted[i] else None for i in active)
        status, detail, statuses = await _submit(lake, [targets[i] for i in active], qs, k, rf,
                                                 flags, outs, supplies)
        needs = [(active[j], st[2]) for j, st in enumerate(statuses) if st[2]]
        if not needs:
            break
        await fill_all(needs)
    else:
        raise LakeError(f"backend '{targets[0][0]}' collection '{targets[0][1]}' changed in each "
                        f"of {_ROUNDS} rounds of describe and pull", status=_BACKEND,
                        status_name="RUV_E_BACKEND")
    if single:
        if failed:
            raise failed[0]
        if status != 0:
            raise lake._with_cause(_lake_error(status, detail), targets[0])
        return [(s, d) for s, d, _ in statuses]
    # A federated call: positions of the active targets back to the caller's.
    tg, nh = outs[2], outs[3]
    if active and len(active) < n:
        m = int(nh[0])
        tg[0, :m] = np.asarray(active, dtype=np.uint32)[tg[0, :m]]
    if not active:
        nh[0] = 0
    elif status != 0:
        raise lake._with_cause(_lake_error(status, detail), targets[active[0]])
    out: _Statuses = [(0, "")] * n
    for j, i in enumerate(active):
        out[i] = (statuses[j][0], statuses[j][1])
    for i, exc in failed.items():
        out[i] = (getattr(exc, "status", _BACKEND), str(exc))
    return out
