"""The A2A client's transport rules of a2a.md §6 against the loopback fake
peer (tests/a2a/fakes): proxies only by API (a counting proxy fake sees
every request, and the environment's proxy variables are ignored),
compression off by default and, when on, caps on decoded bytes (§10 item
23: a gzip bomb hits the cap), and Retry-After as seconds, as an HTTP-date
and as garbage, from the sync and the async methods."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import ruvector
from ruvector.a2a import A2aClient, HttpError, Limits, ResponseTooLarge, TaskSpec, TaskState

from a2a_support import REPO, FakePeer, Peer, self_signed, start_fake
from a2a_support import engine, fake  # noqa: F401  (fixtures)

PROXY = REPO / "tests" / "a2a" / "fakes" / "fake_proxy.py"
PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY")


class CountingProxy(Peer):
    def stats(self) -> Dict[str, Any]:
        # Straight to the proxy (origin form), never through it.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{self.url}/_stats", timeout=10) as r:
            out: Dict[str, Any] = json.loads(r.read())
            return out


@pytest.fixture()
def proxy() -> Iterator[CountingProxy]:
    p = CountingProxy([sys.executable, str(PROXY)], "counting proxy fake")
    yield p
    p.stop()


def lifecycle(c: A2aClient) -> None:
    task = c.send_task_sync(TaskSpec(skill="echo", input="via proxy"))
    for _ in range(5):
        task = c.get_task_sync(task.id)
        if task.status.state.is_terminal:
            break
    assert task.status.state is TaskState.COMPLETED
    ups = list(c.stream_task_sync(TaskSpec(skill="echo", input="streamed")))
    assert ups[-1].status is not None and ups[-1].status.state is TaskState.COMPLETED


def test_proxy_by_api(fake: FakePeer, engine: ruvector.Engine, proxy: CountingProxy) -> None:
    """proxy= carries the card fetch, unary calls and streams, on the
    sync and the async methods; the proxy counts each request."""
    fake.control("normal", "v1")
    with A2aClient.connect_sync(fake.url, engine=engine, proxy=proxy.url) as c:
        assert c.card.verified
        after_card = proxy.stats()
        assert after_card["forward"] + after_card["connect"] >= 1
        lifecycle(c)
    blocking = proxy.stats()
    # card + send + 2 gets (the fake completes a task on its 2nd GetTask) + stream
    assert blocking["forward"] + blocking["connect"] >= 5
    assert all(t.endswith(f":{fake.port}") for t in blocking["targets"])
    fake_rpcs = fake.stats()["rpc"]
    assert fake_rpcs >= 4

    async def on_the_loop() -> None:
        async with await A2aClient.connect(fake.url, engine=engine, proxy=proxy.url) as c:
            t = await c.send_task(TaskSpec(skill="echo", input="async via proxy"))
            await c.get_task(t.id)
            ups = [u async for u in c.stream_task(TaskSpec(skill="echo", input="s"))]
            assert ups[-1].status is not None and ups[-1].status.state is TaskState.COMPLETED

    asyncio.run(on_the_loop())
    on_loop = proxy.stats()
    assert (on_loop["forward"] + on_loop["connect"]) - (blocking["forward"] + blocking["connect"]) >= 4


def test_proxy_connect_tunnel(engine: ruvector.Engine, proxy: CountingProxy,
                              tmp_path: Path) -> None:
    """https through the proxy goes by CONNECT: the TLS fake (a certificate
    the test makes, trusted with ca_file) is reached only through the
    tunnel, which the proxy counts."""
    cert = self_signed(tmp_path, "tunnel", "IP:127.0.0.1")
    tls = start_fake(tls=cert)
    try:
        with A2aClient.connect_sync(tls.url.replace("http://", "https://"), engine=engine,
                                    ca_file=cert[0], proxy=proxy.url) as c:
            assert c.card.verified
            lifecycle(c)
        s = proxy.stats()
        assert s["connect"] >= 1 and s["forward"] == 0, s
        assert all(t == f"127.0.0.1:{tls.port}" for t in s["targets"])
    finally:
        tls.stop()


def test_environment_proxy_ignored(fake: FakePeer, engine: ruvector.Engine,
                                   proxy: CountingProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    """http_proxy, HTTPS_PROXY, ALL_PROXY point at the counting proxy and
    no_proxy is empty: the client never uses them (a2a.md §6)."""
    for var in PROXY_VARS:
        monkeypatch.setenv(var, proxy.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    fake.control("normal", "v1")
    with A2aClient.connect_sync(fake.url, engine=engine) as c:
        lifecycle(c)

    async def on_the_loop() -> None:
        async with await A2aClient.connect(fake.url, engine=engine) as c:
            t = await c.send_task(TaskSpec(skill="echo", input="x"))
            await c.get_task(t.id)

    asyncio.run(on_the_loop())
    assert fake.stats()["rpc"] >= 6
    s = proxy.stats()
    assert s["forward"] == 0 and s["connect"] == 0, s


def test_proxy_bad_value(fake: FakePeer, engine: ruvector.Engine) -> None:
    with pytest.raises(ValueError):
        A2aClient.connect_sync(fake.url, engine=engine, proxy="http://a\nb")


def test_compression_off_by_default(fake: FakePeer, engine: ruvector.Engine) -> None:
    """No Accept-Encoding is sent unless compression=True; then the fake's
    gzip answer is decoded."""
    fake.control("normal")
    with A2aClient.connect_sync(fake.url, engine=engine) as c:
        task = c.send_task_sync(TaskSpec(skill="echo", input="plain"))
        fake.control("gzip")
        assert c.get_task_sync(task.id).id == task.id
        assert fake.stats()["last_accept_encoding"] is None
    fake.control("normal")
    with A2aClient.connect_sync(fake.url, engine=engine, compression=True) as c:
        task = c.send_task_sync(TaskSpec(skill="echo", input="gzipped"))
        fake.control("gzip")
        got = c.get_task_sync(task.id)
        assert got.id == task.id and got.history[0].parts[0].text == "gzipped"
        assert "gzip" in fake.stats()["last_accept_encoding"]


@pytest.mark.parametrize("on_loop", [False, True])
def test_gzip_bomb_hits_the_decoded_cap(fake: FakePeer, engine: ruvector.Engine,
                                        on_loop: bool) -> None:
    """a2a.md §10 item 23: ~32 KiB on the wire that decode to 32 MiB stop
    at the 16 MiB body cap (and at a smaller one when set)."""
    for limits in (None, Limits(max_body_bytes=1 << 20)):
        fake.control("normal")
        if on_loop:
            async def get() -> None:
                async with await A2aClient.connect(fake.url, engine=engine, compression=True,
                                                   limits=limits) as c:
                    fake.control("gzip_bomb")
                    await c.get_task("x")

            with pytest.raises(ResponseTooLarge, match="cap"):
                asyncio.run(get())
        else:
            with A2aClient.connect_sync(fake.url, engine=engine, compression=True,
                                        limits=limits) as c:
                fake.control("gzip_bomb")
                with pytest.raises(ResponseTooLarge, match="cap"):
                    c.get_task_sync("x")


@pytest.mark.parametrize("on_loop", [False, True])
@pytest.mark.parametrize("mode", ["retry_after_date", "retry_after_garbage", "retry_after_past"])
def test_retry_after_forms(fake: FakePeer, engine: ruvector.Engine, mode: str,
                           on_loop: bool) -> None:
    """GetTask answered 503 twice, with Retry-After an HTTP-date 2 s ahead,
    a date in the past, or garbage (then the client's own backoff): the
    third attempt succeeds."""
    fake.control("normal")
    with A2aClient.connect_sync(fake.url, engine=engine) as c:
        task = c.send_task_sync(TaskSpec(skill="echo", input="r"))
        if on_loop:
            async def get() -> Any:
                async with await A2aClient.connect(fake.url, engine=engine) as c2:
                    fake.control(mode)  # counts from here: the card fetch is done
                    return await c2.get_task(task.id)

            got = asyncio.run(get())
        else:
            fake.control(mode)
            got = c.get_task_sync(task.id)
        assert got.id == task.id
        assert fake.stats()["methods"] == ["GetTask"] * 3


@pytest.mark.parametrize("on_loop", [False, True])
def test_retry_after_date_too_long(fake: FakePeer, engine: ruvector.Engine, on_loop: bool) -> None:
    """An HTTP-date 120 s ahead is longer than the 30 s the client waits:
    HttpError(503) at once, with retry_after in seconds."""
    fake.control("normal")
    with pytest.raises(HttpError) as ei:
        if on_loop:
            async def get() -> None:
                async with await A2aClient.connect(fake.url, engine=engine) as c:
                    fake.control("retry_after_date_long")
                    await c.get_task("x")

            asyncio.run(get())
        else:
            with A2aClient.connect_sync(fake.url, engine=engine) as c:
                fake.control("retry_after_date_long")
                c.get_task_sync("x")
    assert ei.value.http_status == 503
    assert ei.value.retry_after is not None and 100 <= ei.value.retry_after <= 120
    assert fake.stats()["methods"] == ["GetTask"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
def test_forked_child_gets_its_own_io_thread(fake: FakePeer, engine: ruvector.Engine) -> None:
    """After fork() the child has no I/O thread: the parent's client is
    refused there (its notify fd is the parent's), and a client the child
    connects runs its awaits on a new I/O thread the child starts. The
    parent's client carries on."""
    fake.control("normal")
    c = A2aClient.connect_sync(fake.url, engine=engine)
    task = c.send_task_sync(TaskSpec(skill="echo", input="f"))

    async def use(client: A2aClient) -> str:
        return (await client.get_task(task.id)).id

    assert asyncio.run(use(c)) == task.id  # the parent's I/O thread runs now
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        code = 1
        try:
            try:
                asyncio.run(asyncio.wait_for(use(c), 10))
                code = 2
            except ruvector.RuVectorError as e:
                code = 0 if "fork" in str(e) else 3
            if code == 0:
                async def mine() -> bool:
                    async with await A2aClient.connect(fake.url, engine=engine) as m:
                        got = await asyncio.gather(*(m.get_task(task.id) for _ in range(5)))
                        return all(t.id == task.id for t in got)

                code = 0 if asyncio.run(asyncio.wait_for(mine(), 20)) else 4
        except BaseException:  # noqa: BLE001
            code = 5
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert asyncio.run(use(c)) == task.id
    c.close()
