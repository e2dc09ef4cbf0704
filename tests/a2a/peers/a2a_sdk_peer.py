#!/usr/bin/env python3
"""tests/a2a/peers/a2a_sdk_peer.py - the official Python SDK (`a2a-sdk`
1.3.0, PyPI) as a loopback A2A peer for interop tests (a2a.md §9). Runs in
its own venv (Python >= 3.10):

    python -m venv V && V/bin/pip install 'a2a-sdk[http-server,signing,encryption]==1.3.0' uvicorn
    V/bin/python a2a_sdk_peer.py [--v03-compat]     prints "PORT <n> AGENT_ID <hex>"

The card is signed by the SDK's own signer (EdDSA, kid = the AgentID of the
ruvector identity extension, so the client can verify it without pins).
The executor publishes the task, WORKING, one text artifact, COMPLETED
(for the input "many:N", N more WORKING updates before the artifact).
The card also prices the skill (urn:ruvector:a2a:pricing:v1, $0.10 per
call) for the budget test A5. For A2 the SDK's card routes also serve the
card with its name changed after signing, at
/tampered/.well-known/agent-card.json and (agent-card.json answering 404
there) at /fallback/.well-known/agent.json. GET /_stats counts the requests:
{"card": n, "rpc": n} (counts only grow).
"""
import argparse
import asyncio
import base64
import hashlib
import json
import re
import socket
import sys

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf import struct_pb2
from starlette.applications import Starlette

from a2a.helpers import new_task_from_user_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (AgentCapabilities, AgentCard, AgentExtension, AgentInterface, AgentSkill,
                       Part, TaskState)
from a2a.utils.signing import create_agent_card_signer


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Echo(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        if task is None:
            task = new_task_from_user_message(context.message)
            await event_queue.enqueue_event(task)
        up = TaskUpdater(event_queue, task.id, task.context_id)
        await up.start_work()
        many = re.fullmatch(r"many:(\d+)", context.get_user_input())
        # The A4 / gate G2 interop test: N more WORKING updates, about one a
        # millisecond, as the fake peer paces them (a2a.md §8).
        for _ in range(int(many.group(1)) if many else 0):
            await up.update_status(TaskState.TASK_STATE_WORKING)
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.05)
        await up.add_artifact(parts=[Part(text="echo: " + context.get_user_input())],
                              name="answer", last_chunk=True)
        await up.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        up = TaskUpdater(event_queue, context.task_id, context.context_id)
        await up.cancel()


STATS = {"card": 0, "rpc": 0}
ES256_JWK = {}  # set in main


def counting(app):
    """The app behind a request counter (ASGI): GET /_stats answers STATS."""
    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            if scope["path"] in ("/_stats", "/_es256_jwk"):
                body = json.dumps(STATS if scope["path"] == "/_stats" else ES256_JWK).encode()
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                return
            if scope["method"] == "POST":
                STATS["rpc"] += 1
            elif "/.well-known/" in scope["path"]:
                STATS["card"] += 1
        await app(scope, receive, send)
    return wrapped


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--v03-compat", action="store_true")
    args = ap.parse_args()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    key = Ed25519PrivateKey.from_private_bytes(bytes([0x22]) * 32)
    pub = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    agent_id = hashlib.shake_256(pub).hexdigest(32)
    params = struct_pb2.Struct()
    params.update({"publicKey": b64u(pub), "agentId": agent_id})
    pricing = struct_pb2.Struct()
    pricing.update({"echo": {"usdPerCall": "0.10", "tokensPerCall": "4000"}})
    url = f"http://127.0.0.1:{port}/a2a/jsonrpc"
    ifaces = [AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")]
    if args.v03_compat:
        ifaces.append(AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="0.3"))
    card = AgentCard(
        name="a2a-sdk peer", description="a2a-sdk 1.3.0 on loopback", version="1.0.0",
        supported_interfaces=ifaces,
        capabilities=AgentCapabilities(streaming=True, push_notifications=False, extensions=[
            AgentExtension(uri="urn:ruvector:a2a:identity:v1", params=params),
            AgentExtension(uri="urn:ruvector:a2a:pricing:v1", params=pricing)]),
        default_input_modes=["text/plain"], default_output_modes=["text/plain"],
        skills=[AgentSkill(id="echo", name="Echo", description="echoes", tags=["test"])],
    )
    signer = create_agent_card_signer(
        signing_key=key, protected_header={"alg": "EdDSA", "kid": agent_id, "typ": "JOSE"})
    unsigned = AgentCard()
    unsigned.CopyFrom(card)
    card = signer(card)
    handler = DefaultRequestHandler(agent_executor=Echo(), task_store=InMemoryTaskStore(),
                                    agent_card=card)
    routes = create_agent_card_routes(agent_card=card)
    # A1's ES256 case: the card without the identity extension, signed by
    # the SDK with a P-256 key (kid "es256-1"), at /es256/.well-known/
    # agent-card.json; the public JWK, for the test to pin, at /_es256_jwk.
    ec_key = ec.derive_private_key(int.from_bytes(bytes(range(1, 33)), "big"), ec.SECP256R1())
    nums = ec_key.public_key().public_numbers()
    es256_jwk = {"kty": "EC", "crv": "P-256", "x": b64u(nums.x.to_bytes(32, "big")),
                 "y": b64u(nums.y.to_bytes(32, "big"))}
    plain = AgentCard()
    plain.CopyFrom(unsigned)
    del plain.capabilities.extensions[0]  # the identity extension
    es256 = create_agent_card_signer(
        signing_key=ec_key, protected_header={"alg": "ES256", "kid": "es256-1", "typ": "JOSE"})(plain)
    ES256_JWK.update(es256_jwk)
    routes += create_agent_card_routes(agent_card=es256,
                                       card_url="/es256/.well-known/agent-card.json")
    tampered = AgentCard()
    tampered.CopyFrom(card)
    tampered.name = "a2a-sdk peer (tampered)"
    for path in ("/tampered/.well-known/agent-card.json", "/fallback/.well-known/agent.json"):
        routes += create_agent_card_routes(agent_card=tampered, card_url=path)
    routes += create_jsonrpc_routes(request_handler=handler, rpc_url="/a2a/jsonrpc",
                                    enable_v0_3_compat=args.v03_compat)
    app = Starlette(routes=routes)
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts
    print(f"PORT {port} AGENT_ID {agent_id}", flush=True)
    config = uvicorn.Config(counting(app), log_level="warning")
    server = uvicorn.Server(config)
    asyncio.run(server.serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
