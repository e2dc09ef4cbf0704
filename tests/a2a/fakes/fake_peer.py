#!/usr/bin/env python3
"""tests/a2a/fakes/fake_peer.py - a loopback A2A peer for the client tests
(a2a.md §9 "Fakes"): the standard library's HTTP server plus `cryptography`
for the Ed25519 card signature. It does what real peers cannot: malformed
JSON and SSE, wrong JSON-RPC ids, oversized bodies, 5xx, tampered and
unsigned cards, v0.3-only and rvagent-a2a cards, and it counts requests.

    python3 fake_peer.py [--seed HEX32] [--tls CERT KEY]
        prints "PORT <n> AGENT_ID <hex>" and serves (https with --tls)

Control (JSON over POST, for tests): /_control {"mode": M, "card": C}
sets how RPCs and the card are answered; GET /_stats gives request counts
and the last RPC's method and A2A-Version header.
"""
import argparse
import base64
import email.utils
import gzip
import hashlib
import json
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def strip_empty(v):
    """a2a.md §4 step 3 on plain data: drop "", None, [] and {}."""
    if isinstance(v, dict):
        out = {k: strip_empty(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x not in ("", None, [], {})}
    if isinstance(v, list):
        out = [strip_empty(x) for x in v]
        return [x for x in out if x not in ("", None, [], {})]
    return v


def jcs(v) -> bytes:
    # RFC 8785 for cards of strings, bools and arrays (no numbers, no
    # non-BMP keys): sorted keys, no whitespace, raw UTF-8.
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


JWKS_KEY = Ed25519PrivateKey.from_private_bytes(bytes.fromhex("22" * 32))
JWKS = {"keys": [
    {"kty": "OKP", "crv": "Ed25519", "kid": "k0", "use": "sig",
     "x": b64u(Ed25519PrivateKey.from_private_bytes(bytes.fromhex("33" * 32)).public_key()
               .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))},
    {"kty": "OKP", "crv": "Ed25519", "kid": "k1", "use": "sig",
     "x": b64u(JWKS_KEY.public_key().public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw))}]}
PREFIX = re.compile(r"^/(redir(\d)|redir_foreign|agent[ABR]|jku[a-z0-9_]*)(/.*)$")
_BOMB = []
_BOMB_LOCK = threading.Lock()


def gzip_bomb():
    """32 MiB of JSON (whitespace, mostly) gzipped to ~32 KiB, made once."""
    with _BOMB_LOCK:
        if not _BOMB:
            raw = b'{"jsonrpc":"2.0","id":"x","result":' + b" " * (32 << 20) + b'{"id":"x"}}'
            _BOMB.append(gzip.compress(raw, 6))
        return _BOMB[0]


class Peer:
    def __init__(self, seed: bytes):
        self.key = Ed25519PrivateKey.from_private_bytes(seed)
        pub = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.pub = pub
        self.agent_id = hashlib.shake_256(pub).hexdigest(32)
        self.mode = "normal"
        self.card_mode = "v1"
        self.port = 0
        self.scheme = "http"
        self.tasks = {}
        self.lock = threading.Lock()
        self.stats = {"card": 0, "rpc": 0, "last_method": None, "last_version": None,
                      "methods": []}

    def card(self, mode=None, name=None, rpc_path="/a2a/jsonrpc"):
        # The mode is read once: handlers run on their own threads, and a
        # /_control request may change card_mode while a card is being served.
        mode = self.card_mode if mode is None else mode
        base = f"{self.scheme}://127.0.0.1:{self.port}"
        ifaces = [{"url": base + rpc_path, "protocolBinding": "JSONRPC",
                   "protocolVersion": "1.0"}]
        if mode in ("v03", "both"):
            v03 = {"url": base + "/a2a/v03", "protocolBinding": "JSONRPC",
                   "protocolVersion": "0.3"}
            ifaces = [v03] if mode == "v03" else ifaces + [v03]
        card = {
            "name": "fake peer", "description": "tests/a2a/fakes/fake_peer.py",
            "version": "1.0.0", "supportedInterfaces": ifaces,
            "capabilities": {"streaming": True, "pushNotifications": False, "extensions": [
                {"uri": "urn:ruvector:a2a:identity:v1",
                 "params": {"publicKey": b64u(self.pub), "agentId": self.agent_id}},
                {"uri": "urn:ruvector:a2a:pricing:v1",
                 "params": {"rag.query": {"usdPerCall": "0.10", "tokensPerCall": "4000"}}}]},
            "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
            "skills": [{"id": "rag.query", "name": "RAG", "description": "x", "tags": ["rag"]},
                       {"id": "echo", "name": "Echo", "description": "echoes", "tags": ["t"]}],
        }
        if name:
            card["name"] = name
        if mode == "rvagent":
            return {"name": "legacy", "url": base + "/", "version": "0.1.0",
                    "authentication": {"schemes": ["bearer"]},
                    "metadata": {"ruvector": {"signature": "00"}}, "skills": []}
        protected = b64u(json.dumps({"alg": "EdDSA", "kid": self.agent_id, "typ": "JOSE"},
                                    separators=(",", ":")).encode())
        payload = jcs(strip_empty(card))
        sig = self.key.sign(protected.encode() + b"." + b64u(payload).encode())
        if mode != "unsigned":
            card["signatures"] = [{"protected": protected, "signature": b64u(sig)}]
        if mode == "tampered":
            card["name"] = "evil peer"
        return card

    def jku_card(self, kind):
        # A card without the identity extension, signed by the JWKS key
        # (seed 22 x 32) under kid "k1" and naming a jku: a2a.md §4 key
        # resolution 3. kind picks the jku and the header.
        base = f"{self.scheme}://127.0.0.1:{self.port}"
        card = {"name": "jku peer " + kind, "description": "signed by a jku key",
                "version": "1.0.0",
                "supportedInterfaces": [{"url": base + "/a2a/jsonrpc", "protocolBinding": "JSONRPC",
                                         "protocolVersion": "1.0"}],
                "capabilities": {"streaming": True},
                "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
                "skills": [{"id": "echo", "name": "Echo", "description": "echoes", "tags": ["t"]}]}
        jku = {"jku": base + "/jwks.json", "jku_redirect": base + "/jwks_redirect.json",
               "jku_unknown": base + "/jwks.json",
               "jku_foreign": f"http://localhost:{self.port}/jwks.json",
               "jku_plainhttp": "http://keys.example.com/jwks.json",
               "jku_hs256": base + "/jwks.json", "jku_none": base + "/jwks.json",
               "jku_big": base + "/jwks_big.json"}[kind]
        hdr = {"alg": {"jku_hs256": "HS256", "jku_none": "none"}.get(kind, "EdDSA"),
               "kid": "k2" if kind == "jku_unknown" else "k1", "typ": "JOSE", "jku": jku}
        protected = b64u(json.dumps(hdr, separators=(",", ":")).encode())
        payload = jcs(strip_empty(card))
        sig = JWKS_KEY.sign(protected.encode() + b"." + b64u(payload).encode())
        card["signatures"] = [{"protected": protected, "signature": b64u(sig)}]
        return card

    # ---- tasks ----
    def new_task(self, msg):
        tid, cid = str(uuid.uuid4()), str(uuid.uuid4())
        text = "".join(p.get("text", "") for p in msg.get("parts", []))
        t = {"id": tid, "contextId": cid, "status": {"state": "TASK_STATE_SUBMITTED"},
             "history": [msg], "artifacts": [], "metadata": {}, "_text": text, "_gets": 0}
        with self.lock:
            self.tasks[tid] = t
        return t

    @staticmethod
    def public(t):
        return {k: v for k, v in t.items() if not k.startswith("_")}

    def advance(self, t):
        t["_gets"] += 1
        if t["status"]["state"] in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING"):
            if t["_gets"] >= 2:
                t["status"] = {"state": "TASK_STATE_COMPLETED"}
                t["artifacts"] = [{"artifactId": "a1", "name": "answer",
                                   "parts": [{"text": "echo: " + t["_text"]}]}]
            else:
                t["status"] = {"state": "TASK_STATE_WORKING"}


V03_STATES = {"TASK_STATE_SUBMITTED": "submitted", "TASK_STATE_WORKING": "working",
              "TASK_STATE_COMPLETED": "completed", "TASK_STATE_CANCELED": "canceled"}


def to_v03(obj, kind):
    """The fake's v1 objects in v0.3 shape (kind fields, lowercase states)."""
    o = json.loads(json.dumps(obj))
    o["kind"] = kind
    st = o.get("status")
    if st:
        st["state"] = V03_STATES.get(st["state"], "unknown")
    for a in o.get("artifacts", []) + ([o["artifact"]] if "artifact" in o else []):
        a["parts"] = [dict(p, kind="text") for p in a["parts"]]
    for m in o.get("history", []):
        m["kind"] = "message"
        m["role"] = "user"
        m["parts"] = [dict(p, kind="text") if "text" in p else p for p in m.get("parts", [])]
    return o


class Handler(BaseHTTPRequestHandler):
    peer: Peer = None  # set at start
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, obj, status=200, raw=None, ctype="application/json", headers=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = self.peer
        if self.path.startswith("/cachetest/"):  # a base URL of its own, for cache tests
            self.path = self.path[len("/cachetest"):]
        if self.path == "/_stats":
            return self.send_json(p.stats)
        if self.path == "/jwks_big.json":  # over the 64 KiB JWKS cap
            big = {"keys": JWKS["keys"] + [{"kty": "OKP", "crv": "Ed25519", "kid": f"pad{i}",
                                            "x": "A" * 43} for i in range(1200)]}
            return self.send_json(big)
        if self.path in ("/jwks.json", "/jwks_redirect.json"):
            # Stateless paths (the card tests run in parallel with others).
            with p.lock:
                p.stats["jwks"] = p.stats.get("jwks", 0) + 1
                p.stats["jwks_auth"] = self.headers.get("Authorization")
            if self.path == "/jwks_redirect.json":
                return self.send_json(None, status=302, raw=b"", headers={"Location": "/jwks.json"})
            return self.send_json(JWKS, headers={"Cache-Control": "max-age=60"})
        m = PREFIX.match(self.path)
        if m and m.group(3) == "/.well-known/agent-card.json":
            name = m.group(1)
            with p.lock:
                p.stats.setdefault("card_auth", []).append(self.headers.get("Authorization"))
            if m.group(2) and m.group(2) != "0":  # /redirN -> /redirN-1, relative
                return self.send_json(None, status=302, raw=b"", headers={
                    "Location": f"/redir{int(m.group(2)) - 1}/.well-known/agent-card.json"})
            if name == "redir_foreign":  # the same server under another host name
                return self.send_json(None, status=302, raw=b"", headers={
                    "Location": f"http://localhost:{p.port}/.well-known/agent-card.json"})
            if name.startswith("agent"):  # two agents on one host, cached
                card = p.card(name="fake " + name,
                              rpc_path="/a2a/redirect" if name == "agentR" else "/a2a/jsonrpc")
                return self.send_json(card, headers={"Cache-Control": "max-age=60"})
            if name.startswith("jku"):
                return self.send_json(p.jku_card(name))
            return self.send_json(p.card())
        if self.path == "/.well-known/agent-card.json":
            p.stats["card"] += 1
            p.stats["card_version"] = self.headers.get("A2A-Version")
            if p.card_mode in ("rvagent", "legacy_path_tampered"):
                return self.send_json({}, status=404)
            if p.card_mode == "bigcard":
                return self.send_json(None, raw=b'{"name":"' + b"x" * (2 << 20) + b'"}')
            if p.card_mode == "badjson":
                return self.send_json(None, raw=b'{"name": "x",')
            if p.mode in ("cache_maxage", "cache_etag"):
                etag = '"card-' + p.card_mode + '"'
                cc = "public, max-age=60" if p.mode == "cache_maxage" else "max-age=0"
                if self.headers.get("If-None-Match") == etag:
                    p.stats["card_304"] = p.stats.get("card_304", 0) + 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Cache-Control", cc)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self.send_json(p.card(), headers={"ETag": etag, "Cache-Control": cc})
            return self.send_json(p.card())
        if self.path == "/.well-known/agent.json" and p.card_mode == "rvagent":
            p.stats["card"] += 1
            return self.send_json(p.card())
        if self.path == "/.well-known/agent.json" and p.card_mode == "legacy_path_tampered":
            p.stats["card"] += 1
            return self.send_json(p.card("tampered"))
        self.send_json({"error": "not found"}, status=404)

    def do_POST(self):
        p = self.peer
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.path == "/_control":
            ctl = json.loads(body)
            p.mode = ctl.get("mode", p.mode)
            p.card_mode = ctl.get("card", p.card_mode)
            p.stats.update({"card": 0, "rpc": 0, "methods": [], "card_304": 0})
            return self.send_json({"ok": True})
        if self.path == "/a2a/redirect":  # a2a.md §6: a POST is never redirected
            return self.send_json(None, status=307, raw=b"",
                                  headers={"Location": "/a2a/jsonrpc"})
        p.stats["rpc"] += 1
        req = json.loads(body)
        method, rid, params = req.get("method"), req.get("id"), req.get("params", {})
        p.stats["last_method"] = method
        p.stats["methods"].append(method)
        p.stats["last_version"] = self.headers.get("A2A-Version")
        p.stats["last_auth"] = self.headers.get("Authorization")
        p.stats["last_params"] = params
        v03 = self.path == "/a2a/v03"
        mode = p.mode
        if mode == "http500":
            return self.send_json(None, status=502, raw=b"<html>bad gateway</html>",
                                  ctype="text/html")
        if mode in ("flaky503", "always503", "retry_after_long"):
            if mode != "flaky503" or p.stats["rpc"] <= 2:
                body = b"<html>unavailable</html>"
                self.send_response(503)
                self.send_header("Retry-After", "60" if mode == "retry_after_long" else "0")
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return None
        if mode.startswith("retry_after_") and mode != "retry_after_long":
            # Retry-After as an HTTP-date or garbage (a2a.md §6): _date +2 s
            # and _garbage answer the first two RPCs 503, then serve; _date_long
            # (+120 s) always answers 503.
            if mode == "retry_after_date_long" or p.stats["rpc"] <= 2:
                when = {"retry_after_date": 2, "retry_after_date_long": 120,
                        "retry_after_past": -3600}.get(mode)
                value = (email.utils.formatdate(time.time() + when, usegmt=True)
                         if when is not None else "soon, maybe")
                body = b"<html>unavailable</html>"
                self.send_response(503)
                self.send_header("Retry-After", value)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return None
        if mode in ("gzip", "gzip_bomb"):
            # Compression (a2a.md §6, §10 item 23): gzip answers the client's
            # Accept-Encoding; gzip_bomb sends 32 MiB of JSON whitespace
            # compressed to ~32 KiB whatever the client asked.
            p.stats["last_accept_encoding"] = self.headers.get("Accept-Encoding")
            if mode == "gzip_bomb":
                return self.send_json(None, raw=gzip_bomb(),
                                      headers={"Content-Encoding": "gzip"})
            t = p.tasks.get(params.get("id"))
            if method == "GetTask" and t and "gzip" in (self.headers.get("Accept-Encoding") or ""):
                raw = json.dumps({"jsonrpc": "2.0", "id": rid, "result": p.public(t)}).encode()
                return self.send_json(None, raw=gzip.compress(raw),
                                      headers={"Content-Encoding": "gzip"})
        if mode == "slow_headers":  # slowloris: one header byte every 100 ms, for 5 s
            try:
                for b in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 50:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
            self.close_connection = True
            return None
        if mode == "malformed_json":
            return self.send_json(None, raw=b'{"jsonrpc":"2.0","id":"' + rid.encode() + b'","res')
        if mode == "wrong_id":
            return self.send_json({"jsonrpc": "2.0", "id": "not-" + rid, "result": {}})
        if mode == "bad_version":
            return self.send_json({"jsonrpc": "1.0", "id": rid, "result": {}})
        if mode == "both":
            return self.send_json({"jsonrpc": "2.0", "id": rid, "result": {},
                                   "error": {"code": -1, "message": "x"}})
        if mode == "oversized":
            return self.send_json(None, raw=b'{"jsonrpc":"2.0","id":"' + rid.encode() +
                                  b'","result":{"task":{"id":"' + b"x" * (1 << 20) + b'"}}}')
        if mode == "v1_unknown" and not v03:
            return self.rpc_error(rid, -32601, "Method not found")
        if v03:
            return self.handle_v03(method, rid, params)
        if method == "SendMessage":
            t = p.new_task(params["message"])
            return self.send_json({"jsonrpc": "2.0", "id": rid, "result": {"task": p.public(t)}})
        if method in ("GetTask", "CancelTask"):
            t = p.tasks.get(params.get("id"))
            if t is None:
                return self.rpc_error(rid, -32001, "Task not found")
            if method == "GetTask":
                p.advance(t)
            elif t["status"]["state"] == "TASK_STATE_COMPLETED":
                return self.rpc_error(rid, -32002, "Task cannot be canceled")
            else:
                t["status"] = {"state": "TASK_STATE_CANCELED"}
            return self.send_json({"jsonrpc": "2.0", "id": rid, "result": p.public(t)})
        if method == "SendStreamingMessage":
            return self.stream(rid, params)
        if method == "SubscribeToTask":
            return self.subscribe(rid, params)
        return self.rpc_error(rid, -32601, "Method not found")

    def handle_v03(self, method, rid, params):
        p = self.peer
        if method == "message/send":
            msg = params["message"]
            ok = msg.get("kind") == "message" and msg.get("role") == "user" and all(
                part.get("kind") == "text" for part in msg["parts"])
            if not ok or params.get("configuration", {}).get("blocking") is not False:
                return self.rpc_error(rid, -32602, "not a v0.3 message")
            t = p.new_task(msg)
            return self.send_json({"jsonrpc": "2.0", "id": rid, "result": to_v03(p.public(t), "task")})
        if method == "tasks/get":
            t = p.tasks.get(params.get("id"))
            if t is None:
                return self.rpc_error(rid, -32001, "Task not found")
            p.advance(t)
            return self.send_json({"jsonrpc": "2.0", "id": rid, "result": to_v03(p.public(t), "task")})
        if method == "message/stream":
            return self.stream(rid, params, v03=True)
        if method == "tasks/resubscribe":
            return self.subscribe(rid, params, v03=True)
        return self.rpc_error(rid, -32601, "Method not found")

    def rpc_error(self, rid, code, message):
        return self.send_json({"jsonrpc": "2.0", "id": rid,
                               "error": {"code": code, "message": message}})

    def subscribe(self, rid, params, v03=False):
        """A resumed stream: the task's snapshot, then the rest of its run.
        v0.3 (tasks/resubscribe) sends no snapshot, as v0.3 peers need not:
        only the rest of the run, the last status with final: true."""
        p = self.peer
        t = p.tasks.get(params.get("id"))
        if t is None or p.mode == "sse_early_eof_gone":
            return self.rpc_error(rid, -32001, "Task not found")
        if t["status"]["state"] in ("TASK_STATE_COMPLETED", "TASK_STATE_CANCELED"):
            return self.rpc_error(rid, -32004, "Task is in a terminal state")
        tid, cid = t["id"], t["contextId"]
        art = {"artifactId": "a1", "name": "answer", "parts": [{"text": "hello"}]}
        events = [{"task": p.public(t)},
                  {"artifactUpdate": {"taskId": tid, "contextId": cid, "artifact": art,
                                      "lastChunk": True}},
                  {"statusUpdate": {"taskId": tid, "contextId": cid,
                                    "status": {"state": "TASK_STATE_COMPLETED"}}}]
        if t["artifacts"]:  # made while the client was away: only in the snapshot
            del events[1]
        if v03:
            done = to_v03(events[-1]["statusUpdate"], "status-update")
            done["final"] = True
            events = [to_v03(e["artifactUpdate"], "artifact-update")
                      for e in events if "artifactUpdate" in e] + [done]
        t["status"] = {"state": "TASK_STATE_COMPLETED"}
        t["artifacts"] = [art]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for e in events:
            self.wfile.write(("data: " + json.dumps({"jsonrpc": "2.0", "id": rid, "result": e})
                              + "\n\n").encode())
        self.close_connection = True
        return None

    def stream(self, rid, params, v03=False):
        p = self.peer
        mode = p.mode
        if mode == "upfront_error":
            return self.rpc_error(rid, -32004, "Unsupported operation")
        t = p.new_task(params["message"])
        tid, cid = t["id"], t["contextId"]

        def ev(result, event=None):
            head = f"event: {event}\n" if event else ""
            return (head + "data: " + json.dumps({"jsonrpc": "2.0", "id": rid, "result": result})
                    + "\n\n").encode()

        def status(state, final=False):
            if v03:
                o = to_v03({"taskId": tid, "contextId": cid, "status": {"state": state}},
                           "status-update")
                o["final"] = final
                return o
            return {"statusUpdate": {"taskId": tid, "contextId": cid, "status": {"state": state}}}

        art = {"taskId": tid, "contextId": cid, "lastChunk": True,
               "artifact": {"artifactId": "a1", "name": "answer", "parts": [{"text": "hello"}]}}
        events = [to_v03(p.public(t), "task") if v03 else {"task": p.public(t)}]
        events += [status("TASK_STATE_WORKING")] * 3
        events += [to_v03(art, "artifact-update") if v03 else {"artifactUpdate": art}]
        events += [status("TASK_STATE_COMPLETED", final=True)]
        chunks = [ev(e) for e in events]
        if mode == "sse_malformed":
            chunks = chunks[:2] + [b"data: {not json\n\n"]
        elif mode == "sse_wrong_id":
            chunks = chunks[:1] + [chunks[1].replace(rid.encode(), b"other-id")]
        elif mode == "sse_error_event":
            chunks = chunks[:2] + [("event: error\ndata: " + json.dumps(
                {"jsonrpc": "2.0", "id": rid, "error": {"code": -32603, "message": "boom"}})
                + "\n\n").encode()]
        elif mode == "sse_big_event":
            chunks = chunks[:1] + [b"data: " + b"x" * (256 << 10) + b"\n\n"]
        elif mode in ("sse_early_eof", "sse_early_eof_gone"):
            chunks = chunks[:3]  # task, WORKING, WORKING, then the connection ends
            t["status"] = {"state": "TASK_STATE_WORKING"}
        elif mode == "sse_early_eof_art":
            chunks = chunks[:2]  # task, WORKING; the artifact is made while the client is away
            t["status"] = {"state": "TASK_STATE_WORKING"}
            t["artifacts"] = [art["artifact"]]
        elif mode == "sse_early_eof_done":
            chunks = chunks[:4]  # and the task completes while the client is away
            t["status"] = {"state": "TASK_STATE_COMPLETED"}
            t["artifacts"] = [art["artifact"]]
        elif mode == "sse_dribble":  # one event, then an event that never ends, 1 B / 50 ms
            chunks = chunks[:1] + [b"dribble"]
        elif mode == "sse_stall":  # one event, then silence
            chunks = chunks[:1] + [None]
        elif mode == "sse_slow_pings":  # a ping every 100 ms for 1.5 s mid-stream
            chunks = chunks[:2] + [b": ping\n\n"] * 15 + chunks[2:]
        elif mode in ("sse_many", "sse_flood"):  # G2: 1,000 updates; backpressure: 5,000
            many = [ev({"statusUpdate": {"taskId": tid, "contextId": cid, "status": {
                "state": "TASK_STATE_WORKING",
                "message": {"messageId": f"p{i}", "role": "ROLE_AGENT",
                            "parts": [{"text": f"step {i}"}]}}}})
                    for i in range(1000 if mode == "sse_many" else 5000)]
            chunks = chunks[:1] + many + chunks[-1:]
        elif mode == "sse_pings":
            chunks = [b"\xef\xbb\xbf: ping\r\n\r\n"] + [c.replace(b"\n", b"\r\n") for c in chunks]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for c in chunks:
                if c is None:
                    time.sleep(5)
                    break
                if c == b"dribble":
                    self.wfile.write(b"data: {")
                    for _ in range(100):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.05)
                    break
                self.wfile.write(c)
                self.wfile.flush()
                if mode == "sse_slow_pings" and c.startswith(b":"):
                    time.sleep(0.1)
                elif mode == "sse_many":  # G2: a peer producing ~1,000 updates a second
                    time.sleep(0.001)
        except OSError:
            pass
        self.close_connection = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", default="11" * 32)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    peer = Peer(bytes.fromhex(args.seed))
    Handler.peer = peer
    class Server(ThreadingHTTPServer):
        # 50 calls in flight at once (test_a2a_io, gate G2): the default
        # backlog of 5 drops SYNs under load, and the retransmits take seconds.
        request_queue_size = 128

        def handle_error(self, request, client_address):
            pass  # clients that hang up on oversized bodies are the point

    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    peer.port = srv.server_address[1]
    if args.tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        peer.scheme = "https"
    print(f"PORT {peer.port} AGENT_ID {peer.agent_id}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
