"""ruvector.A2aClient against the loopback fake peer (tests/a2a/fakes):
card verification on connect, the task lifecycle, streams, v0.3, policy
before the wire (the fake counts requests), hostile answers, the sync
siblings' refusal inside a running loop, and the async API."""

from __future__ import annotations

import asyncio
from typing import List

import pytest

import ruvector
from ruvector.a2a import (
    A2aClient,
    BudgetExceeded,
    GlobalBudget,
    Queue,
    CallContext,
    CardSignatureInvalid,
    HttpError,
    A2aTimeout,
    Limits,
    PolicyViolation,
    ProtocolError,
    RecursionLimit,
    RemoteError,
    ResponseTooLarge,
    TaskNotCancelable,
    TaskNotFound,
    TaskPolicy,
    TaskSpec,
    TaskState,
    TaskUpdate,
    Timeouts,
    TransportError,
    UrlRefused,
    VersionNotSupported,
)

from a2a_support import FakePeer
from a2a_support import engine, fake  # noqa: F401  (fixtures)


def connect(fake: FakePeer, engine: ruvector.Engine, mode: str = "normal", card: str = "v1",
            **kw: object) -> A2aClient:
    fake.control(mode, card)
    return A2aClient.connect_sync(fake.url, engine=engine, **kw)  # type: ignore[arg-type]


def test_connect_verifies_the_card(fake: FakePeer, engine: ruvector.Engine) -> None:
    with connect(fake, engine) as c:
        assert c.card.verified
        assert c.card.agent_id == fake.agent_id
        assert c.card.name == "fake peer"
        assert c.protocol_version == "1.0"
        assert [s.id for s in c.card.skills] == ["rag.query", "echo"]
        assert c.card.signed_by == [fake.agent_id]
    assert fake.stats()["card_version"] == "1.0"


def test_tampered_and_unsigned_cards(fake: FakePeer, engine: ruvector.Engine) -> None:
    with pytest.raises(CardSignatureInvalid) as ei:
        connect(fake, engine, card="tampered")
    assert isinstance(ei.value, ruvector.SecurityError)
    with pytest.raises(CardSignatureInvalid):
        connect(fake, engine, card="unsigned")
    with connect(fake, engine, card="unsigned", strict_verify=False) as c:
        assert not c.card.verified and c.card.agent_id is None
    with pytest.raises(CardSignatureInvalid):
        connect(fake, engine, expected_agent_id="ab" * 32)
    with connect(fake, engine, expected_agent_id=fake.agent_id.upper()) as c:
        assert c.card.agent_id == fake.agent_id


def test_refusals_at_discovery(fake: FakePeer, engine: ruvector.Engine) -> None:
    with pytest.raises(VersionNotSupported, match="rvagent-a2a"):
        connect(fake, engine, card="rvagent")
    with pytest.raises(ResponseTooLarge):
        connect(fake, engine, card="bigcard")
    with pytest.raises(UrlRefused):
        A2aClient.connect_sync("http://agent.example.invalid", engine=engine)
    with pytest.raises(ValueError):
        connect(fake, engine, protocol="2.0")


def test_lifecycle(fake: FakePeer, engine: ruvector.Engine) -> None:
    with connect(fake, engine) as c:
        task = c.send_task_sync(TaskSpec(skill="echo", input="hi"))
        assert task.status.state is TaskState.SUBMITTED
        sent = fake.stats()["last_params"]
        meta = sent["message"]["metadata"]["ruvector"]
        assert meta["skill"] == "echo"
        assert meta["context"]["depth"] == 1
        assert meta["context"]["current_agent"] == fake.agent_id
        assert sent["configuration"]["returnImmediately"] is True
        for _ in range(5):
            task = c.get_task_sync(task.id)
            if task.status.state.is_terminal:
                break
        assert task.status.state is TaskState.COMPLETED
        assert task.artifacts[0].parts[0].text == "echo: hi"
        with pytest.raises(TaskNotCancelable) as ei:
            c.cancel_task_sync(task.id)
        assert ei.value.rpc_code == -32002
        with pytest.raises(TaskNotFound):
            c.get_task_sync("no-such-task")
        running = c.send_task_sync(TaskSpec(skill="echo", input="x"))
        assert c.cancel_task_sync(running.id).status.state is TaskState.CANCELED


def kinds(updates: List[TaskUpdate]) -> List[str]:
    return [("task" if u.task else u.kind) for u in updates]


def test_stream_to_completion(fake: FakePeer, engine: ruvector.Engine) -> None:
    with connect(fake, engine) as c:
        ups = list(c.stream_task_sync(TaskSpec(skill="echo", input="hi")))
        assert kinds(ups) == ["task", "status", "status", "status", "artifact", "status"]
        assert ups[4].artifact is not None and ups[4].last_chunk
        assert ups[-1].status is not None and ups[-1].status.state is TaskState.COMPLETED
        fake.control("sse_pings")  # BOM, a comment, CRLF line ends
        assert len(list(c.stream_task_sync(TaskSpec(skill="echo", input="hi")))) == 6


def test_v03_peer(fake: FakePeer, engine: ruvector.Engine) -> None:
    with connect(fake, engine, card="v03") as c:
        assert c.protocol_version == "0.3"
        task = c.send_task_sync(TaskSpec(skill="echo", input="hi"))
        assert fake.stats()["last_method"] == "message/send"
        while not task.status.state.is_terminal:
            task = c.get_task_sync(task.id)
        assert task.status.state is TaskState.COMPLETED
        assert task.history[0].role == "user"
        ups = list(c.stream_task_sync(TaskSpec(skill="echo", input="hi")))
        assert ups[-1].status is not None and ups[-1].status.state is TaskState.COMPLETED
    with connect(fake, engine, mode="v1_unknown", card="both") as c:
        assert c.protocol_version == "1.0"
        c.send_task_sync(TaskSpec(skill="echo", input="hi"))
        assert c.protocol_version == "0.3"  # fell back once: the card declares 0.3


def test_policy_before_the_wire(fake: FakePeer, engine: ruvector.Engine) -> None:
    with connect(fake, engine) as c:
        # A5: the peer prices rag.query at $0.10; the cap is $0.05.
        with pytest.raises(PolicyViolation, match="max_cost_usd"):
            c.send_task_sync(TaskSpec(skill="rag.query", input="q",
                                      policy=TaskPolicy(max_cost_usd=0.05)))
        with pytest.raises(PolicyViolation, match="no cost estimate"):
            c.send_task_sync(TaskSpec(skill="echo", input="q", policy=TaskPolicy(max_cost_usd=1)))
        with pytest.raises(PolicyViolation):
            c.send_task_sync(TaskSpec(skill="echo", input="q",
                                      policy=TaskPolicy(allowed_skills=["rag.query"])))
        with pytest.raises(PolicyViolation, match="not among"):
            c.send_task_sync(TaskSpec(skill="translate", input="q"))
        with pytest.raises(PolicyViolation, match="max_tokens"):
            c.send_task_sync(TaskSpec(skill="echo", input="x" * 400,
                                      policy=TaskPolicy(max_tokens=99)))
        deep = CallContext(trace_id="t" * 32, depth=8, current_agent="aa" * 32)
        with pytest.raises(RecursionLimit):
            c.send_task_sync(TaskSpec(skill="echo", input="q", context=deep))
        loop = CallContext(trace_id="t" * 32, depth=2, current_agent="aa" * 32,
                           visited_agents=(fake.agent_id,))
        with pytest.raises(RecursionLimit):
            list(c.stream_task_sync(TaskSpec(skill="echo", input="q", context=loop)))
        assert fake.stats()["rpc"] == 0  # nothing reached the peer
        ok = c.send_task_sync(TaskSpec(skill="rag.query", input="q",
                                       policy=TaskPolicy(max_cost_usd=0.10, max_tokens=4000),
                                       context=CallContext(trace_id="t" * 32, depth=7)))
        assert ok.id
        ctx = fake.stats()["last_params"]["message"]["metadata"]["ruvector"]["context"]
        assert ctx["depth"] == 8 and ctx["trace_id"] == "t" * 32


@pytest.mark.parametrize(
    "mode,cls,check",
    [
        ("malformed_json", ProtocolError, "JSON-RPC response"),
        ("wrong_id", ProtocolError, "id does not match"),
        ("both", ProtocolError, "both of result and error"),
        ("oversized", ResponseTooLarge, "cap"),
        ("http500", HttpError, "HTTP 502"),
    ],
)
def test_hostile_unary(fake: FakePeer, engine: ruvector.Engine, mode: str,
                       cls: type, check: str) -> None:
    with connect(fake, engine, limits=Limits(max_body_bytes=64 << 10)) as c:
        fake.control(mode)
        with pytest.raises(cls, match=check) as ei:
            c.get_task_sync("x")
        assert isinstance(ei.value, TransportError)
        if mode == "http500":
            assert ei.value.http_status == 502
        if cls is ProtocolError:
            assert isinstance(ei.value, ruvector.ProtocolError)


@pytest.mark.parametrize(
    "mode,cls,before",
    [
        ("sse_malformed", ProtocolError, 2),
        ("sse_wrong_id", ProtocolError, 1),
        ("sse_error_event", RemoteError, 2),
        ("sse_big_event", ResponseTooLarge, 1),
        ("sse_early_eof_gone", TaskNotFound, 3),
        ("upfront_error", RemoteError, 0),
    ],
)
def test_hostile_stream(fake: FakePeer, engine: ruvector.Engine, mode: str, cls: type,
                        before: int) -> None:
    with connect(fake, engine, limits=Limits(max_event_bytes=64 << 10)) as c:
        fake.control(mode)
        got: List[TaskUpdate] = []
        with pytest.raises(cls):
            for u in c.stream_task_sync(TaskSpec(skill="echo", input="hi")):
                got.append(u)
        assert len(got) == before


@pytest.mark.parametrize("mode,n", [("sse_early_eof", 5), ("sse_early_eof_done", 6)])
def test_stream_resumes(fake: FakePeer, engine: ruvector.Engine, mode: str, n: int) -> None:
    """The connection ends mid-task: SubscribeToTask (or, once the task has
    ended, GetTask) completes the stream, and nothing is delivered twice."""
    with connect(fake, engine) as c:
        fake.control(mode)
        ups = list(c.stream_task_sync(TaskSpec(skill="echo", input="hi")))
        assert len(ups) == n
        assert kinds(ups)[-2:] == ["artifact", "status"]
        assert ups[-1].status is not None and ups[-1].status.state is TaskState.COMPLETED
        assert sum(u.kind == "artifact" for u in ups) == 1
        assert "SubscribeToTask" in fake.stats()["methods"]


def test_global_budget(fake: FakePeer, engine: ruvector.Engine) -> None:
    """Two clients share one budget; it is charged before anything is sent."""
    budget = GlobalBudget(max_usd_per_minute=0.25, max_tasks_per_minute=10)
    fake.control()
    a = A2aClient.connect_sync(fake.url, engine=engine, budget=budget)
    b = A2aClient.connect_sync(fake.url, engine=engine, budget=budget)
    with a, b:
        priced = TaskSpec(skill="rag.query", input="q")  # $0.10 each by the card
        a.send_task_sync(priced)
        b.send_task_sync(priced)
        with pytest.raises(BudgetExceeded, match="max_usd_per_window") as ei:
            a.send_task_sync(priced)
        assert isinstance(ei.value, ruvector.PolicyError)
        assert fake.stats()["rpc"] == 2
        b.send_task_sync(TaskSpec(skill="echo", input="q"))  # no price: $0
    tasks = GlobalBudget(max_tasks_per_minute=1, overflow=Queue(1))
    with A2aClient.connect_sync(fake.url, engine=engine, budget=tasks) as c:
        c.send_task_sync(TaskSpec(skill="echo", input="q"))
    with pytest.raises(ValueError):
        GlobalBudget(overflow="drop")


def test_max_concurrency(fake: FakePeer, engine: ruvector.Engine) -> None:
    """A stream holds its slot while its transfer runs (on the I/O thread:
    until the peer ends it, not until the consumer has read it all)."""
    fake.control("sse_stall")  # one event, then silence until the idle deadline
    spec = TaskSpec(skill="echo", input="hi", policy=TaskPolicy(max_concurrency=1))
    t = Timeouts(stream_idle_ms=400)
    with A2aClient.connect_sync(fake.url, engine=engine, timeouts=t) as c:
        first = c.stream_task_sync(spec)
        next(first)  # open: it holds the slot until it ends
        with pytest.raises(PolicyViolation, match="max_concurrency"):
            next(c.stream_task_sync(spec))
        with pytest.raises(A2aTimeout, match="idle"):
            list(first)  # its end: the slot went back before this event
        fake.control()
        assert c.send_task_sync(spec).id


def test_stream_deadlines(fake: FakePeer, engine: ruvector.Engine) -> None:
    """A silent stream meets the idle deadline; an event that never ends,
    though bytes keep coming, meets the event-assembly deadline."""
    fake.control()
    t = Timeouts(stream_idle_ms=400)
    with A2aClient.connect_sync(fake.url, engine=engine, timeouts=t) as c:
        fake.control("sse_stall")
        with pytest.raises(A2aTimeout, match="idle"):
            list(c.stream_task_sync(TaskSpec(skill="echo", input="hi")))
    t = Timeouts(stream_event_ms=400)
    with A2aClient.connect_sync(fake.url, engine=engine, timeouts=t) as c:
        fake.control("sse_dribble")
        with pytest.raises(A2aTimeout, match="not complete") as ei:
            list(c.stream_task_sync(TaskSpec(skill="echo", input="hi")))
        assert isinstance(ei.value, TimeoutError)


def test_sync_siblings_refuse_inside_a_loop(fake: FakePeer, engine: ruvector.Engine) -> None:
    c = connect(fake, engine)

    async def misuse() -> None:
        with pytest.raises(RuntimeError, match="use await"):
            c.get_task_sync("x")
        with pytest.raises(RuntimeError, match="use await"):
            A2aClient.connect_sync(fake.url, engine=engine)

    asyncio.run(misuse())
    c.close()
    with pytest.raises(ruvector.StateError):
        c.get_task_sync("x")


def test_async_api(fake: FakePeer, engine: ruvector.Engine) -> None:
    fake.control()

    async def main() -> List[str]:
        async with await A2aClient.connect(fake.url, engine=engine) as c:
            task = await c.send_task(TaskSpec(skill="echo", input="hi"))
            while not task.status.state.is_terminal:
                task = await c.get_task(task.id)
            assert task.artifacts[0].parts[0].text == "echo: hi"
            got = [u async for u in c.stream_task(TaskSpec(skill="echo", input="x"))]
            both = await asyncio.gather(c.get_task(task.id), c.get_task(task.id))
            assert both[0].id == both[1].id == task.id
            return kinds(got)

    assert asyncio.run(main()) == ["task", "status", "status", "status", "artifact", "status"]


@pytest.mark.parametrize("card", ["v1", "v03"])
@pytest.mark.parametrize("on_loop", [False, True])
@pytest.mark.parametrize("mode,n", [("sse_early_eof", 5), ("sse_early_eof_art", 4),
                                    ("sse_early_eof_done", 6)])
def test_resumed_stream_reconciled(fake: FakePeer, engine: ruvector.Engine, card: str,
                                   on_loop: bool, mode: str, n: int) -> None:
    """a2a.md §6 resume, in both dialects and on both paths: the connection
    ends mid-task and the task moves on while the client is away (in
    sse_early_eof_art the artifact is made then, so only a snapshot shows
    it). v1.0's SubscribeToTask opens with a Task snapshot; v0.3's
    tasks/resubscribe has none, so the client reads one with tasks/get
    first. Either way the snapshot is reconciled: the artifact arrives
    exactly once and the stream ends COMPLETED."""
    fake.control("normal", card)

    async def on_the_loop() -> List[TaskUpdate]:
        async with await A2aClient.connect(fake.url, engine=engine) as c:
            fake.control(mode, card)
            return [u async for u in c.stream_task(TaskSpec(skill="echo", input="hi"))]

    if on_loop:
        ups = asyncio.run(on_the_loop())
    else:
        with A2aClient.connect_sync(fake.url, engine=engine) as c:
            fake.control(mode, card)
            ups = list(c.stream_task_sync(TaskSpec(skill="echo", input="hi")))
    assert len(ups) == n, kinds(ups)
    assert kinds(ups)[-2:] == ["artifact", "status"]
    arts = [u for u in ups if u.kind == "artifact"]
    assert len(arts) == 1 and arts[0].artifact is not None
    assert arts[0].artifact.parts[0].text == "hello"
    assert ups[-1].status is not None and ups[-1].status.state is TaskState.COMPLETED
    methods = fake.stats()["methods"]
    if card == "v03":
        assert methods[0] == "message/stream" and methods[1] == "tasks/get"
        assert ("tasks/resubscribe" in methods) == (mode != "sse_early_eof_done")
    else:
        assert methods[0] == "SendStreamingMessage" and methods[1] == "SubscribeToTask"
