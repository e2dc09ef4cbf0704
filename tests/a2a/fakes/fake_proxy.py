#!/usr/bin/env python3
"""tests/a2a/fakes/fake_proxy.py - a small loopback HTTP proxy that counts
what goes through it, for the client's `proxy=` tests (a2a.md §6: proxies by
API only, never from the environment). Standard library asyncio only.

    python3 fake_proxy.py      prints "PORT <n> AGENT_ID -" and serves

It takes `CONNECT host:port` (a tunnel, as for https or when the client asks
for one) and absolute-form requests (`GET http://host:port/path`, as curl
sends plain http through a proxy): those are rewritten to origin form and
sent to the target on a connection of their own (`Connection: close`), and
the answer is piped back until the target closes. Every request is counted
before it is forwarded; GET /_stats (origin form, to the proxy itself)
answers {"connect": n, "forward": n, "targets": [...]}. Counts only grow,
so parallel tests never see a count taken back.
"""
import asyncio
import json
import sys

STATS = {"connect": 0, "forward": 0, "targets": []}


async def pipe(reader, writer, close=True):
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        if close:
            try:
                writer.close()
            except (ConnectionError, OSError):
                pass


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return lines[0], [ln for ln in lines[1:] if ln]


async def handle(reader, writer):
    # Requests in absolute form may follow one another on a kept-alive
    # client connection; each is forwarded on a connection of its own.
    while await handle_one(reader, writer):
        pass


async def handle_one(reader, writer):
    """One request from the client; True when the connection takes another."""
    try:
        request_line, headers = await read_head(reader)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return False
    method, target, version = (request_line.split(" ") + ["", "", ""])[:3]
    if method == "CONNECT":
        host, _, port = target.rpartition(":")
        STATS["connect"] += 1
        STATS["targets"].append(target)
        try:
            up_r, up_w = await asyncio.open_connection(host, int(port))
        except (OSError, ValueError):
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return False
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
        return False
    if target == "/_stats":
        body = json.dumps(STATS).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        writer.close()
        return False
    if not target.startswith("http://"):
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        return False
    rest = target[len("http://"):]
    hostport, slash, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    length = 0
    kept = []
    for h in headers:
        name = h.split(":", 1)[0].strip().lower()
        if name == "content-length":
            length = int(h.split(":", 1)[1])
        if name in ("connection", "proxy-connection", "keep-alive"):
            continue
        kept.append(h)
    body = await reader.readexactly(length) if length else b""
    STATS["forward"] += 1
    STATS["targets"].append(hostport)
    try:
        up_r, up_w = await asyncio.open_connection(host, int(port or 80))
    except (OSError, ValueError):
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        return False
    head = f"{method} {slash}{path} {version}\r\n" + "".join(h + "\r\n" for h in kept)
    up_w.write(head.encode("latin-1") + b"Connection: close\r\n\r\n" + body)
    await up_w.drain()
    # The target closes after its answer (Connection: close), which ends it.
    await pipe(up_r, writer, close=False)
    up_w.close()
    return True


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port} AGENT_ID -", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
