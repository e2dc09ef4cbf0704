#!/usr/bin/env python3
"""Loopback fixture for test_model_fetch (embed.md §6.3 tests).

  model_server.py make-model DIR      write a small fake-but-consistent model
                                      folder and DIR/index.txt ("path size sha256")
  model_server.py serve ROOT PORTFILE LOG [CERT KEY]
                                      serve ROOT on 127.0.0.1 (a free port,
                                      written to PORTFILE), over TLS with CERT
                                      and KEY if given; one LOG line per request

URLs look like the hub's, behind a mode that picks the server's behaviour:
  /<mode>/<owner>/<repo>/resolve/<revision>/<path>
  ok       the file                     missing  404
  corrupt  the file, first byte flipped short    half the body, then close
  drop     close without a response     stall    10 bytes, then silence
  loop     302 to the same URL forever  hop      302 to the ok URL
  long     the file plus 16 extra bytes
  tohttp   302 to http://127.0.0.1:1/ok/... (a downgrade; nothing listens there)
"""
import hashlib
import http.server
import os
import socketserver
import ssl
import sys
import threading
import time

FILES = {
    # A little more than 256 KiB, so a transfer spans several writes.
    "model.safetensors": lambda: b"".join(
        hashlib.sha256(b"ruvector fake weights %d" % i).digest() for i in range(8300)),
    "config.json": lambda: b'{"hidden_size": 8, "model_type": "bert"}\n',
    "tokenizer.json": lambda: b'{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}}\n',
    "1_Pooling/config.json": lambda: b'{"pooling_mode_mean_tokens": true}\n',
}


def make_model(out):
    lines = []
    for rel, make in FILES.items():
        data = make()
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        lines.append("%s %d %s\n" % (rel, len(data), hashlib.sha256(data).hexdigest()))
    with open(os.path.join(out, "index.txt"), "w") as f:
        f.writelines(lines)


class Handler(http.server.BaseHTTPRequestHandler):
    root = "."
    log_lock = threading.Lock()
    log_path = None

    def log_message(self, fmt, *args):  # quiet: the LOG file is the record
        pass

    def record(self, mode, rel):
        with self.log_lock, open(self.log_path, "a") as f:
            f.write("%s %s\n" % (mode, rel))

    def do_GET(self):
        parts = self.path.split("/")
        # ['', mode, owner, repo, 'resolve', revision, *path]
        if len(parts) < 7 or parts[4] != "resolve":
            self.record("bad", self.path)
            self.send_error(400)
            return
        mode, rel = parts[1], "/".join(parts[6:])
        self.record(mode, rel)
        path = os.path.join(self.root, rel)
        if mode == "missing" or ".." in parts or not os.path.isfile(path):
            self.send_error(404)
            return
        if mode == "drop":
            self.close_connection = True
            return
        if mode in ("loop", "hop", "tohttp"):
            target = {"loop": self.path, "hop": "/ok" + self.path[len("/hop"):],
                      "tohttp": "http://127.0.0.1:1/ok" + self.path[len("/tohttp"):]}[mode]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as f:
            data = f.read()
        if mode == "corrupt":
            data = bytes([data[0] ^ 1]) + data[1:]
        elif mode == "long":
            data += b"0123456789abcdef"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode == "short":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif mode == "stall":
            self.wfile.write(data[:10])
            self.wfile.flush()
            time.sleep(60)
        elif mode == "ok":
            self.wfile.write(data)
        else:
            self.wfile.write(data)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def serve(root, port_file, log, cert=None, key=None):
    Handler.root = root
    Handler.log_path = log
    open(log, "w").close()
    srv = Server(("127.0.0.1", 0), Handler)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make-model":
        make_model(sys.argv[2])
    elif len(sys.argv) in (5, 7) and sys.argv[1] == "serve":
        serve(*sys.argv[2:])
    else:
        sys.exit(__doc__)
