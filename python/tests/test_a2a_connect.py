"""A2aClient.connect on the plugin's I/O thread (a2a.md §8, ops V4): no
thread per connect, a cancelled connect aborts its transfer, and the card
side of §4/§6 (jku with trusted_jku, redirects) from Python, against the
loopback fake peer (tests/a2a/fakes/fake_peer.py). The fake's paths used
here are stateless, so parallel runs cannot disturb each other."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from typing import Optional, Set

import pytest

import ruvector
from ruvector.a2a import A2aClient, CardSignatureInvalid, DiscoveryError

from a2a_support import FakePeer
from a2a_support import engine, fake  # noqa: F401  (fixtures)


def os_threads() -> Set[str]:
    return set(os.listdir("/proc/self/task"))


def py_threads() -> Set[Optional[int]]:
    return {t.ident for t in threading.enumerate()}


def in_flight(engine: ruvector.Engine) -> int:
    feats = ruvector.runtime_info(engine).get("features", {})
    return int(feats.get("a2a", {}).get("io_in_flight", "-1"))


def test_connect_adds_no_thread(fake: FakePeer, engine: ruvector.Engine) -> None:
    """20 concurrent connects run on the plugin's one I/O thread: no Python or
    OS thread appears while they run or after (the old connect used the
    loop's default executor). Threads of earlier tests may end meanwhile,
    so the check is "no new thread", by identity."""

    async def main() -> None:
        warm = await A2aClient.connect(fake.url, engine=engine)  # starts the I/O thread
        py_before, os_before = py_threads(), os_threads()
        tasks = [asyncio.ensure_future(A2aClient.connect(fake.url, engine=engine))
                 for _ in range(20)]
        await asyncio.sleep(0)  # every connect submitted (and most still in flight)
        assert py_threads() <= py_before and os_threads() <= os_before
        clients = await asyncio.gather(*tasks)
        assert py_threads() <= py_before and os_threads() <= os_before
        for c in clients:
            assert c.card.verified and c.card.agent_id == warm.card.agent_id
        # The connected clients work on the same loop.
        with pytest.raises(ruvector.a2a.TaskNotFound):
            await clients[0].get_task("nope")
        for c in clients:
            await c.aclose()
        await warm.aclose()

    asyncio.run(main())


def test_cancelled_connect_aborts_the_transfer(engine: ruvector.Engine) -> None:
    """A peer that accepts and never answers: cancelling the connect closes
    the connection (the listener sees EOF) and leaves nothing in flight."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]

    async def main() -> None:
        t = asyncio.ensure_future(A2aClient.connect(f"http://127.0.0.1:{port}", engine=engine))
        loop = asyncio.get_running_loop()
        conn, _ = await loop.run_in_executor(None, srv.accept)
        with conn:
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:  # the whole request first
                chunk = await loop.run_in_executor(None, conn.recv, 4096)
                assert chunk, "the connection closed before the request arrived"
                data += chunk
            assert data.startswith(b"GET /.well-known/agent-card.json")
            t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
            # EOF: the aborted transfer closed its connection.
            assert await loop.run_in_executor(None, conn.recv, 4096) == b""
        for _ in range(100):
            if in_flight(engine) == 0:
                break
            await asyncio.sleep(0.01)
        assert in_flight(engine) == 0

    try:
        asyncio.run(main())
    finally:
        srv.close()


@pytest.mark.parametrize("sync", [False, True])
def test_jku_and_trusted_jku(sync: bool, fake: FakePeer, engine: ruvector.Engine) -> None:
    foreign = fake.url.replace("127.0.0.1", "localhost")

    def connect(path: str, **kw: object) -> A2aClient:
        if sync:
            return A2aClient.connect_sync(fake.url + path, engine=engine, **kw)  # type: ignore[arg-type]
        return asyncio.run(A2aClient.connect(fake.url + path, engine=engine, **kw))  # type: ignore[arg-type]

    c = connect("/jku")
    assert c.card.verified and c.card.signed_by == ["k1"] and c.card.agent_id is None
    c.close()
    with pytest.raises(CardSignatureInvalid, match="no key has kid"):
        connect("/jku_unknown")
    with pytest.raises(CardSignatureInvalid, match="nor a trusted one"):
        connect("/jku_foreign")
    c = connect("/jku_foreign", trusted_jku=[foreign])
    assert c.card.verified
    c.close()
    with pytest.raises(TypeError):
        connect("/jku_foreign", trusted_jku=foreign)


@pytest.mark.parametrize("sync", [False, True])
def test_card_redirects(sync: bool, fake: FakePeer, engine: ruvector.Engine) -> None:
    def connect(path: str) -> A2aClient:
        if sync:
            return A2aClient.connect_sync(fake.url + path, engine=engine)
        return asyncio.run(A2aClient.connect(fake.url + path, engine=engine))

    connect("/redir3").close()
    with pytest.raises(DiscoveryError, match="more than 3 redirects"):
        connect("/redir4")
    with pytest.raises(ruvector.a2a.A2aError, match="another origin"):
        connect("/redir_foreign")
