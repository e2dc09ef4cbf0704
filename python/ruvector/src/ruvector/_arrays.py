"""The NumPy data contract.

Float data: a C-contiguous, aligned float32 array (or any object exporting
such a buffer, wrapped by np.asarray without a copy) is handed to the
extension as is; the extension reads its memory through __array_struct__. Any other dtype, a
byte-swapped or a strided array raises TypeError naming what is expected:
silently converting a large array would hide a copy the caller did not ask
for. Python lists and tuples (and other plain iterables) are accepted and
copied, since they have no float32 memory to share.

Ids: any integer array or sequence; int64 and uint64 arrays are passed
without a copy. Ids are unsigned 64-bit, 0..2**64-1, as in the C API: Python
ints of any size in that range and numpy uint64 arrays go through, and come
back unchanged (search_batch and Index.ids return uint64 arrays).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

from ._errors import OutOfMemory

F32 = npt.NDArray[np.float32]
U64 = npt.NDArray[np.uint64]

MAX_ID = (1 << 64) - 1
_F32 = np.dtype(np.float32)


def _is_array_like(x: object) -> bool:
    if isinstance(x, np.ndarray):
        return True
    if hasattr(x, "__array_interface__") or hasattr(x, "__array__"):
        return True
    try:
        memoryview(x)  # type: ignore[arg-type]
    except TypeError:
        return False
    return True


def as_float32(x: object, what: str, ndim: int) -> F32:
    """x as a float32 array of ndim dimensions, sharing memory when possible."""
    if _is_array_like(x):
        arr = x if isinstance(x, np.ndarray) else np.asarray(x)
        if arr.dtype != _F32:
            hint = ""
            if arr.dtype.kind in "fiub":
                hint = f"; convert with np.ascontiguousarray({what}, dtype=np.float32)"
            raise TypeError(f"{what}: expected float32 data, got {arr.dtype}{hint}")
        if not arr.flags.c_contiguous:
            raise TypeError(
                f"{what}: expected a C-contiguous float32 array, got a strided view "
                f"(strides {arr.strides}); use np.ascontiguousarray({what})"
            )
        if not arr.flags.aligned:
            raise TypeError(f"{what}: expected 4-byte aligned float32 data")
    else:
        try:
            arr = np.array(x if isinstance(x, (list, tuple)) else list(x), dtype=np.float32)  # type: ignore[call-overload]
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{what}: expected float32 numbers: {exc}") from None
    if arr.ndim != ndim:
        shape = "(dim,)" if ndim == 1 else "(n, dim)"
        raise ValueError(f"{what}: expected a {ndim}-D array of shape {shape}, got shape {arr.shape}")
    result: F32 = arr
    return result


_ID_RANGE = "ids are unsigned 64-bit integers: 0..2**64-1"


def _out_of_range(what: str, i: int, value: int) -> ValueError:
    return ValueError(f"{what}[{i}] = {value} is out of range: {_ID_RANGE}")


def _ids_from_sequence(seq: Sequence[object], what: str) -> npt.NDArray[Any]:
    """A list or tuple of ids as an integer array. NumPy turns ints it cannot
    hold in one integer dtype into floats ([2**63, 1]) or objects, and
    non-integers into floats; then each element is looked at, so that the
    message names the one at fault instead of the dtype NumPy chose."""
    try:
        arr = np.array(seq)
    except (TypeError, ValueError, OverflowError):
        arr = None
    if arr is not None and (arr.dtype.kind in "iu" or (arr.size == 0 and arr.ndim == 1)):
        return arr.astype(np.uint64) if arr.size == 0 else arr
    values = []
    for i, v in enumerate(seq):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{what}[{i}] = {v!r} is a {type(v).__name__}, not an integer id")
        iv = int(v)
        if not 0 <= iv <= MAX_ID:
            raise _out_of_range(what, i, iv)
        values.append(iv)
    return np.array(values, dtype=np.uint64)


def as_ids(x: object, what: str = "ids") -> U64:
    """x as a 1-D uint64 array of ids in 0..2**64-1."""
    if isinstance(x, (int, np.integer)):
        x = [int(x)]
    if _is_array_like(x):
        arr = x if isinstance(x, np.ndarray) else np.asarray(x)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{what}: expected integer ids, got an array of {arr.dtype}")
    else:
        try:
            seq = x if isinstance(x, (list, tuple)) else list(x)  # type: ignore[call-overload]
        except TypeError as exc:
            raise TypeError(f"{what}: expected integers: {exc}") from None
        arr = _ids_from_sequence(seq, what)
    if arr.ndim != 1:
        raise ValueError(f"{what}: expected a 1-D array, got shape {arr.shape}")
    if arr.size:
        bad = None
        if arr.dtype.kind == "i" and int(arr.min()) < 0:
            bad = np.flatnonzero(arr < 0)
        if bad is not None:
            i = int(bad[0])
            raise _out_of_range(what, i, int(arr[i]))
    if arr.dtype.itemsize == 8 and arr.flags.c_contiguous and arr.dtype.isnative:
        result: U64 = arr.view(np.uint64)  # non-negative int64 has the same bits
        return result
    return np.ascontiguousarray(arr, dtype=np.uint64)


def _physical_memory() -> int:
    """Installed memory in bytes; 0 when the platform does not say."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return 0


def check_batch_output(nq: int, k: int) -> None:
    """OutOfMemory (a MemoryError) before an (nq, k) result is allocated when
    its ids and scores (12 bytes a slot) exceed the machine's memory: NumPy
    allocates lazily, so the process would otherwise be OOM-killed while the
    search fills the arrays."""
    need = nq * k * 12
    mem = _physical_memory()
    if mem and need > mem:
        raise OutOfMemory(
            f"search_batch of {nq} queries x k {k} needs {need} bytes of ids and scores, "
            f"more than this machine's {mem} bytes of memory; search in smaller batches"
        )
