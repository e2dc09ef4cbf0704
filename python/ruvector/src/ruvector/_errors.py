"""The exception hierarchy. Every libruvector status maps to exactly one class.

The C extension raises these classes directly (they are registered with it at
import), passing the engine's detail text (``ruv_last_error()``) as the
message and the status code and its symbolic name as attributes.

Where a builtin exception says the same thing, the class also derives from
it, so ``except ValueError`` catches a bad argument and ``except LookupError``
an unknown id, as Python code expects.
"""

from __future__ import annotations

import builtins
from typing import Dict, Optional, Type

__all__ = [
    "RuVectorError",
    "Error",
    "InvalidArgument",
    "OutOfMemory",
    "NotFoundError",
    "UnsupportedError",
    "PluginError",
    "AbiError",
    "SelfTestError",
    "StateError",
    "IndexError",
    "DimensionMismatch",
    "EmptyIndex",
    "PersistError",
    "IoError",
    "CorruptFile",
    "OriginalsNotStored",
    "IntegrityError",
    "LakeError",
    "BackendError",
    "CacheMissError",
    "CanceledError",
    "SecurityError",
    "PolicyError",
    "ProtocolError",
    "RemoteError",
    "DeadlineExceeded",
    "STATUS_CLASSES",
]


class RuVectorError(Exception):
    """Root of every error ruvector raises.

    Attributes:
        status: the C status code (``RUV_E_*`` value), or None when the error
            was raised by the Python layer.
        status_name: the symbolic name, e.g. ``"RUV_E_DIM"``.
    """

    status: Optional[int]
    status_name: Optional[str]

    def __init__(
        self, message: str, *, status: Optional[int] = None, status_name: Optional[str] = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.status_name = status_name


#: Short alias used in the house style ("a ruvector.Error").
Error = RuVectorError


class InvalidArgument(RuVectorError, ValueError):
    """RUV_E_INVAL: an argument is invalid (out of range, NaN, malformed)."""


class OutOfMemory(RuVectorError, MemoryError):
    """RUV_E_NOMEM: an allocation failed."""


class NotFoundError(RuVectorError, LookupError):
    """RUV_E_NOTFOUND: a named thing (kernel, plugin, id, file) does not exist."""


class UnsupportedError(RuVectorError):
    """RUV_E_UNSUPPORTED: a valid request this CPU or build cannot serve."""


class PluginError(RuVectorError):
    """RUV_E_PLUGIN: a plugin is malformed (missing symbol, bad descriptor, failed init)."""


class AbiError(PluginError):
    """RUV_E_ABI: a plugin was built for another plugin ABI."""


class SelfTestError(PluginError):
    """RUV_E_SELFTEST: a plugin disagrees with the scalar reference or its own self-test."""


class StateError(RuVectorError):
    """RUV_E_STATE: the object is in the wrong state for this call."""


class IndexError(RuVectorError):  # noqa: A001 - the plan's name; builtins.IndexError stays reachable
    """Base of the errors an index raises. (Not the builtin IndexError.)"""


class DimensionMismatch(IndexError, ValueError):
    """RUV_E_DIM: a vector's length differs from the index's dimension.

    ``expected`` and ``got`` hold the two numbers when the extension knows them.
    """

    expected: Optional[int] = None
    got: Optional[int] = None


class EmptyIndex(IndexError):
    """RUV_E_EMPTY: the operation needs a non-empty index."""


class PersistError(IndexError):
    """Base of save/load failures."""


class IoError(PersistError, OSError):
    """RUV_E_IO: an operating-system I/O call failed."""


class CorruptFile(PersistError):
    """RUV_E_CORRUPT: a file failed validation (magic, size, checksum)."""


class OriginalsNotStored(UnsupportedError, LookupError):
    """Raised by ``idx[id]``, iteration and ``np.asarray(idx)`` on an index that
    keeps codes only (RabitqIndex, RabitqAsymIndex)."""


class IntegrityError(RuVectorError):
    """RUV_E_INTEGRITY: a witness, content digest or signature does not match."""


class LakeError(RuVectorError):
    """Base of the errors ruLake raises about its backends and cache.

    ``backend`` and ``collection`` name the key when the error concerns one."""

    backend: Optional[str] = None
    collection: Optional[str] = None


class BackendError(LakeError):
    """RUV_E_BACKEND: a data backend failed; the message names backend and collection."""


class CacheMissError(LakeError):
    """RUV_E_MISS: not in the cache, and the call forbade fetching it."""


class CanceledError(RuVectorError):
    """RUV_E_CANCELED: the operation was canceled by the caller."""


class SecurityError(RuVectorError):
    """RUV_E_SECURITY: a peer failed verification (card signature, TLS, pinning)."""


class PolicyError(RuVectorError):
    """RUV_E_POLICY: refused by the caller's policy or budget before anything was sent."""


class ProtocolError(RuVectorError):
    """RUV_E_PROTOCOL: a peer broke the protocol (malformed or unexpected message)."""


class RemoteError(RuVectorError):
    """RUV_E_REMOTE: a peer reported an error of its own."""


class DeadlineExceeded(RuVectorError, builtins.TimeoutError):
    """RUV_E_TIMEOUT: a deadline passed (also a builtin ``TimeoutError``)."""


#: status code -> class; the extension raises ``STATUS_CLASSES[status]``.
STATUS_CLASSES: Dict[int, Type[RuVectorError]] = {
    -1: InvalidArgument,
    -2: OutOfMemory,
    -3: NotFoundError,
    -4: UnsupportedError,
    -5: AbiError,
    -6: PluginError,
    -7: SelfTestError,
    -8: IoError,
    -9: StateError,
    -10: DimensionMismatch,
    -11: EmptyIndex,
    -12: CorruptFile,
    -13: IntegrityError,
    -14: BackendError,
    -15: CacheMissError,
    -16: CanceledError,
    -17: SecurityError,
    -18: PolicyError,
    -19: ProtocolError,
    -20: RemoteError,
    -21: DeadlineExceeded,
}

# Keep a handle on the builtin for modules that import ours under the same name.
BuiltinIndexError = builtins.IndexError
