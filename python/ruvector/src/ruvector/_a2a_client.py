"""ruvector.A2aClient and GlobalBudget on the a2a plugin
(python/ruvector/src/ruvector/_ext_a2a.c). Calls and streams run on the
plugin's I/O thread: the async methods come back through the event loop
(_a2a_io.py), the sync ones block the calling thread until their event
arrives (_a2a_sync.py). Public through ruvector.a2a."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import (
    Any,
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    NoReturn,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    cast,
)

from . import _ext
from ._a2a_io import _LoopBridge, bridge_for
from ._a2a_sync import SyncDriver, _on_loop, _refuse_in_loop, _start, _stream_on_loop
from ._a2a_errors import _RUV_OK, A2aError, TaskDeadlineExceeded, _Outcome, _raise
from ._a2a_types import (
    AgentCard,
    AgentSkill,
    CallContext,
    Limits,
    Message,
    Part,
    PinnedKey,
    Task,
    TaskPolicy,
    TaskSpec,
    TaskState,
    TaskStatus,
    TaskUpdate,
    Timeouts,
)
from ._engine import Engine, default_engine

@dataclass(frozen=True)
class Queue:
    """GlobalBudget overflow that waits: up to max_depth callers wait inside
    the send until the window admits them; one more is refused (queue_full).
    Waiters are admitted first come, first served, whether they wait in a
    sync method or in an await, and a new send never passes them."""

    max_depth: int


class GlobalBudget:
    """A rolling one-minute budget shared by every client connected with it
    (a2a.md §5): sends are charged with their estimates (cost, tokens) when
    admitted, before anything is sent. overflow="shed" refuses at once;
    overflow=Queue(n) waits. The ledger lives in the a2a plugin of the first
    engine a client uses it with."""

    def __init__(
        self,
        *,
        max_usd_per_minute: Optional[float] = None,
        max_tokens_per_minute: Optional[int] = None,
        max_tasks_per_minute: Optional[int] = None,
        overflow: Union[str, Queue] = "shed",
        window_ms: int = 60_000,
    ) -> None:
        if overflow != "shed" and not isinstance(overflow, Queue):
            raise ValueError('overflow must be "shed" or Queue(max_depth)')
        if isinstance(overflow, Queue) and overflow.max_depth < 1:
            raise ValueError("Queue.max_depth must be >= 1")
        if window_ms < 1:
            raise ValueError("window_ms must be >= 1")
        self.max_usd_per_minute = max_usd_per_minute
        self.max_tokens_per_minute = max_tokens_per_minute
        self.max_tasks_per_minute = max_tasks_per_minute
        self.overflow = overflow
        self.window_ms = window_ms
        self._engine: Optional[Any] = None
        self._h: Optional[Any] = None
        self._lock = threading.Lock()

    def _handle(self, engine: Engine) -> Any:
        with self._lock:
            if self._h is None:
                self._h = _ext.a2a_budget_new(
                    engine._h,
                    -1.0 if self.max_usd_per_minute is None else float(self.max_usd_per_minute),
                    -1 if self.max_tokens_per_minute is None else int(self.max_tokens_per_minute),
                    -1 if self.max_tasks_per_minute is None else int(self.max_tasks_per_minute),
                    self.window_ms,
                    self.overflow.max_depth if isinstance(self.overflow, Queue) else 0,
                )
                self._engine = engine._h
            elif self._engine is not engine._h:
                raise ValueError("a GlobalBudget serves the clients of one engine")
            return self._h


_SEND, _GET, _CANCEL, _SEND_STREAMING, _SUBSCRIBE = 1, 2, 3, 4, 5
_FLAG_INSECURE_TLS, _FLAG_ALLOW_HTTP, _FLAG_UNSIGNED_OK = 1, 2, 4
_PROTOCOLS = {"auto": 0, "1.0": 1, "0.3": 2}

T = TypeVar("T")


def _card_from_info(info: Mapping[str, Any]) -> AgentCard:
    c = info.get("card") or {}
    skills = [
        AgentSkill(
            id=str(s.get("id", "")),
            name=str(s.get("name", "")),
            description=str(s.get("description", "")),
            tags=list(s.get("tags") or []),
            examples=list(s.get("examples") or []),
            input_modes=list(s.get("inputModes") or []),
            output_modes=list(s.get("outputModes") or []),
        )
        for s in c.get("skills") or []
        if isinstance(s, dict)
    ]
    return AgentCard(
        name=str(c.get("name", "")),
        description=str(c.get("description", "")),
        version=str(c.get("version", "")),
        provider=c.get("provider"),
        capabilities=dict(c.get("capabilities") or {}),
        skills=skills,
        interfaces=list(c.get("supportedInterfaces") or []),
        agent_id=info.get("agent_id") or None,
        verified=bool(info.get("verified")),
        signed_by=[info["signed_by"]] if info.get("signed_by") else [],
        canonicalization=str(info.get("canonicalization", "")),
        protocol_version=str(info.get("protocol_version", "")),
        raw=dict(c),
    )


class A2aClient:
    """A connected A2A client. Make one with connect_sync() or await connect()."""

    card: AgentCard
    max_call_depth: int

    def __init__(self, handle: Any, card_url: str, max_call_depth: int,
                 budget: Optional[Any] = None) -> None:
        # Private: use connect / connect_sync.
        self._h = handle
        self._peer = card_url
        self.max_call_depth = max_call_depth
        self._budget = budget  # the budget's C handle, or None
        self._bridge: Optional[_LoopBridge] = None  # the loop the async calls use
        self._sync = SyncDriver(handle, handle.close)  # the sync calls outside a loop
        self._refresh_card()

    def _refresh_card(self) -> None:
        self.card = _card_from_info(json.loads(self._h.info()))

    @property
    def protocol_version(self) -> str:
        """"1.0" or "0.3" (after a one-time fallback, the new one)."""
        return self.card.protocol_version

    # ---- connecting ----

    @classmethod
    def connect_sync(
        cls,
        url: str,
        *,
        strict_verify: bool = True,
        expected_agent_id: Union[None, str, Sequence[str]] = None,
        trusted_keys: Optional[Sequence[PinnedKey]] = None,
        protocol: str = "auto",
        auth: Optional[str] = None,
        verify_tls: bool = True,
        ca_file: Optional[str] = None,
        allow_http: bool = False,
        timeouts: Optional[Timeouts] = None,
        limits: Optional[Limits] = None,
        max_call_depth: int = 8,
        budget: Optional[GlobalBudget] = None,
        engine: Optional[Engine] = None,
        trusted_jku: Sequence[str] = (),
        proxy: Optional[str] = None,
        compression: bool = False,
    ) -> "A2aClient":
        """Fetches and verifies url's agent card and picks the protocol.
        Blocks; refuses to run inside a running event loop.

        trusted_jku: origins a card signature's jku may name besides the
        card's own. proxy names the only proxy used (http_proxy and the other
        proxy variables of the environment are ignored); compression=True
        asks for gzip/deflate bodies, and the size limits then count decoded
        bytes."""
        _refuse_in_loop("connect_sync")
        out = cls._connect(
            url, strict_verify, expected_agent_id, trusted_keys, protocol, auth, verify_tls,
            ca_file, allow_http, timeouts, limits, max_call_depth, budget, engine, trusted_jku,
            False, proxy, compression,
        )
        if out[0] != _RUV_OK:
            _raise(out, url)
        eng = engine if engine is not None else default_engine()
        return cls(out[6], url, max_call_depth, budget._handle(eng) if budget else None)

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        strict_verify: bool = True,
        expected_agent_id: Union[None, str, Sequence[str]] = None,
        trusted_keys: Optional[Sequence[PinnedKey]] = None,
        protocol: str = "auto",
        auth: Optional[str] = None,
        verify_tls: bool = True,
        ca_file: Optional[str] = None,
        allow_http: bool = False,
        timeouts: Optional[Timeouts] = None,
        limits: Optional[Limits] = None,
        max_call_depth: int = 8,
        budget: Optional[GlobalBudget] = None,
        engine: Optional[Engine] = None,
        trusted_jku: Sequence[str] = (),
        proxy: Optional[str] = None,
        compression: bool = False,
    ) -> "A2aClient":
        """connect_sync without a thread: the card is fetched and verified
        on the plugin's I/O thread and this await resumes through the event
        loop. Cancelling it aborts the transfer. The client is bound to the
        running loop."""
        loop = asyncio.get_running_loop()
        out = cls._connect(
            url, strict_verify, expected_agent_id, trusted_keys, protocol, auth, verify_tls,
            ca_file, allow_http, timeouts, limits, max_call_depth, budget, engine, trusted_jku,
            True, proxy, compression,
        )
        if out[0] != _RUV_OK:
            _raise(out, url)
        handle, req = out[6]
        bridge = _LoopBridge(handle, loop)
        try:
            done = await bridge.wait_for(req)
        except BaseException:
            bridge.close()
            handle.close()
            raise
        if done[0] != _RUV_OK:
            bridge.close()
            handle.close()
            _raise(done, url)
        eng = engine if engine is not None else default_engine()
        client = cls(handle, url, max_call_depth, budget._handle(eng) if budget else None)
        client._bridge = bridge
        return client

    @classmethod
    def _connect(
        cls,
        url: str,
        strict_verify: bool,
        expected_agent_id: Union[None, str, Sequence[str]],
        trusted_keys: Optional[Sequence[PinnedKey]],
        protocol: str,
        auth: Optional[str],
        verify_tls: bool,
        ca_file: Optional[str],
        allow_http: bool,
        timeouts: Optional[Timeouts],
        limits: Optional[Limits],
        max_call_depth: int,
        budget: Optional[GlobalBudget],
        engine: Optional[Engine],
        trusted_jku: Sequence[str],
        submit: bool,
        proxy: Optional[str],
        compression: bool,
    ) -> _Outcome:
        """a2a_connect's outcome: the connected handle (submit False,
        blocking), or (handle, req) with the discovery queued on the
        plugin's I/O thread (submit True)."""
        if protocol not in _PROTOCOLS:
            raise ValueError(f"protocol must be one of {sorted(_PROTOCOLS)}, not {protocol!r}")
        if max_call_depth < 1:
            raise ValueError("max_call_depth must be >= 1")
        flags = 0
        if not verify_tls:
            flags |= _FLAG_INSECURE_TLS
        if allow_http:
            flags |= _FLAG_ALLOW_HTTP
        if not strict_verify:
            flags |= _FLAG_UNSIGNED_OK
        ids: List[str] = (
            [] if expected_agent_id is None
            else [expected_agent_id] if isinstance(expected_agent_id, str)
            else list(expected_agent_id)
        )
        pinned = [(k.kid, k.key, int(k.not_after), bool(k.revoked)) for k in trusted_keys or []]
        t = timeouts or Timeouts()
        lim = limits or Limits()
        eng = engine if engine is not None else default_engine()
        if isinstance(trusted_jku, str):
            raise TypeError("trusted_jku must be a sequence of origins, not one str")
        return _ext.a2a_connect(
            eng._h, url, flags, _PROTOCOLS[protocol], ids, pinned, ca_file, auth,
            t.connect_ms, t.unary_ms, t.stream_idle_ms, t.stream_event_ms, lim.max_body_bytes,
            lim.max_event_bytes, list(trusted_jku), submit, proxy, compression,
        )

    # ---- building requests ----

    def _message(self, spec: TaskSpec, ctx: CallContext) -> Dict[str, Any]:
        inp = spec.input
        if isinstance(inp, Message):
            msg: Dict[str, Any] = {
                "role": "ROLE_AGENT" if inp.role == "agent" else "ROLE_USER",
                "parts": [p.to_wire() for p in inp.parts],
                "messageId": inp.message_id or str(uuid.uuid4()),
            }
            if inp.task_id:
                msg["taskId"] = inp.task_id
            if inp.context_id:
                msg["contextId"] = inp.context_id
            if inp.reference_task_ids:
                msg["referenceTaskIds"] = list(inp.reference_task_ids)
            meta = dict(inp.metadata or {})
        else:
            parts = (
                [Part(text=inp)] if isinstance(inp, str)
                else [inp] if isinstance(inp, Part)
                else list(inp)
            )
            msg = {"role": "ROLE_USER", "parts": [p.to_wire() for p in parts], "messageId": str(uuid.uuid4())}
            meta = {}
        if spec.context_id:
            msg["contextId"] = spec.context_id
        ruv: Dict[str, Any] = {"skill": spec.skill, "context": ctx.to_wire()}
        if spec.policy is not None:
            p = spec.policy
            ruv["policy"] = {
                k: v
                for k, v in (
                    ("max_tokens", p.max_tokens),
                    ("max_cost_usd", p.max_cost_usd),
                    ("max_duration_ms", p.max_duration_ms),
                    ("allowed_skills", list(p.allowed_skills) if p.allowed_skills is not None else None),
                )
                if v is not None
            }
        meta["ruvector"] = ruv
        msg["metadata"] = meta
        return msg

    def _send_args(self, spec: TaskSpec) -> Tuple[str, Tuple[Any, ...]]:
        pol = spec.policy or TaskPolicy()
        if pol.max_concurrency is not None and pol.max_concurrency < 1:
            raise ValueError("TaskPolicy.max_concurrency must be >= 1")
        base_ctx = spec.context or CallContext.root()
        peer_id = self.card.agent_id or ""
        ctx = base_ctx.child(peer_id)
        params: Dict[str, Any] = {"message": self._message(spec, ctx)}
        modes = spec.accepted_output_modes
        params["configuration"] = {"acceptedOutputModes": list(modes) if modes else ["text/plain"]}
        if spec.metadata:
            params["metadata"] = spec.metadata
        policy = (
            spec.skill,
            list(pol.allowed_skills) if pol.allowed_skills is not None else None,
            -1 if pol.max_tokens is None else int(pol.max_tokens),
            -1.0 if pol.max_cost_usd is None else float(pol.max_cost_usd),
            -1 if spec.estimated_tokens is None else int(spec.estimated_tokens),
            -1.0 if spec.estimated_cost_usd is None else float(spec.estimated_cost_usd),
            ctx.depth,
            self.max_call_depth,
            list(base_ctx.visited_agents) + ([base_ctx.current_agent] if base_ctx.current_agent else []),
            self._budget,
            pol.max_concurrency or 0,
        )
        return json.dumps(params), policy

    def _fail(self, out: _Outcome) -> NoReturn:
        _raise(out, self._peer)
        raise AssertionError("unreachable")  # _raise always raises

    def _loop_for_sync(self) -> Optional[asyncio.AbstractEventLoop]:
        """The running loop (of another thread) this client is bound to, if
        any: a sync call then goes through it, since that loop's reader
        takes the client's events. A bound loop that no longer runs lets
        the client go (the sync path takes its events from now on)."""
        b = self._bridge
        if b is None:
            return None
        if not b.loop.is_closed() and b.loop.is_running():
            return b.loop
        self._bridge = None
        b.close()
        return None

    def _bind_loop(self) -> _LoopBridge:
        if self._bridge is None and self._sync.busy():
            raise RuntimeError(
                "this A2aClient has sync calls in flight on another thread; "
                "use one client for sync calls and another for this event loop"
            )
        self._bridge = bridge_for(self._bridge, self._h)
        return self._bridge

    def _call(self, method: int, params: str, policy: Any) -> Any:
        out = self._sync.call(method, params, policy)
        if method == _SEND and self.card.protocol_version == "1.0" and not self._sync.closing:
            self._refresh_card()  # the one fallback, to 0.3, may have happened
        if out[0] != _RUV_OK:
            _raise(out, self._peer)
        return json.loads(out[6])

    # ---- sync API ----

    def _send_task(self, spec: TaskSpec) -> Task:
        params, policy = self._send_args(spec)
        return self._task_of_send(self._call(_SEND, params, policy))

    @staticmethod
    def _task_of_send(res: Dict[str, Any]) -> Task:
        if "task" in res:
            return Task.from_wire(res["task"])
        # A bare message answer: a task that is already complete.
        m = Message.from_wire(res["message"])
        return Task(
            id=m.task_id or "",
            context_id=m.context_id or "",
            status=TaskStatus(TaskState.COMPLETED, message=m),
        )

    @staticmethod
    def _get_params(task_id: str, history_length: Optional[int]) -> str:
        p: Dict[str, Any] = {"id": task_id}
        if history_length is not None:
            p["historyLength"] = history_length
        return json.dumps(p)

    def _get_task(self, task_id: str, history_length: Optional[int] = None) -> Task:
        return Task.from_wire(self._call(_GET, self._get_params(task_id, history_length), None))

    def _cancel_task(self, task_id: str) -> Task:
        return Task.from_wire(self._call(_CANCEL, json.dumps({"id": task_id}), None))

    def send_task_sync(self, spec: TaskSpec) -> Task:
        """Sends spec as a SendMessage (returnImmediately) and returns the task.
        Blocks this thread (GIL released) until the I/O thread answers;
        refuses inside a running event loop. On a client whose event loop
        runs in another thread, the call goes through that loop."""
        _refuse_in_loop("send_task_sync")
        loop = self._loop_for_sync()
        if loop is not None:
            return _on_loop(loop, self.send_task(spec))
        return self._send_task(spec)

    def get_task_sync(self, task_id: str, *, history_length: Optional[int] = None) -> Task:
        _refuse_in_loop("get_task_sync")
        loop = self._loop_for_sync()
        if loop is not None:
            return _on_loop(loop, self.get_task(task_id, history_length=history_length))
        return self._get_task(task_id, history_length)

    def cancel_task_sync(self, task_id: str) -> Task:
        _refuse_in_loop("cancel_task_sync")
        loop = self._loop_for_sync()
        if loop is not None:
            return _on_loop(loop, self.cancel_task(task_id))
        return self._cancel_task(task_id)

    def _stream_args(self, what: Union[TaskSpec, str]) -> Tuple[int, str, Any, Optional[int]]:
        if isinstance(what, str):
            return _SUBSCRIBE, json.dumps({"id": what}), None, None
        params, policy = self._send_args(what)
        return _SEND_STREAMING, params, policy, what.policy.max_duration_ms if what.policy else None

    def stream_task_sync(self, what: Union[TaskSpec, str]) -> Iterator[TaskUpdate]:
        """A TaskSpec: SendStreamingMessage; a task id: SubscribeToTask. Yields
        updates until a terminal or interrupted state (or a message). The
        stream is submitted here (a pre-flight refusal raises here) and runs
        on the I/O thread; each next() blocks (GIL released) for its event.
        Leaving the iterator early (close, break, an exception) aborts the
        transfer. On a client whose event loop runs in another thread, the
        stream goes through that loop (and this call returns with its first
        event taken)."""
        _refuse_in_loop("stream_task_sync")
        loop = self._loop_for_sync()
        if loop is not None:
            agen = cast(AsyncGenerator[TaskUpdate, None], self.stream_task(what))
            first = _on_loop(loop, _start(agen))
            return _stream_on_loop(loop, agen, first)
        method, params, policy, limit = self._stream_args(what)
        was_v1 = self.card.protocol_version == "1.0"
        out = self._sync.submit(True, method, params, policy)
        if out[0] != _RUV_OK:
            self._fail(out)
        return self._iterate(out[6], limit, was_v1 and method == _SEND_STREAMING)

    def _iterate(self, req: int, limit: Optional[int], may_fall_back: bool) -> Iterator[TaskUpdate]:
        started, tid = time.monotonic(), []  # type: float, List[str]
        events = self._sync.events(req, self._fail)
        try:
            for text in events:
                upd = TaskUpdate.from_wire(json.loads(text))
                if upd.task_id and not tid:
                    tid.append(upd.task_id)
                if limit is not None and (time.monotonic() - started) * 1000 > limit:
                    events.close()  # abort the transfer first
                    if tid:
                        try:
                            self._cancel_task(tid[0])
                        except A2aError:
                            pass
                    raise TaskDeadlineExceeded(
                        f"max_duration_ms {limit} passed; CancelTask sent", peer=self._peer
                    )
                yield upd
        finally:
            events.close()
            if may_fall_back and not self._sync.closing:
                self._refresh_card()  # the one fallback, to 0.3, may have happened

    def close(self) -> None:
        """Frees the client (open sync streams keep it alive until they
        end); calls still in flight on the I/O thread are aborted."""
        if self._bridge is not None:
            b, self._bridge = self._bridge, None
            try:
                on_loop = asyncio.get_running_loop() is b.loop
            except RuntimeError:
                on_loop = False
            if on_loop or not b.loop.is_running():
                b.close()
            else:  # closed from another thread: the loop drops its reader itself
                b.loop.call_soon_threadsafe(b.close)
        if self._sync.close():
            self._h.close()

    def __enter__(self) -> "A2aClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- async API: unary calls on the plugin's I/O thread ----

    async def _call_async(self, method: int, params: str, policy: Any) -> Any:
        out = await self._bind_loop().call(method, params, policy)
        if method == _SEND and self.card.protocol_version == "1.0":
            self._refresh_card()  # the one fallback, to 0.3, may have happened
        if out[0] != _RUV_OK:
            _raise(out, self._peer)
        return json.loads(out[6])

    async def send_task(self, spec: TaskSpec) -> Task:
        params, policy = self._send_args(spec)
        return self._task_of_send(await self._call_async(_SEND, params, policy))

    async def get_task(self, task_id: str, *, history_length: Optional[int] = None) -> Task:
        params = self._get_params(task_id, history_length)
        return Task.from_wire(await self._call_async(_GET, params, None))

    async def cancel_task(self, task_id: str) -> Task:
        return Task.from_wire(await self._call_async(_CANCEL, json.dumps({"id": task_id}), None))

    async def stream_task(self, what: Union[TaskSpec, str]) -> AsyncIterator[TaskUpdate]:
        """stream_task_sync for asyncio: the stream runs on the plugin's I/O
        thread; its events arrive through the loop, paced by this consumer."""
        method, params, policy, limit = self._stream_args(what)
        bridge = self._bind_loop()
        was_v1 = self.card.protocol_version == "1.0"
        started, tid = time.monotonic(), []  # type: float, List[str]
        events = bridge.stream(method, params, policy, self._fail)
        try:
            async for text in events:
                upd = TaskUpdate.from_wire(json.loads(text))
                if upd.task_id and not tid:
                    tid.append(upd.task_id)
                if limit is not None and (time.monotonic() - started) * 1000 > limit:
                    await events.aclose()  # abort the transfer first
                    if tid:
                        try:
                            await self.cancel_task(tid[0])
                        except A2aError:
                            pass
                    raise TaskDeadlineExceeded(
                        f"max_duration_ms {limit} passed; CancelTask sent", peer=self._peer
                    )
                yield upd
        finally:
            await events.aclose()
            if was_v1 and method == _SEND_STREAMING:
                self._refresh_card()  # the one fallback, to 0.3, may have happened

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> "A2aClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()




