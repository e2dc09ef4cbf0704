"""TLS on the A2A client (a2a.md §6, §10 item 24) against the fake peer
over https, with certificates the test makes: a self-signed certificate is
refused by default, accepted with ca_file= or verify_tls=False, and a
certificate for another host name is refused even when trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

import ruvector
from ruvector.a2a import A2aClient, TaskSpec, TlsError

from a2a_support import a2a_engine, self_signed, start_fake


def test_tls_verification(tmp_path: Path) -> None:
    engine = a2a_engine()
    good = self_signed(tmp_path, "loopback", "IP:127.0.0.1")
    peer = start_fake(tls=good)
    try:
        url = f"https://127.0.0.1:{peer.port}"
        with pytest.raises(TlsError) as ei:
            A2aClient.connect_sync(url, engine=engine)
        assert isinstance(ei.value, ruvector.SecurityError)
        with A2aClient.connect_sync(url, engine=engine, ca_file=good[0]) as c:
            assert c.card.verified
            assert c.send_task_sync(TaskSpec(skill="echo", input="over tls")).id
        with A2aClient.connect_sync(url, engine=engine, verify_tls=False) as c:
            assert c.card.verified
    finally:
        peer.stop()
    other = self_signed(tmp_path, "elsewhere", "DNS:other.example")
    peer = start_fake(tls=other)
    try:
        with pytest.raises(TlsError):
            A2aClient.connect_sync(f"https://127.0.0.1:{peer.port}", engine=engine,
                                   ca_file=other[0])
    finally:
        peer.stop()
