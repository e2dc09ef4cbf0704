#!/usr/bin/env python3
"""tests/a2a/gen_python_vectors.py — vectors for a2a-python's card rendering
(a2a.md §4 interop trap), made with CPython's own json module and the
`cryptography` package (pip install cryptography):
    python3 tests/a2a/gen_python_vectors.py tests/a2a/vectors/python.json
a2a-python signs json.dumps(clean_empty(card), sort_keys=True,
separators=(",", ":")) with ensure_ascii on, and protobuf Struct numbers are
Python floats. Random doubles make every run's output different; any run's
output is a valid fixture."""
import base64, json, os, random, struct, sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def clean_empty(d):
    if d is None or d == "":
        return None
    if isinstance(d, list):
        a = [c for c in (clean_empty(v) for v in d) if c is not None]
        return a or None
    if isinstance(d, dict):
        o = {k: c for k, c in ((k, clean_empty(v)) for k, v in d.items()) if c is not None}
        return o or None
    return d

def render(d):
    return json.dumps(d, sort_keys=True, separators=(",", ":"))

floats = []
for _ in range(3000):
    x = struct.unpack("<d", os.urandom(8))[0]
    if x == x and abs(x) != float("inf"):
        floats.append(x)
floats += [0.0, -0.0, 5.0, 1e16, 1e15, 1e-4, 1e-5, 0.1, 123456789.125, 5e-324, 1.7976931348623157e308,
           -2.5, 1e22, 9007199254740993.0]
floats += [random.randint(-10**6, 10**6) / 10 ** random.randint(0, 12) for _ in range(1000)]
float_vectors = [[struct.pack(">d", x).hex(), json.dumps(x)] for x in floats]

docs = [
    {"\u00e9": 1.0, "e": "\u20ac\U0001F600\u007f\u0001\n\"\\/", "\U0001F600": [], "\ufb33": {"a": -0.0}},
    {"b": [1e21, 1e-7, 3.0, 0.5], "a": {"z": None, "y": True, "x": False}},
]
doc_vectors = [{"input": json.dumps(d, ensure_ascii=False), "canonical": render(d)} for d in docs]

key = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
card = {
    "name": "python peer \u00e9\u20ac\U0001F600", "description": "signed by gen_python_vectors.py",
    "version": "1.0.0",
    "supportedInterfaces": [{"url": "http://127.0.0.1:41242/a2a/jsonrpc", "protocolBinding": "JSONRPC",
                             "tenant": "", "protocolVersion": "1.0"}],
    "capabilities": {"streaming": True, "extensions": [
        {"uri": "urn:ruvector:a2a:pricing:v1", "params": {"price": 0.1, "n": 5.0, "big": 1e16, "tiny": 1e-5}}]},
    "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
    "skills": [{"id": "rag.query", "name": "RAG", "description": "x", "tags": ["rag"]}],
}
canonical = render(clean_empty(card))
protected = b64u(json.dumps({"alg": "EdDSA", "kid": "ed-1", "typ": "JOSE"}, separators=(",", ":")).encode())
sig = key.sign((protected + "." + b64u(canonical.encode())).encode())
signed = dict(card, signatures=[{"protected": protected, "signature": b64u(sig)}])
out = {"floats": float_vectors, "docs": doc_vectors, "canonical": canonical,
       "card": json.dumps(signed, indent=2, ensure_ascii=False)}
with open(sys.argv[1] if len(sys.argv) > 1 else "python.json", "w") as f:
    json.dump(out, f, indent=0)
    f.write("\n")
print(f"floats {len(float_vectors)}, docs {len(doc_vectors)}, card 1")
