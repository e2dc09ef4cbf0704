"""RuLakeBundle: a bundle directory read, checked and shown (rulake.md §10.1).

    b = ruvector.RuLakeBundle.read("bundles/docs", public_keys=[pub])
    b.witness_v2, b.index_params, b.count, b.signed, b.signature_verified

The checks are the plugin's strict reader (rulake.md §6.5): the v1 witness,
v2, the meta digest and the signature when present; with public keys a
signature by one of them is required. A bundle that fails any of them
raises IntegrityError (CorruptFile for a malformed sidecar) naming the
check; only a bundle that passes is parsed for its fields.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, Optional, Union

from . import _ext
from ._engine import Engine
from ._lake_backends import _engine_handle

__all__ = ["RuLakeBundle"]

SIDECAR = "table.rulake.json"


class RuLakeBundle:
    """A checked bundle directory: the sidecar's fields, read-only."""

    __slots__ = (
        "dir", "format_version", "data_ref", "dim", "rotation_seed", "rerank_factor",
        "generation", "witness_v1", "witness_v2", "pii_policy", "lineage_id", "backend",
        "collection", "index_params", "count", "content_digest", "index_file", "index_bytes",
        "key_id", "signature_verified",
    )

    dir: str
    format_version: int
    data_ref: str
    dim: int
    rotation_seed: int
    rerank_factor: int
    generation: Union[int, str]
    witness_v1: str
    #: None for a bundle without rulake_ext (ruvector's, v1 only)
    witness_v2: Optional[str]
    pii_policy: Optional[str]
    lineage_id: Optional[str]
    backend: Optional[str]
    collection: Optional[str]
    #: the §6.3 parameter string the index was built with, e.g.
    #: "index=rabitq_plus;metric=l2;bits=4;nlist=316"
    index_params: Optional[str]
    count: Optional[int]
    content_digest: Optional[str]
    #: the index file in the directory (None: a bundle without index)
    index_file: Optional[str]
    index_bytes: Optional[int]
    #: the signing key's id (hex of 8 bytes), None when unsigned
    key_id: Optional[str]
    #: True when read with public keys and signed by one of them
    signature_verified: bool

    def __init__(self) -> None:
        raise TypeError("use RuLakeBundle.read(dir)")

    @property
    def signed(self) -> bool:
        return self.key_id is not None

    @property
    def signature_status(self) -> str:
        """"verified" (signed by a key given to read), "unchecked" (signed,
        read without public keys: only checksums were checked) or "unsigned"."""
        if self.key_id is None:
            return "unsigned"
        return "verified" if self.signature_verified else "unchecked"

    @classmethod
    def read(cls, dir: Union[str, "os.PathLike[str]"], *, public_keys: Iterable[bytes] = (),
             engine: Optional[Engine] = None) -> "RuLakeBundle":
        """Reads and checks the bundle in dir. public_keys: raw 32-byte
        Ed25519 keys; with any, the bundle must be signed by one of them.
        FileNotFoundError (NotFoundError) when dir has no sidecar."""
        keys = [bytes(k) for k in public_keys]
        for k in keys:
            if len(k) != 32:
                raise ValueError(f"public keys must be raw 32-byte Ed25519 keys, got {len(k)} bytes")
        path = os.fspath(dir)
        v1, v2 = _ext.lake_bundle_verify(_engine_handle(engine), path, b"".join(keys))
        # Checked by the strict reader above; the file is re-read for its
        # fields, and its witnesses must be those just checked.
        with open(os.path.join(path, SIDECAR), "rb") as f:
            doc: Dict[str, Any] = json.loads(f.read())
        ext: Dict[str, Any] = doc.get("rulake_ext") or {}
        self = object.__new__(cls)
        self.dir = path
        self.format_version = int(doc["format_version"])
        self.data_ref = str(doc["data_ref"])
        self.dim = int(doc["dim"])
        self.rotation_seed = int(doc["rotation_seed"])
        self.rerank_factor = int(doc["rerank_factor"])
        gen = doc["generation"]
        self.generation = gen if isinstance(gen, str) else int(gen)
        self.witness_v1 = str(doc["rvf_witness"])
        self.witness_v2 = ext.get("witness_v2")
        if self.witness_v1 != v1 or (self.witness_v2 or "") != v2:
            raise RuntimeError(f"{path}/{SIDECAR} changed while it was read")
        self.pii_policy = doc.get("pii_policy")
        self.lineage_id = doc.get("lineage_id")
        self.backend = ext.get("backend")
        self.collection = ext.get("collection")
        self.index_params = ext.get("index_params")
        self.count = ext.get("count")
        self.content_digest = ext.get("content_digest")
        index = ext.get("index")
        self.index_file = index["file"] if index else None
        self.index_bytes = int(index["bytes"]) if index else None
        sig = ext.get("signature")
        self.key_id = str(sig["key_id"]) if sig else None
        self.signature_verified = bool(keys) and sig is not None
        return self

    def __repr__(self) -> str:
        return (f"RuLakeBundle({self.dir!r}, key=({self.backend!r}, {self.collection!r}), "
                f"count={self.count}, index_params={self.index_params!r}, "
                f"witness_v2={self.witness_v2!r}, signature={self.signature_status})")
