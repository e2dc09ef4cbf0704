"""Shared by the A2A client tests: finding the `a2a` plugin, and running
loopback peers (the fake of tests/a2a/fakes, the a2a-sdk peer of
tests/a2a/peers) as subprocesses."""

from __future__ import annotations

import asyncio
import glob
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

import ruvector

REPO = Path(__file__).resolve().parents[2]
FAKE = REPO / "tests" / "a2a" / "fakes" / "fake_peer.py"
SDK_PEER = REPO / "tests" / "a2a" / "peers" / "a2a_sdk_peer.py"


def a2a_engine() -> ruvector.Engine:
    """An engine that has the a2a plugin: RUVECTOR_TEST_A2A_PLUGIN_DIR, else
    a build directory of this checkout, else whatever the default search
    finds (an installed ruvector-agent). Skips, saying why, when none."""
    dirs: List[str] = []
    env = os.environ.get("RUVECTOR_TEST_A2A_PLUGIN_DIR")
    if env:
        dirs.append(env)
    # (Sanitizer builds' plugins cannot load into a plain interpreter.)
    found = sorted((f for f in glob.glob(str(REPO / "build*" / "plugins" / "a2a" / ".libs" / "a2a.so"))
                    if "san" not in Path(f).parts[-5]),
                   key=os.path.getmtime, reverse=True)
    dirs += [os.path.dirname(f) for f in found]
    for d in dirs:
        eng = ruvector.Engine(plugin_path=d)
        try:
            eng.load_plugin("a2a")
            return eng
        except ruvector.RuVectorError:
            continue
    eng = ruvector.Engine()
    try:
        eng.load_plugin("a2a")
    except ruvector.RuVectorError as exc:
        pytest.skip(f"the a2a plugin is not built or installed ({exc}); build it with "
                    f"`make plugins/a2a/a2a.la` or set RUVECTOR_TEST_A2A_PLUGIN_DIR")
    return eng


class Peer:
    """A loopback peer subprocess that prints 'PORT <n> AGENT_ID <hex>'."""

    def __init__(self, argv: List[str], what: str) -> None:
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        parts = line.split()
        if len(parts) != 4 or parts[0] != "PORT":
            self.proc.kill()
            _, err = self.proc.communicate()
            raise RuntimeError(f"{what} did not start: {line!r} {err[-2000:]}")
        self.port = int(parts[1])
        self.agent_id = parts[3]
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


class InteropPeer(Peer):
    """A peer built on an official SDK, serving v1.0 or, in mode
    "v0.3-compat" (--v03-compat), the SDK's v0.3 compatibility layer;
    protocol is what a client asks it for."""

    def __init__(self, argv: List[str], what: str, mode: str) -> None:
        super().__init__(argv + (["--v03-compat"] if mode == "v0.3-compat" else []), what)
        self.protocol = "0.3" if mode == "v0.3-compat" else "1.0"

    def stats(self) -> Dict[str, int]:
        """The peer's request counts {"card": n, "rpc": n} (they only grow)."""
        with urllib.request.urlopen(f"{self.url}/_stats", timeout=10) as r:
            out: Dict[str, int] = json.loads(r.read())
            return out


def check_tampered_cards(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """A2 against an SDK peer: its own signed card with the name changed
    after signing, served by the SDK's card handler at agent-card.json and,
    with agent-card.json a 404, at agent.json (the fallback path), is
    refused on both paths; the genuine card still verifies."""
    from ruvector.a2a import A2aClient, CardSignatureInvalid

    for base in ("/tampered", "/fallback"):
        with pytest.raises(CardSignatureInvalid):
            A2aClient.connect_sync(peer.url + base, engine=engine, protocol=peer.protocol)
    with A2aClient.connect_sync(peer.url, engine=engine, protocol=peer.protocol) as c:
        assert c.card.verified and c.card.agent_id == peer.agent_id


async def check_tampered_cards_async(peer: InteropPeer, engine: ruvector.Engine) -> None:
    from ruvector.a2a import A2aClient, CardSignatureInvalid

    for base in ("/tampered", "/fallback"):
        with pytest.raises(CardSignatureInvalid):
            await A2aClient.connect(peer.url + base, engine=engine, protocol=peer.protocol)
    async with await A2aClient.connect(peer.url, engine=engine, protocol=peer.protocol) as c:
        assert c.card.verified and c.card.agent_id == peer.agent_id


def check_es256_card(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """A1's ES256 case against an SDK peer: its card signed by the SDK with
    a P-256 key (kid "es256-1", no identity extension) verifies with that
    key pinned (trusted_keys, the JWK the peer publishes), on the blocking
    and the asyncio path; unpinned, no key verifies it."""
    from ruvector.a2a import A2aClient, CardSignatureInvalid, PinnedKey  # noqa: PLC0415

    with urllib.request.urlopen(f"{peer.url}/_es256_jwk", timeout=10) as r:
        jwk = r.read().decode()
    pins = [PinnedKey(kid="es256-1", key=jwk)]
    url = peer.url + "/es256"
    with A2aClient.connect_sync(url, engine=engine, protocol=peer.protocol,
                                trusted_keys=pins) as c:
        assert c.card.verified and c.card.signed_by == ["es256-1"]
        assert c.card.agent_id is None
        assert run_to_completion(c, echo_spec("es256")).status.state.is_terminal

    async def on_the_loop() -> None:
        async with await A2aClient.connect(url, engine=engine, protocol=peer.protocol,
                                           trusted_keys=pins) as c:
            assert c.card.verified and c.card.signed_by == ["es256-1"]

    asyncio.run(on_the_loop())
    with pytest.raises(CardSignatureInvalid):
        A2aClient.connect_sync(url, engine=engine, protocol=peer.protocol)


def echo_spec(text: str) -> Any:
    from ruvector.a2a import TaskSpec  # noqa: PLC0415

    return TaskSpec(skill="echo", input=text)


def check_budget_before_the_wire(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """A5 against an SDK peer: the card prices "echo" at $0.10
    (urn:ruvector:a2a:pricing:v1); max_cost_usd 0.05 -> PolicyViolation for
    a send and a stream, and a GlobalBudget of $0.15/min admits one call and
    refuses the next -> BudgetExceeded, and the peer sees no RPC for the
    refusals (only the card fetch at connect, unless the card cache held
    the card)."""
    from ruvector.a2a import (A2aClient, BudgetExceeded, GlobalBudget, PolicyViolation,
                              TaskPolicy, TaskSpec, TaskState)

    cheap = TaskPolicy(max_cost_usd=0.05)
    budget = GlobalBudget(max_usd_per_minute=0.15)
    before = peer.stats()
    with A2aClient.connect_sync(peer.url, engine=engine, protocol=peer.protocol,
                                budget=budget) as c:
        connected = peer.stats()
        # connect is only the card GET (or none: the card cache may hold it)
        assert connected["rpc"] == before["rpc"]
        with pytest.raises(PolicyViolation, match="max_cost_usd"):
            c.send_task_sync(TaskSpec(skill="echo", input="q", policy=cheap))
        with pytest.raises(PolicyViolation, match="max_cost_usd"):
            list(c.stream_task_sync(TaskSpec(skill="echo", input="q", policy=cheap)))
        assert peer.stats()["rpc"] == connected["rpc"]  # nothing reached the peer
        task = run_to_completion(c, TaskSpec(skill="echo", input="priced",
                                             policy=TaskPolicy(max_cost_usd=0.10)))
        assert task.status.state is TaskState.COMPLETED
        sent = peer.stats()["rpc"]
        assert sent > connected["rpc"]
        with pytest.raises(BudgetExceeded):
            c.send_task_sync(TaskSpec(skill="echo", input="over budget"))
        assert peer.stats()["rpc"] == sent


async def check_budget_before_the_wire_async(peer: InteropPeer, engine: ruvector.Engine) -> None:
    from ruvector.a2a import (A2aClient, BudgetExceeded, GlobalBudget, PolicyViolation,
                              TaskPolicy, TaskSpec, TaskState)

    cheap = TaskPolicy(max_cost_usd=0.05)
    budget = GlobalBudget(max_usd_per_minute=0.15)
    before = peer.stats()
    async with await A2aClient.connect(peer.url, engine=engine, protocol=peer.protocol,
                                       budget=budget) as c:
        connected = peer.stats()
        # connect is only the card GET (or none: the card cache may hold it)
        assert connected["rpc"] == before["rpc"]
        with pytest.raises(PolicyViolation, match="max_cost_usd"):
            await c.send_task(TaskSpec(skill="echo", input="q", policy=cheap))
        with pytest.raises(PolicyViolation, match="max_cost_usd"):
            async for _ in c.stream_task(TaskSpec(skill="echo", input="q", policy=cheap)):
                pass
        assert peer.stats()["rpc"] == connected["rpc"]
        task = await c.send_task(TaskSpec(skill="echo", input="priced",
                                          policy=TaskPolicy(max_cost_usd=0.10)))
        for _ in range(200):
            if task.status.state.is_terminal:
                break
            task = await c.get_task(task.id)
        assert task.status.state is TaskState.COMPLETED
        sent = peer.stats()["rpc"]
        with pytest.raises(BudgetExceeded):
            await c.send_task(TaskSpec(skill="echo", input="over budget"))
        assert peer.stats()["rpc"] == sent


def run_to_completion(client: Any, spec: Any) -> Any:
    """Sends spec and polls get_task until the task is terminal (at most
    200 polls); returns the last task seen."""
    task = client.send_task_sync(spec)
    for _ in range(200):
        if task.status.state.is_terminal:
            break
        task = client.get_task_sync(task.id)
    return task


async def async_round_trip(peer: InteropPeer, engine: ruvector.Engine) -> None:
    """The asyncio API against an interop peer (the plugin's I/O thread, the
    notify fd on the loop): send, get until COMPLETED, 20 gets at once and a
    stream to completion."""
    from ruvector.a2a import A2aClient, TaskSpec, TaskState

    async with await A2aClient.connect(peer.url, engine=engine,
                                       protocol=peer.protocol) as c:
        task = await c.send_task(TaskSpec(skill="echo", input="async"))
        for _ in range(200):
            if task.status.state.is_terminal:
                break
            task = await c.get_task(task.id)
        assert task.status.state is TaskState.COMPLETED
        same = await asyncio.gather(*(c.get_task(task.id) for _ in range(20)))
        assert {t.id for t in same} == {task.id}
        ups = [u async for u in c.stream_task(TaskSpec(skill="echo", input="astream"))]
        arts = [u for u in ups if u.kind == "artifact"]
        assert arts and arts[0].artifact is not None
        assert arts[0].artifact.parts[0].text == "echo: astream"
        assert ups[-1].status is not None and ups[-1].status.state is TaskState.COMPLETED


def check_g2(kind: str, peer: InteropPeer, engine: ruvector.Engine, name: str,
             record_property: Any, capsys: Any) -> None:
    """A4 (gate G2, a2a.md §8) against an SDK peer: its stream of 1,000
    WORKING updates (input "many:1000": the task, WORKING, 1,000 more, the
    artifact, COMPLETED) shares the loop with two ruLake search_one_async
    workloads; no slow callback with loop debug on, no thread added by 50
    concurrent get_task calls; the time ratio is printed and recorded, as in
    test_a2a_stream.py (RUVECTOR_G2_ENFORCE=1 asserts it)."""
    if kind == "uvloop":
        try:
            import uvloop  # noqa: F401, PLC0415
        except ImportError:
            pytest.skip("uvloop is not installed (pip install uvloop); G2 ran on asyncio only")
    from test_a2a_stream import N_UPDATES, run_g2_at  # noqa: PLC0415

    with capsys.disabled():
        run_g2_at(kind, peer.url, engine, record_property, protocol=peer.protocol,
                  text=f"many:{N_UPDATES}", expect=N_UPDATES + 4,
                  what=f"{name} v{peer.protocol} ")


def python_with(module: str, candidates: List[str]) -> Optional[str]:
    for py in candidates:
        try:
            r = subprocess.run([py, "-c", f"import {module}"], capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return py
    return None


class FakePeer(Peer):
    def control(self, mode: str = "normal", card: str = "v1") -> None:
        req = urllib.request.Request(f"{self.url}/_control",
                                     data=json.dumps({"mode": mode, "card": card}).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def stats(self) -> Dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_stats", timeout=10) as r:
            out: Dict[str, Any] = json.loads(r.read())
            return out


def start_fake(tls: Optional[List[str]] = None) -> FakePeer:
    """The fake peer; tls = [cert, key] serves https."""
    py = python_with("cryptography", [sys.executable, "/usr/bin/python3", "python3"])
    if py is None:
        pytest.skip("no python3 with `cryptography` to run the fake A2A peer "
                    "(apt-get install python3-cryptography)")
    return FakePeer([py, str(FAKE)] + (["--tls", *tls] if tls else []), "fake A2A peer")


def self_signed(dirpath: Path, name: str, san: str) -> List[str]:
    """A self-signed certificate (and key) made with the openssl CLI."""
    cert, key = dirpath / f"{name}.pem", dirpath / f"{name}.key"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                        f"/CN={name}", "-addext", f"subjectAltName={san}", "-keyout", str(key),
                        "-out", str(cert)], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"openssl cannot make a test certificate: {exc}")
    return [str(cert), str(key)]


# The a2a test modules' shared fixtures, imported by name into each module
# (module scope: one engine and one fake peer per module).
@pytest.fixture(scope="module")
def engine() -> ruvector.Engine:
    return a2a_engine()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePeer]:
    peer = start_fake()
    yield peer
    peer.stop()
