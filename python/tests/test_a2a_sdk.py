"""Interop with the official Python SDK, `a2a-sdk` 1.3.0 (PyPI), as a
loopback peer (tests/a2a/peers/a2a_sdk_peer.py; a2a.md §9): its SDK-signed
card verifies, a task goes send -> get until COMPLETED, and a stream runs
to completion, over v1.0 and over its v0.3 compatibility layer.

The SDK needs Python >= 3.10 and its own venv: RUVECTOR_A2A_SDK_PYTHON
names a python that has it; otherwise the test makes one under
~/.cache/ruvector-tests (pip install from PyPI). When that fails the tests
SKIP with the reason; they never pass without the peer."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

import ruvector
from ruvector.a2a import A2aClient, TaskSpec, TaskState

from a2a_support import (
    SDK_PEER,
    InteropPeer,
    async_round_trip,
    check_budget_before_the_wire,
    check_g2,
    check_budget_before_the_wire_async,
    check_es256_card,
    check_tampered_cards,
    check_tampered_cards_async,
    python_with,
    run_to_completion,
)
from a2a_support import engine  # noqa: F401  (fixtures)

SDK_PIN = "a2a-sdk[http-server,signing,encryption]==1.3.0"


def sdk_python() -> str:
    env = os.environ.get("RUVECTOR_A2A_SDK_PYTHON")
    if env:
        if python_with("a2a.server.routes", [env]) is None:
            pytest.skip(f"RUVECTOR_A2A_SDK_PYTHON={env} cannot import a2a-sdk")
        return env
    venv = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ruvector-tests" / "a2a-sdk-1.3.0"
    py = venv / "bin" / "python"
    if py.exists() and python_with("a2a.server.routes", [str(py)]):
        return str(py)
    base = None
    for cand in [sys.executable, "python3.13", "python3.12", "python3.11", "python3.10", "python3"]:
        exe = shutil.which(cand) if not os.path.isabs(cand) else cand
        if not exe:
            continue
        ok = subprocess.run([exe, "-c", "import sys, venv; assert sys.version_info >= (3, 10)"],
                            capture_output=True)
        if ok.returncode == 0:
            base = exe
            break
    if base is None:
        pytest.skip("a2a-sdk 1.3.0 needs Python >= 3.10 and none is installed")
    try:
        subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            SDK_PIN, "uvicorn"], capture_output=True, text=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"cannot make the a2a-sdk venv: {exc}")
    if r.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        pytest.skip(f"pip install {SDK_PIN} failed (registry unreachable?): {r.stderr[-500:]}")
    return str(py)


@pytest.fixture(scope="module", params=["v1.0", "v0.3-compat"])
def peer(request: pytest.FixtureRequest) -> Iterator[InteropPeer]:
    p = InteropPeer([sdk_python(), str(SDK_PEER)], "a2a-sdk peer", request.param)
    yield p
    p.stop()


def test_card_and_lifecycle(peer: InteropPeer, engine: ruvector.Engine) -> None:
    with A2aClient.connect_sync(peer.url, engine=engine, protocol=peer.protocol) as c:
        assert c.card.verified and c.card.agent_id == peer.agent_id
        assert c.card.name == "a2a-sdk peer"
        assert c.protocol_version == peer.protocol
        task = run_to_completion(c, TaskSpec(skill="echo", input="hello sdk"))
        assert task.status.state is TaskState.COMPLETED
        texts = [p.text for a in task.artifacts for p in a.parts]
        assert texts == ["echo: hello sdk"]


def test_stream_to_completion(peer: InteropPeer, engine: ruvector.Engine) -> None:
    with A2aClient.connect_sync(peer.url, engine=engine, protocol=peer.protocol) as c:
        ups = list(c.stream_task_sync(TaskSpec(skill="echo", input="streamed")))
        assert ups[0].task is not None or ups[0].kind == "status"
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
    """A4 (gate G2) against the a2a-sdk peer: 1,000 streamed updates with
    two ruLake workloads on the same loop, on asyncio and uvloop."""
    check_g2(kind, peer, engine, "a2a-sdk", record_property, capsys)


def test_es256_card(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """A1, ES256: the SDK's ES256-signed card verifies with the key pinned."""
    check_es256_card(peer, engine)
