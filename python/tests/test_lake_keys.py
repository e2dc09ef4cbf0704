"""RuLake.builder() keys (rulake.md §4): public_key / signing_key take raw
32 bytes, PEM text or a path (read through libcrypto's PEM readers); a
wrong key says what is wrong."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Callable, List, Tuple, Type

import numpy as np
import pytest

import ruvector
from ruvector import LocalBackend, RuLake, RuLakeBundle

from lake_support import needs_rulake

pytestmark = needs_rulake

# RFC 8032 test 1 (the key of rulake.md §6.4's signature vector).
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUB = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
OTHER_PUB = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")

# Generated with `openssl genpkey` (never used to sign anything).
RSA_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC+xVIohKc8PReu0n+EZbH5TUEv
VsTQJcHM/KBnVKfrFVfZRcuhqtMX1sxZh5DPTfoGWVPk7GD2HJxhIBcWhqzubpRq
HT+kQcuRYr1M04ytIUd6oPi8KW3sxfQo/t3GwHj/i+JF1Veb+0ez/c9y5k8skI74
7V4JMDmeKuCOdKv7kQIDAQAB
-----END PUBLIC KEY-----
"""
EC_PRIVATE = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrXmXLLQjdjnlR9/c
rWbfJmLG5X95oXNYHeWepIKUHm6hRANCAASiWxqJV86qVI7bX53we23sO/RMUEOd
j9p3kXHN4q0gkwMKgYPAxJMcwrwXPzUVslhtULBK2tA0w9O18JYq0Rl+
-----END PRIVATE KEY-----
"""


def pem(label: str, der: bytes) -> bytes:
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()


def public_pem(raw: bytes) -> bytes:  # SubjectPublicKeyInfo, id-Ed25519
    return pem("PUBLIC KEY", bytes.fromhex("302a300506032b6570032100") + raw)


def private_pem(seed: bytes) -> bytes:  # PKCS#8 OneAsymmetricKey, id-Ed25519
    return pem("PRIVATE KEY", bytes.fromhex("302e020100300506032b657004220420") + seed)


def signed_bundle(tmp: Path, signing: object) -> Tuple[Path, LocalBackend]:
    rng = np.random.default_rng(1)
    ids = np.arange(40, dtype=np.uint64) + np.uint64(10)
    vecs = rng.standard_normal((40, 4), dtype=np.float32)
    hot = LocalBackend("hot")
    hot.upsert("docs", ids, vecs)
    with RuLake.builder().signing_key(signing).build() as lake:  # type: ignore[arg-type]
        lake.register_backend(hot)
        lake.publish_bundle("docs", out_dir=tmp / "b")
    return tmp / "b", hot


@pytest.mark.parametrize("form", ["raw", "pem", "path", "pathlib"])
def test_keys_raw_pem_or_path(tmp_path: Path, form: str) -> None:
    """Each form signs and verifies like the raw key (the same key_id)."""
    (tmp_path / "priv.pem").write_bytes(private_pem(SEED))
    (tmp_path / "pub.pem").write_bytes(public_pem(PUB))
    sign: object = {"raw": SEED, "pem": private_pem(SEED), "path": str(tmp_path / "priv.pem"),
                    "pathlib": tmp_path / "priv.pem"}[form]
    pub: object = {"raw": PUB, "pem": public_pem(PUB), "path": str(tmp_path / "pub.pem"),
                   "pathlib": tmp_path / "pub.pem"}[form]
    out, hot = signed_bundle(tmp_path, sign)
    b = RuLakeBundle.read(out, public_keys=[PUB])
    assert b.signature_status == "verified" and b.key_id == "7cb16e94954c73e7"
    # public_key repeats: another key first, then ours
    with RuLake.builder().public_key(public_pem(OTHER_PUB)).public_key(pub).build() as lake:  # type: ignore[arg-type]
        lake.register_backend(hot)
        assert lake.warm_from_dir(("hot", "docs"), out) == 40
    with RuLake.builder().public_key(OTHER_PUB).build() as lake:
        with pytest.raises(ruvector.IntegrityError):
            lake.warm_from_dir(("hot", "docs"), out)


def test_wrong_keys_say_what_is_wrong(tmp_path: Path) -> None:
    b = RuLake.builder()
    cases: List[Tuple[Callable[[], object], Type[BaseException], str]] = [
        (lambda: b.public_key(private_pem(SEED)), ValueError,
         "private key where a public key"),
        (lambda: b.signing_key(public_pem(PUB)), ValueError, "public key where the private"),
        (lambda: b.public_key(RSA_PUBLIC), ValueError, "RSA key, not Ed25519"),
        (lambda: b.signing_key(EC_PRIVATE), ValueError, "EC key, not Ed25519"),
        (lambda: b.public_key(b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"),
         ValueError, "RSA key"),
        (lambda: b.signing_key(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END ENCRYPTED "
                               b"PRIVATE KEY-----\n"), ValueError, "encrypted"),
        (lambda: b.public_key(b"-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC "
                              b"KEY-----\n"), ValueError, "malformed"),
        (lambda: b.public_key(b"short"), ValueError, "neither a raw 32-byte"),
        (lambda: b.public_key(b"x" * 100), ValueError, "no -----BEGIN line"),
        (lambda: b.public_key(str(tmp_path / "missing.pem")), FileNotFoundError, "missing.pem"),
        (lambda: b.public_key(tmp_path), ValueError, "is a directory"),
        (lambda: b.public_key(12345), TypeError, "bytes"),  # type: ignore[arg-type]
    ]
    for call, cls, text in cases:
        with pytest.raises(cls, match=text):
            call()
    (tmp_path / "rsa.pem").write_bytes(RSA_PUBLIC)
    with pytest.raises(ValueError, match=r"RSA key, not Ed25519.*rsa\.pem"):
        b.public_key(tmp_path / "rsa.pem")
