"""The A2A client's error tree (a2a.md §8) and the mapping from the a2a
plugin's failure records to it. Public through ruvector.a2a."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Optional, Tuple, Type

from . import _ext
from ._errors import STATUS_CLASSES, DeadlineExceeded, PolicyError, RuVectorError, SecurityError
from ._errors import ProtocolError as _StatusProtocolError
from ._errors import RemoteError as _StatusRemoteError


class A2aError(RuVectorError):
    """Root of the A2A client's errors.

    Attributes: rpc_code (the peer's JSON-RPC code), reason (its ErrorInfo
    reason), data (its error data), http_status, request_sent (whether bytes
    may have reached the peer), peer (the card URL, when known)."""

    rpc_code: Optional[int]
    reason: Optional[str]
    data: Any
    http_status: Optional[int]
    request_sent: bool
    peer: Optional[str]

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        status_name: Optional[str] = None,
        rpc_code: Optional[int] = None,
        reason: Optional[str] = None,
        data: Any = None,
        http_status: Optional[int] = None,
        request_sent: bool = False,
        peer: Optional[str] = None,
    ) -> None:
        super().__init__(message, status=status, status_name=status_name)
        self.rpc_code = rpc_code
        self.reason = reason
        self.data = data
        self.http_status = http_status
        self.request_sent = request_sent
        self.peer = peer


class CardSignatureInvalid(A2aError, SecurityError):
    """The agent card is unsigned, tampered, or its AgentID misses the pin."""


class PolicyViolation(A2aError, PolicyError):
    """TaskPolicy refused the call before anything was sent."""


class RecursionLimit(PolicyViolation):
    """The call depth passed max_call_depth, or the peer is already on the path."""


class TaskDeadlineExceeded(PolicyViolation):
    """max_duration_ms passed; the task was asked to cancel."""


class BudgetExceeded(A2aError, PolicyError):
    """A GlobalBudget refused the call; reason "queue_full" when its queue was full."""


class TransportError(A2aError):
    """The connection failed or broke, or the peer's bytes were unusable."""


class ProtocolError(TransportError, _StatusProtocolError):
    """The peer broke the protocol: malformed JSON or SSE, wrong ids, wrong shapes."""


class TlsError(TransportError, SecurityError):
    """Certificate or TLS handshake failure."""


class A2aTimeout(TransportError, DeadlineExceeded):
    """One of the client's deadlines (connect, unary total, stream idle) passed."""


class ResponseTooLarge(TransportError):
    """A response body, header block or SSE event passed its size cap."""


class HttpError(TransportError):
    """A non-2xx HTTP status that carried no JSON-RPC error.

    retry_after: the seconds of a Retry-After (delay or HTTP-date) longer
    than the 30 s the client waits by itself, else None."""

    retry_after: Optional[int] = None


class DiscoveryError(TransportError):
    """No usable agent card or JSON-RPC interface."""


class UrlRefused(TransportError, SecurityError):
    """A URL the transport rules refuse (plain http to a non-loopback host)."""


class RemoteError(A2aError, _StatusRemoteError):
    """The peer answered with a JSON-RPC error."""


class TaskNotFound(RemoteError):
    """-32001: the peer knows no such task."""


class TaskNotCancelable(RemoteError):
    """-32002: the task is in a state that cannot be canceled."""


class UnsupportedOperation(RemoteError):
    """-32004: the peer does not support the operation."""


class VersionNotSupported(RemoteError):
    """No common protocol version (-32009), or a dialect ruvector refuses."""


class ArtifactVersionUnsupported(RemoteError):
    """-32080: a ruvector artifact kind version the peer does not know."""


# enum ruv_a2a_error (feature-a2a.h) -> class
_KIND_CLASSES: Dict[int, Type[A2aError]] = {
    1: CardSignatureInvalid,
    2: PolicyViolation,
    3: RecursionLimit,
    4: TransportError,
    5: ProtocolError,
    6: TlsError,
    7: A2aTimeout,
    8: ResponseTooLarge,
    9: HttpError,
    10: DiscoveryError,
    11: RemoteError,
    12: VersionNotSupported,
    13: UrlRefused,
    14: BudgetExceeded,
}
_RPC_CLASSES: Dict[int, Type[A2aError]] = {
    -32700: ProtocolError,
    -32600: ProtocolError,
    -32001: TaskNotFound,
    -32002: TaskNotCancelable,
    -32004: UnsupportedOperation,
    -32009: VersionNotSupported,
    -32080: ArtifactVersionUnsupported,
}
_KIND_REMOTE = 11
_RUV_OK = 0
_RUV_E_NOTFOUND = -3

# (status, error kind, rpc_code, http_status, request_sent, detail, payload)
_Outcome = Tuple[int, int, int, int, int, Optional[str], Any]


# The plugin's detail for a Retry-After it will not wait for (http.c, async.c).
_RETRY_AFTER = re.compile(r"Retry-After (\d+) s")


def _raise(out: _Outcome, peer: Optional[str]) -> None:
    status, kind, rpc_code, http_status, request_sent, detail, payload = out
    message = detail or _ext.status_str(status)
    data: Any = None
    reason: Optional[str] = None
    cls: Type[RuVectorError]
    if kind == _KIND_REMOTE:
        cls = _RPC_CLASSES.get(rpc_code, RemoteError)
        if isinstance(payload, str):
            try:
                err = json.loads(payload)
                data = err.get("data")
                for item in data if isinstance(data, list) else [data]:
                    if isinstance(item, dict) and isinstance(item.get("reason"), str):
                        reason = item["reason"]
                        break
            except ValueError:
                pass
    elif kind in _KIND_CLASSES:
        cls = _KIND_CLASSES[kind]
        if cls is BudgetExceeded and "queue_full" in message:
            reason = "queue_full"
    else:
        cls = STATUS_CLASSES.get(status, RuVectorError)
    if issubclass(cls, HttpError):
        err = cls(
            message,
            status=status,
            status_name=_ext.status_name(status),
            http_status=http_status or None,
            request_sent=bool(request_sent),
            peer=peer,
        )
        m = _RETRY_AFTER.search(message)
        err.retry_after = int(m.group(1)) if m else None
        raise err
    if issubclass(cls, A2aError):
        raise cls(
            message,
            status=status,
            status_name=_ext.status_name(status),
            rpc_code=rpc_code or None,
            reason=reason,
            data=data,
            http_status=http_status or None,
            request_sent=bool(request_sent),
            peer=peer,
        )
    raise cls(message, status=status, status_name=_ext.status_name(status))


