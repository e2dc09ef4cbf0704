"""Reference implementation of rulake.md §6 in plain Python (hashlib only).

Used by witness_hashlib.py to cross-check the C code; kept apart from it so
that it reads as a second, independent transcription of the spec.
"""
import hashlib
import struct

LEAF_ROWS = 16384


def u64(n):
    return struct.pack("<Q", n)


def u32(n):
    return struct.pack("<I", n)


def shake(data, n=32):
    return hashlib.shake_256(data).digest(n)


def generation_bytes(gen):
    """Numeric generations are ints, opaque ones str (or bytes: raw UTF-8)."""
    if isinstance(gen, int):
        return b"\x00" + u64(gen)
    if isinstance(gen, str):
        gen = gen.encode("utf-8")
    return b"\x01" + gen


def witness_v1(data_ref, dim, seed, rerank, gen):
    if isinstance(data_ref, str):
        data_ref = data_ref.encode("utf-8")
    g = generation_bytes(gen)
    return shake(b"rulake-bundle-witness-v1|" + u64(len(data_ref)) + data_ref + b"|"
                 + u64(dim) + u64(seed) + u64(rerank) + b"|" + u64(len(g)) + g)


def content_digest(rows, dim):
    """rows: iterable of (id, [floats]) in any order; floats become f32."""
    rows = sorted(rows, key=lambda r: r[0])
    leaves = []
    for j in range(0, len(rows), LEAF_ROWS):
        chunk = rows[j:j + LEAF_ROWS]
        body = b"".join(u64(i) + struct.pack("<%df" % dim, *v) for i, v in chunk)
        leaves.append(shake(b"rulake-content-leaf-v1|" + u64(j // LEAF_ROWS) + u64(len(chunk)) + body))
    return shake(b"rulake-content-v1|" + u64(len(rows)) + u64(dim) + u64(LEAF_ROWS) + b"".join(leaves))


def index_params(metric="l2", bits=1, nlist=0):
    return "index=rabitq_plus;metric=%s;bits=%d;nlist=%d" % (metric, bits, nlist)


def witness_v2(v1, params, digest):
    p = params.encode("ascii")
    return shake(b"rulake-bundle-witness-v2|" + v1 + u64(len(p)) + p + digest)


def field(s):
    if s is None:
        return b"\x00"
    b = s.encode("utf-8")
    return b"\x01" + u64(len(b)) + b


def meta_digest(format_version, ext_version, backend=None, collection=None, pii_policy=None,
                lineage_id=None, memory_class=None, index_file=None, index_bytes=0,
                index_shake=None):
    return shake(b"rulake-bundle-meta-v1|" + u32(format_version) + u32(ext_version)
                 + field(backend) + field(collection) + field(pii_policy) + field(lineage_id)
                 + field(memory_class) + field(index_file) + u64(index_bytes)
                 + (index_shake if index_shake is not None else bytes(32)))


def signature_message(v2, meta):
    return b"rulake-bundle-signature-v1|" + v2 + meta


def key_id(public_key):
    return shake(public_key)[:8].hex()


def ruvec2_bytes(rows, dim, token=bytes(range(16))):
    """A ruvec2 file (rulake.md §10.2) holding rows (any order)."""
    rows = sorted(rows, key=lambda r: r[0])
    n = len(rows)
    vo = (128 + 8 * n + 63) // 64 * 64
    head = bytearray(128)
    head[0:8] = b"ruvec2\0\0"
    struct.pack_into("<IIQIIQQQ", head, 8, 128, 0, n, dim, 0, 128, vo, vo + 4 * n * dim)
    head[56:72] = token
    head[72:104] = content_digest(rows, dim)
    head[120:128] = shake(bytes(head[:120]))[:8]
    ids = b"".join(u64(i) for i, _ in rows)
    vecs = b"".join(struct.pack("<%df" % dim, *v) for _, v in rows)
    return bytes(head) + ids + bytes(vo - 128 - 8 * n) + vecs


def ruvec2_check(data):
    """Checks a ruvec2 file as §10.2 says; returns (ids, rows, digest) or raises."""
    assert data[0:8] == b"ruvec2\0\0", "magic"
    assert shake(data[:120])[:8] == data[120:128], "header check"
    hs, flags, n, dim, res, io, vo, fs = struct.unpack_from("<IIQIIQQQ", data, 8)
    assert (hs, flags, res, io) == (128, 0, 0, 128), "fixed fields"
    assert vo == (128 + 8 * n + 63) // 64 * 64 and fs == vo + 4 * n * dim == len(data), "sizes"
    ids = [struct.unpack_from("<Q", data, 128 + 8 * i)[0] for i in range(n)]
    assert all(a < b for a, b in zip(ids, ids[1:])), "ascending ids"
    rows = [list(struct.unpack_from("<%df" % dim, data, vo + 4 * dim * i)) for i in range(n)]
    digest = content_digest(list(zip(ids, rows)), dim)
    assert digest == data[72:104], "content digest"
    return ids, rows, digest


def ruvec1_bytes(rows, dim):
    """ruvector's ruvec1 file: rows in the order given."""
    body = b"".join(u64(i) + struct.pack("<%df" % dim, *v) for i, v in rows)
    return b"ruvec1\0\0" + struct.pack("<QII", len(rows), dim, 0) + body
