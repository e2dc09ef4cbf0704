#!/usr/bin/env python3
"""tests/a2a/make_fuzz_seeds.py — writes the a2a fuzzers' seed inputs into
tests/a2a/fuzz-seeds/{sse,jcs,card,jsonrpc,jwks,headers}/ from the committed vectors:
    python3 tests/a2a/make_fuzz_seeds.py
Each seed starts with the fuzzer's selector byte (see the fuzz_a2a_*.c headers)."""
import base64, json, os, pathlib

here = pathlib.Path(__file__).resolve().parent
out = here / "fuzz-seeds"
vec = json.loads((here / "vectors" / "cards.json").read_text())
docs = json.loads((here / "vectors" / "jcs.json").read_text())

def put(kind, name, data):
    d = out / kind
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)

stream = (b"\xef\xbb\xbfdata: {\"jsonrpc\":\"2.0\",\"id\":\"7\",\"result\":{\"task\":{\"id\":\"t1\"}}}\r\n\r\n"
          b": ping\nevent: error\rdata: a\rdata:b\r\rid: e-9\nretry: 2500\ndata\n\ndata: tail")
put("sse", "recorded-chunk1", b"\x00" + stream)
put("sse", "recorded-chunk7-smallcap", b"\x86" + stream)
for i in (0, 1, 2, 3, 4):
    put("jcs", f"doc{i}-doubles", b"\x01" + docs[i]["input"].encode())
    put("jcs", f"doc{i}-ints", b"\x00" + docs[i]["input"].encode())

j1_id = "bb42f5a06cec4f36e3e9173236e88cdba7aa1a7bf737f6c6c372aa4c9268573e"
prot = base64.urlsafe_b64encode(json.dumps({"alg": "EdDSA", "kid": j1_id, "typ": "JOSE"},
                                           separators=(",", ":")).encode()).rstrip(b"=").decode()
j1 = {"name": "ruvector-test-peer", "description": "identity fixture", "version": "1.0.0",
      "supportedInterfaces": [{"url": "http://127.0.0.1:41241/a2a/jsonrpc", "protocolBinding": "JSONRPC",
                               "tenant": "", "protocolVersion": "1.0"}],
      "capabilities": {"streaming": True, "pushNotifications": False,
                       "extensions": [{"uri": "urn:ruvector:a2a:identity:v1", "description": "",
                                       "required": False,
                                       "params": {"publicKey": "6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw",
                                                  "agentId": j1_id}}]},
      "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
      "skills": [{"id": "rag.query", "name": "RAG", "description": "x", "tags": ["rag"]}],
      "signatures": [{"protected": prot, "signature":
                      "WJMbiXPX75sHqJyl9f4Fm8nJPAOh7UHblFy49twGp3byjLBE6Ve7BO_KAe5PFHnUdFG2no1B77GlL6Tuah3NBQ"}]}
put("card", "j1-expect-id", b"I" + json.dumps(j1).encode())
put("card", "j1", b"x" + json.dumps(j1, ensure_ascii=False).encode())
for c in vec["cards"]:
    put("card", f"node-{c['kid']}", b"x" + c["card"].encode())
    put("card", f"jwk-{c['kid']}", b"K" + json.dumps(c["jwk"]).encode())
    put("card", f"protected-{c['kid']}",
        b"P" + json.loads(c["card"])["signatures"][0]["protected"].encode())
put("card", "jku-same-origin", b"Uhttps://agent.example/jwks.json")
put("card", "jku-trusted", b"Uhttps://keys.example:443/k?x=1#f")
put("card", "jku-loopback-http", b"Uhttp://127.0.0.1:80/jwks")

# fuzz_a2a_jsonrpc: selector bit 0 = expect the id below; bits 1-3 method, bit 4 dialect.
rid = "0f8e2a9c-1d3b-4c5e-8f7a-6b5c4d3e2f10"
task = {"id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_WORKING"},
        "history": [{"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "hi"}]}],
        "artifacts": [{"artifactId": "a1", "parts": [{"text": "x"}, {"data": {"k": 1}}]}]}
v03task = {"kind": "task", "id": "t1", "contextId": "c1", "status": {"state": "working"},
           "history": [{"kind": "message", "messageId": "m", "role": "user",
                        "parts": [{"kind": "text", "text": "hi"},
                                  {"kind": "file", "file": {"bytes": "aGk=", "mimeType": "text/plain",
                                                            "name": "f"}}]}]}
replies = {
    "v1-task": {"jsonrpc": "2.0", "id": rid, "result": {"task": task}},
    "v1-status": {"jsonrpc": "2.0", "id": rid, "result": {"statusUpdate": {
        "taskId": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_COMPLETED"}}}},
    "v1-artifact": {"jsonrpc": "2.0", "id": rid, "result": {"artifactUpdate": {
        "taskId": "t1", "artifact": {"artifactId": "a1", "parts": [{"url": "https://x"}]},
        "lastChunk": True}}},
    "v03-task": {"jsonrpc": "2.0", "id": rid, "result": v03task},
    "v03-final": {"jsonrpc": "2.0", "id": rid, "result": {
        "kind": "status-update", "taskId": "t1", "contextId": "c1",
        "status": {"state": "completed"}, "final": True}},
    "error": {"jsonrpc": "2.0", "id": rid, "error": {"code": -32001, "message": "Task not found",
              "data": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "TASK_NOT_FOUND", "domain": "a2a-protocol.org"}]}},
    "null-id-error": {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "x"}},
    "send-params": {"message": {"messageId": "m", "role": "ROLE_USER",
                                "parts": [{"text": "hi"}, {"data": {"a": [1, 2]}},
                                          {"raw": "aGk=", "mediaType": "text/plain"}]},
                    "configuration": {"acceptedOutputModes": ["text/plain"]}},
}
for name, doc in replies.items():
    body = json.dumps(doc, separators=(",", ":")).encode()
    put("jsonrpc", name + "-id", b"\x01" + body)
    put("jsonrpc", name + "-v03-send", b"\x00" + body)

tests/a2a/fuzz-seeds/{sse,jcs,card,jsonrpc,jwks,headers}/ from the committed vectors:
