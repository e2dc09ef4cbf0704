"""Interop with the official JavaScript SDK, `@a2a-js/sdk` 1.3.0 on express 5
(npm; tests/a2a/peers/js: package.json + package-lock.json pin it), as a
loopback peer (a2a.md §9): its SDK-signed card verifies, a task goes send ->
get until COMPLETED, and a stream runs to completion, over v1.0 and over
its v0.3 compatibility layer (legacyCompat).

`npm ci` runs in a copy under ~/.cache/ruvector-tests; without node >= 20
or the registry the tests SKIP with the reason; they never pass without
the peer."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest

import ruvector
from ruvector.a2a import A2aClient, TaskSpec, TaskState

from a2a_support import (
    REPO,
    InteropPeer,
    async_round_trip,
    check_budget_before_the_wire,
    check_g2,
    check_budget_before_the_wire_async,
    check_es256_card,
    check_tampered_cards,
    check_tampered_cards_async,
    run_to_completion,
)
from a2a_support import engine  # noqa: F401  (fixtures)

JS = REPO / "tests" / "a2a" / "peers" / "js"


def js_peer() -> Path:
    """peer.mjs, ready to run next to the SDK's node_modules."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the @a2a-js/sdk peer needs node >= 20)")
    ver = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    if not ver.startswith("v") or int(ver[1:].split(".")[0]) < 20:
        pytest.skip(f"node {ver} is older than 20")
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ruvector-tests" / "a2a-js-1.3.0"
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(JS / name, cache / name)
    # The cache is shared by every checkout on the machine: the peer goes
    # under a name of its own content, so two checkouts testing different
    # peers at once never run each other's.
    text = (JS / "peer.mjs").read_bytes()
    peer = cache / f"peer-{hashlib.sha256(text).hexdigest()[:12]}.mjs"
    if not peer.exists():
        tmp = peer.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(text)
        os.replace(tmp, peer)
    if not (cache / "node_modules" / "@a2a-js" / "sdk" / "package.json").exists():
        try:
            r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=cache,
                               capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"npm ci failed: {exc}")
        if r.returncode != 0:
            pytest.skip(f"npm ci of @a2a-js/sdk 1.3.0 failed (registry unreachable?): "
                        f"{r.stderr[-500:]}")
    return peer


@pytest.fixture(scope="module", params=["v1.0", "v0.3-compat"])
def peer(request: pytest.FixtureRequest) -> Iterator[InteropPeer]:
    script = js_peer()
    node = shutil.which("node")
    assert node is not None
    p = InteropPeer([node, str(script)], "@a2a-js/sdk peer", request.param)
    yield p
    p.stop()


def test_card_and_lifecycle(peer: InteropPeer, engine: ruvector.Engine) -> None:
    with A2aClient.connect_sync(peer.url, engine=engine, protocol=peer.protocol) as c:
        assert c.card.verified and c.card.agent_id == peer.agent_id
        assert c.card.name == "a2a-js peer"
        assert c.protocol_version == peer.protocol
        task = run_to_completion(c, TaskSpec(skill="echo", input="hello js"))
        assert task.status.state is TaskState.COMPLETED
        assert [p.text for a in task.artifacts for p in a.parts] == ["echo: hello js"]


def test_stream_to_completion(peer: InteropPeer, engine: ruvector.Engine) -> None:
    with A2aClient.connect_sync(peer.url, engine=engine, protocol=peer.protocol) as c:
        ups = list(c.stream_task_sync(TaskSpec(skill="echo", input="streamed")))
        arts = [u for u in ups if u.kind == "artifact"]
        assert arts and arts[0].artifact is not None
        assert arts[0].artifact.parts[0].text == "echo: streamed"
        last = ups[-1]
        assert last.kind == "status" and last.status is not None
        assert last.status.state is TaskState.COMPLETED


def test_async_on_the_io_thread(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """The asyncio API (the plugin's I/O thread, the notify fd on the loop):
    send, get until COMPLETED and a stream to completion, 20 gets at once."""

    asyncio.run(async_round_trip(peer, engine))


def test_tampered_card_rejected(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """A2: the SDK-signed card, tampered, at agent-card.json and via the
    agent.json fallback -> CardSignatureInvalid (blocking path)."""
    check_tampered_cards(peer, engine)


def test_tampered_card_rejected_async(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """A2 with the asyncio API."""
    asyncio.run(check_tampered_cards_async(peer, engine))


def test_budget_exceeded(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """A5: caps and the global budget refuse before the wire; the peer's
    request counter sees no RPC for a refusal (sync methods)."""
    check_budget_before_the_wire(peer, engine)


def test_budget_exceeded_async(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """A5 with the asyncio API (the I/O thread)."""
    asyncio.run(check_budget_before_the_wire_async(peer, engine))


@pytest.mark.parametrize("kind", ["asyncio", "uvloop"])
def test_stream_no_thread_fight(kind: str, peer: InteropPeer, engine: ruvector.Engine,
                                record_property: Callable[[str, object], None],
                                capsys: pytest.CaptureFixture[str]) -> None:
    """A4 (gate G2) against the a2a-js peer: 1,000 streamed updates with
    two ruLake workloads on the same loop, on asyncio and uvloop."""
    check_g2(kind, peer, engine, "a2a-js", record_property, capsys)


def test_es256_card(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """A1, ES256: the SDK's ES256-signed card verifies with the key pinned."""
    check_es256_card(peer, engine)
