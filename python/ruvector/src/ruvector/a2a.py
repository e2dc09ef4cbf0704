"""ruvector.a2a: an Agent-to-Agent (A2A) client on the `a2a` feature plugin.

    client = ruvector.A2aClient.connect_sync("https://agent.example")
    task = client.send_task_sync(TaskSpec(skill="rag.query", input="What is RaBitQ?"))
    for update in client.stream_task_sync(TaskSpec(skill="rag.query", input="...")):
        ...

Connecting fetches the peer's agent card, verifies its signature (strict by
default: an unsigned or tampered card raises CardSignatureInvalid), and picks
A2A v1.0 over JSON-RPC, or v0.3 when the verified card declares only that.
Policy caps (TaskPolicy) and the recursion limit are checked in the plugin
before any byte is sent.

This release is a *blocking* client: each call runs in the calling thread
with the GIL released. The async methods run the blocking calls in the
event loop's default executor (a thread per concurrent call); the single
I/O thread with a notify fd that a2a.md §8 describes is not built yet.
Built: GlobalBudget, max_concurrency, retries of idempotent calls and stream
resume (a2a.md §6), deadlines, size caps, TLS verification. Not built yet:
card caching, jku key fetching, the push-notification calls.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
)

from . import _ext
from ._engine import Engine, default_engine
from ._errors import STATUS_CLASSES, DeadlineExceeded, PolicyError, RuVectorError, SecurityError
from ._errors import ProtocolError as _StatusProtocolError
from ._errors import RemoteError as _StatusRemoteError

__all__ = [
    "A2aClient",
    "AgentCard",
    "AgentSkill",
    "Artifact",
    "CallContext",
    "GlobalBudget",
    "Queue",
    "Limits",
    "Message",
    "Part",
    "PinnedKey",
    "Task",
    "TaskPolicy",
    "TaskSpec",
    "TaskState",
    "TaskStatus",
    "TaskUpdate",
    "Timeouts",
    "A2aError",
    "CardSignatureInvalid",
    "PolicyViolation",
    "RecursionLimit",
    "TaskDeadlineExceeded",
    "BudgetExceeded",
    "TransportError",
    "ProtocolError",
    "TlsError",
    "A2aTimeout",
    "ResponseTooLarge",
    "HttpError",
    "DiscoveryError",
    "UrlRefused",
    "RemoteError",
    "TaskNotFound",
    "TaskNotCancelable",
    "UnsupportedOperation",
    "VersionNotSupported",
    "ArtifactVersionUnsupported",
]

# ---------------------------------------------------------------- errors


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
    """A non-2xx HTTP status that carried no JSON-RPC error."""


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


# ---------------------------------------------------------------- data


class TaskState(enum.Enum):
    """A task's state, by its A2A v1.0 name (v0.3 names are mapped)."""

    SUBMITTED = "TASK_STATE_SUBMITTED"
    WORKING = "TASK_STATE_WORKING"
    INPUT_REQUIRED = "TASK_STATE_INPUT_REQUIRED"
    AUTH_REQUIRED = "TASK_STATE_AUTH_REQUIRED"
    COMPLETED = "TASK_STATE_COMPLETED"
    FAILED = "TASK_STATE_FAILED"
    CANCELED = "TASK_STATE_CANCELED"
    REJECTED = "TASK_STATE_REJECTED"
    UNKNOWN = "TASK_STATE_UNSPECIFIED"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELED, TaskState.REJECTED)

    @property
    def is_interrupted(self) -> bool:
        return self in (TaskState.INPUT_REQUIRED, TaskState.AUTH_REQUIRED)

    @classmethod
    def from_wire(cls, name: Any) -> "TaskState":
        try:
            return cls(name)
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True)
class Part:
    """One piece of content: exactly one of text, raw (bytes), url, data."""

    text: Optional[str] = None
    raw: Optional[bytes] = None
    url: Optional[str] = None
    data: Any = None
    media_type: Optional[str] = None
    filename: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None

    def __post_init__(self) -> None:
        n = sum(x is not None for x in (self.text, self.raw, self.url, self.data))
        if n != 1:
            raise ValueError("a Part holds exactly one of text, raw, url, data")

    def to_wire(self) -> Dict[str, Any]:
        import base64

        out: Dict[str, Any] = {}
        if self.text is not None:
            out["text"] = self.text
        elif self.raw is not None:
            out["raw"] = base64.b64encode(self.raw).decode("ascii")
        elif self.url is not None:
            out["url"] = self.url
        else:
            out["data"] = self.data
        if self.media_type is not None:
            out["mediaType"] = self.media_type
        if self.filename is not None:
            out["filename"] = self.filename
        if self.metadata is not None:
            out["metadata"] = self.metadata
        return out

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> "Part":
        import base64

        common: Dict[str, Any] = {
            "media_type": d.get("mediaType"),
            "filename": d.get("filename"),
            "metadata": d.get("metadata"),
        }
        if "text" in d:
            return cls(text=str(d["text"]), **common)
        if "raw" in d:
            return cls(raw=base64.b64decode(d["raw"]), **common)
        if "url" in d:
            return cls(url=str(d["url"]), **common)
        if "data" in d:
            return cls(data=d["data"], **common)
        raise ProtocolError(f"a Part with no content: {sorted(d)}")


def _parts(v: Any) -> List[Part]:
    return [Part.from_wire(p) for p in v or [] if isinstance(p, dict)]


@dataclass(frozen=True)
class Message:
    """A message; role is "user" or "agent"."""

    role: str
    parts: List[Part]
    message_id: str = ""
    context_id: Optional[str] = None
    task_id: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None
    reference_task_ids: List[str] = field(default_factory=list)
    extensions: List[str] = field(default_factory=list)

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> "Message":
        return cls(
            role="agent" if d.get("role") == "ROLE_AGENT" else "user",
            parts=_parts(d.get("parts")),
            message_id=str(d.get("messageId", "")),
            context_id=d.get("contextId"),
            task_id=d.get("taskId"),
            metadata=d.get("metadata"),
            reference_task_ids=list(d.get("referenceTaskIds") or []),
            extensions=list(d.get("extensions") or []),
        )


@dataclass(frozen=True)
class Artifact:
    artifact_id: str
    parts: List[Part]
    name: Optional[str] = None
    description: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None
    extensions: List[str] = field(default_factory=list)

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> "Artifact":
        return cls(
            artifact_id=str(d.get("artifactId", "")),
            parts=_parts(d.get("parts")),
            name=d.get("name"),
            description=d.get("description"),
            metadata=d.get("metadata"),
            extensions=list(d.get("extensions") or []),
        )


@dataclass(frozen=True)
class TaskStatus:
    state: TaskState
    message: Optional[Message] = None
    timestamp: Optional[str] = None

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> "TaskStatus":
        m = d.get("message")
        return cls(
            state=TaskState.from_wire(d.get("state")),
            message=Message.from_wire(m) if isinstance(m, dict) else None,
            timestamp=d.get("timestamp"),
        )


@dataclass(frozen=True)
class Task:
    id: str
    context_id: str
    status: TaskStatus
    artifacts: List[Artifact] = field(default_factory=list)
    history: List[Message] = field(default_factory=list)
    metadata: Optional[Dict[str, Any]] = None

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> "Task":
        return cls(
            id=str(d["id"]),
            context_id=str(d.get("contextId", "")),
            status=TaskStatus.from_wire(d.get("status") or {}),
            artifacts=[Artifact.from_wire(a) for a in d.get("artifacts") or [] if isinstance(a, dict)],
            history=[Message.from_wire(m) for m in d.get("history") or [] if isinstance(m, dict)],
            metadata=d.get("metadata"),
        )


@dataclass(frozen=True)
class TaskUpdate:
    """One stream event. kind "status" (also the first Task snapshot, with
    task set), "artifact" or "message"."""

    kind: str
    task_id: Optional[str]
    context_id: Optional[str]
    status: Optional[TaskStatus] = None
    artifact: Optional[Artifact] = None
    append: bool = False
    last_chunk: bool = False
    message: Optional[Message] = None
    task: Optional[Task] = None

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> "TaskUpdate":
        if "task" in d:
            t = Task.from_wire(d["task"])
            return cls("status", t.id, t.context_id, status=t.status, task=t)
        if "message" in d:
            m = Message.from_wire(d["message"])
            return cls("message", m.task_id, m.context_id, message=m)
        if "statusUpdate" in d:
            s = d["statusUpdate"]
            return cls("status", s.get("taskId"), s.get("contextId"), status=TaskStatus.from_wire(s["status"]))
        a = d["artifactUpdate"]
        return cls(
            "artifact",
            a.get("taskId"),
            a.get("contextId"),
            artifact=Artifact.from_wire(a["artifact"]),
            append=bool(a.get("append", False)),
            last_chunk=bool(a.get("lastChunk", False)),
        )


@dataclass(frozen=True)
class AgentSkill:
    id: str
    name: str
    description: str = ""
    tags: List[str] = field(default_factory=list)
    examples: List[str] = field(default_factory=list)
    input_modes: List[str] = field(default_factory=list)
    output_modes: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class AgentCard:
    """The verified (signature-covered) card and what connecting decided."""

    name: str
    description: str
    version: str
    provider: Optional[Dict[str, Any]]
    capabilities: Dict[str, Any]
    skills: List[AgentSkill]
    interfaces: List[Dict[str, Any]]
    agent_id: Optional[str]
    verified: bool
    signed_by: List[str]
    canonicalization: str
    protocol_version: str
    raw: Dict[str, Any]


@dataclass(frozen=True)
class TaskPolicy:
    """Caps checked before a send leaves the client (a2a.md §5)."""

    max_tokens: Optional[int] = None
    max_cost_usd: Optional[float] = None
    max_duration_ms: Optional[int] = None
    allowed_skills: Optional[Sequence[str]] = None
    max_concurrency: Optional[int] = None  # in-flight sends per (peer, skill), in process


@dataclass(frozen=True)
class CallContext:
    """The recursion context that rides in metadata.ruvector.context."""

    trace_id: str
    depth: int = 0
    root_agent_id: str = ""
    current_agent: str = ""
    visited_agents: Tuple[str, ...] = ()
    parent_task_id: Optional[str] = None

    @classmethod
    def root(cls) -> "CallContext":
        return cls(trace_id=uuid.uuid4().hex)

    def child(self, peer_agent_id: str, parent_task_id: Optional[str] = None) -> "CallContext":
        visited = self.visited_agents + ((self.current_agent,) if self.current_agent else ())
        return CallContext(
            trace_id=self.trace_id,
            depth=self.depth + 1,
            root_agent_id=self.root_agent_id or self.current_agent,
            current_agent=peer_agent_id,
            visited_agents=visited,
            parent_task_id=parent_task_id or self.parent_task_id,
        )

    def to_wire(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "trace_id": self.trace_id,
            "depth": self.depth,
            "root_agent_id": self.root_agent_id,
            "current_agent": self.current_agent,
            "visited_agents": list(self.visited_agents),
        }
        if self.parent_task_id:
            d["parent_task_id"] = self.parent_task_id
        return d


@dataclass(frozen=True)
class TaskSpec:
    """What to send. input: a str (one text part), a Part, a list of Parts or a Message."""

    skill: str
    input: Union[str, Part, Sequence[Part], Message]
    policy: Optional[TaskPolicy] = None
    context_id: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None
    estimated_cost_usd: Optional[float] = None
    estimated_tokens: Optional[int] = None
    accepted_output_modes: Optional[Sequence[str]] = None
    context: Optional[CallContext] = None


@dataclass(frozen=True)
class PinnedKey:
    """A trusted signing key: JWK JSON text or PEM; not_after in Unix seconds (0 = never)."""

    kid: str
    key: str
    not_after: int = 0
    revoked: bool = False


@dataclass(frozen=True)
class Timeouts:
    connect_ms: int = 10_000
    unary_ms: int = 60_000
    stream_idle_ms: int = 60_000


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 16 << 20
    max_event_bytes: int = 4 << 20


@dataclass(frozen=True)
class Queue:
    """GlobalBudget overflow that waits: up to max_depth callers wait inside
    the send until the window admits them; one more is refused (queue_full)."""

    max_depth: int


class GlobalBudget:
    """A rolling one-minute budget shared by every client connected with it
    (a2a.md §5): sends are charged with their estimates (cost, tokens) when
    admitted, before anything is sent. overflow="shed" refuses at once;
    overflow=Queue(n) waits. The ledger lives in the a2a plugin of the first
    engine a client uses it with."""

    def __init__(
        self,
        *,
        max_usd_per_minute: Optional[float] = None,
        max_tokens_per_minute: Optional[int] = None,
        max_tasks_per_minute: Optional[int] = None,
        overflow: Union[str, Queue] = "shed",
        window_ms: int = 60_000,
    ) -> None:
        if overflow != "shed" and not isinstance(overflow, Queue):
            raise ValueError('overflow must be "shed" or Queue(max_depth)')
        if isinstance(overflow, Queue) and overflow.max_depth < 1:
            raise ValueError("Queue.max_depth must be >= 1")
        if window_ms < 1:
            raise ValueError("window_ms must be >= 1")
        self.max_usd_per_minute = max_usd_per_minute
        self.max_tokens_per_minute = max_tokens_per_minute
        self.max_tasks_per_minute = max_tasks_per_minute
        self.overflow = overflow
        self.window_ms = window_ms
        self._engine: Optional[Any] = None
        self._h: Optional[Any] = None
        self._lock = threading.Lock()

    def _handle(self, engine: Engine) -> Any:
        with self._lock:
            return self._handle_locked(engine)

    def _handle_locked(self, engine: Engine) -> Any:
        if self._h is None:
            self._h = _ext.a2a_budget_new(
                engine._h,
                -1.0 if self.max_usd_per_minute is None else float(self.max_usd_per_minute),
                -1 if self.max_tokens_per_minute is None else int(self.max_tokens_per_minute),
                -1 if self.max_tasks_per_minute is None else int(self.max_tasks_per_minute),
                self.window_ms,
                self.overflow.max_depth if isinstance(self.overflow, Queue) else 0,
            )
            self._engine = engine._h
        elif self._engine is not engine._h:
            raise ValueError("a GlobalBudget serves the clients of one engine")
        return self._h


# ---------------------------------------------------------------- client

_SEND, _GET, _CANCEL, _SEND_STREAMING, _SUBSCRIBE = 1, 2, 3, 4, 5
_FLAG_INSECURE_TLS, _FLAG_ALLOW_HTTP, _FLAG_UNSIGNED_OK = 1, 2, 4
_PROTOCOLS = {"auto": 0, "1.0": 1, "0.3": 2}

T = TypeVar("T")


def _refuse_in_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"{name} blocks; inside a running event loop use await A2aClient.{name.replace('_sync', '')}(...)"
    )


def _card_from_info(info: Mapping[str, Any]) -> AgentCard:
    c = info.get("card") or {}
    skills = [
        AgentSkill(
            id=str(s.get("id", "")),
            name=str(s.get("name", "")),
            description=str(s.get("description", "")),
            tags=list(s.get("tags") or []),
            examples=list(s.get("examples") or []),
            input_modes=list(s.get("inputModes") or []),
            output_modes=list(s.get("outputModes") or []),
        )
        for s in c.get("skills") or []
        if isinstance(s, dict)
    ]
    return AgentCard(
        name=str(c.get("name", "")),
        description=str(c.get("description", "")),
        version=str(c.get("version", "")),
        provider=c.get("provider"),
        capabilities=dict(c.get("capabilities") or {}),
        skills=skills,
        interfaces=list(c.get("supportedInterfaces") or []),
        agent_id=info.get("agent_id") or None,
        verified=bool(info.get("verified")),
        signed_by=[info["signed_by"]] if info.get("signed_by") else [],
        canonicalization=str(info.get("canonicalization", "")),
        protocol_version=str(info.get("protocol_version", "")),
        raw=dict(c),
    )


class A2aClient:
    """A connected A2A client. Make one with connect_sync() or await connect()."""

    card: AgentCard
    max_call_depth: int

    def __init__(self, handle: Any, card_url: str, max_call_depth: int,
                 budget: Optional[Any] = None) -> None:
        # Private: use connect / connect_sync.
        self._h = handle
        self._peer = card_url
        self.max_call_depth = max_call_depth
        self._budget = budget  # the budget's C handle, or None
        self._refresh_card()

    def _refresh_card(self) -> None:
        self.card = _card_from_info(json.loads(self._h.info()))

    @property
    def protocol_version(self) -> str:
        """"1.0" or "0.3" (after a one-time fallback, the new one)."""
        return self.card.protocol_version

    # ---- connecting ----

    @classmethod
    def connect_sync(
        cls,
        url: str,
        *,
        strict_verify: bool = True,
        expected_agent_id: Union[None, str, Sequence[str]] = None,
        trusted_keys: Optional[Sequence[PinnedKey]] = None,
        protocol: str = "auto",
        auth: Optional[str] = None,
        verify_tls: bool = True,
        ca_file: Optional[str] = None,
        allow_http: bool = False,
        timeouts: Optional[Timeouts] = None,
        limits: Optional[Limits] = None,
        max_call_depth: int = 8,
        budget: Optional[GlobalBudget] = None,
        engine: Optional[Engine] = None,
    ) -> "A2aClient":
        """Fetches and verifies url's agent card and picks the protocol.
        Blocks; refuses to run inside a running event loop."""
        _refuse_in_loop("connect_sync")
        return cls._connect(
            url, strict_verify, expected_agent_id, trusted_keys, protocol, auth, verify_tls,
            ca_file, allow_http, timeouts, limits, max_call_depth, budget, engine,
        )

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        strict_verify: bool = True,
        expected_agent_id: Union[None, str, Sequence[str]] = None,
        trusted_keys: Optional[Sequence[PinnedKey]] = None,
        protocol: str = "auto",
        auth: Optional[str] = None,
        verify_tls: bool = True,
        ca_file: Optional[str] = None,
        allow_http: bool = False,
        timeouts: Optional[Timeouts] = None,
        limits: Optional[Limits] = None,
        max_call_depth: int = 8,
        budget: Optional[GlobalBudget] = None,
        engine: Optional[Engine] = None,
    ) -> "A2aClient":
        """connect_sync, run in the loop's default executor."""
        return await _in_executor(
            functools.partial(
                cls._connect, url, strict_verify, expected_agent_id, trusted_keys, protocol,
                auth, verify_tls, ca_file, allow_http, timeouts, limits, max_call_depth, budget,
                engine,
            )
        )

    @classmethod
    def _connect(
        cls,
        url: str,
        strict_verify: bool,
        expected_agent_id: Union[None, str, Sequence[str]],
        trusted_keys: Optional[Sequence[PinnedKey]],
        protocol: str,
        auth: Optional[str],
        verify_tls: bool,
        ca_file: Optional[str],
        allow_http: bool,
        timeouts: Optional[Timeouts],
        limits: Optional[Limits],
        max_call_depth: int,
        budget: Optional[GlobalBudget],
        engine: Optional[Engine],
    ) -> "A2aClient":
        if protocol not in _PROTOCOLS:
            raise ValueError(f"protocol must be one of {sorted(_PROTOCOLS)}, not {protocol!r}")
        if max_call_depth < 1:
            raise ValueError("max_call_depth must be >= 1")
        flags = 0
        if not verify_tls:
            flags |= _FLAG_INSECURE_TLS
        if allow_http:
            flags |= _FLAG_ALLOW_HTTP
        if not strict_verify:
            flags |= _FLAG_UNSIGNED_OK
        ids: List[str] = (
            [] if expected_agent_id is None
            else [expected_agent_id] if isinstance(expected_agent_id, str)
            else list(expected_agent_id)
        )
        pinned = [(k.kid, k.key, int(k.not_after), bool(k.revoked)) for k in trusted_keys or []]
        t = timeouts or Timeouts()
        lim = limits or Limits()
        eng = engine if engine is not None else default_engine()
        out: _Outcome = _ext.a2a_connect(
            eng._h, url, flags, _PROTOCOLS[protocol], ids, pinned, ca_file, auth,
            t.connect_ms, t.unary_ms, t.stream_idle_ms, lim.max_body_bytes, lim.max_event_bytes,
        )
        if out[0] != _RUV_OK:
            _raise(out, url)
        return cls(out[6], url, max_call_depth, budget._handle(eng) if budget else None)

    # ---- building requests ----

    def _message(self, spec: TaskSpec, ctx: CallContext) -> Dict[str, Any]:
        inp = spec.input
        if isinstance(inp, Message):
            msg: Dict[str, Any] = {
                "role": "ROLE_AGENT" if inp.role == "agent" else "ROLE_USER",
                "parts": [p.to_wire() for p in inp.parts],
                "messageId": inp.message_id or str(uuid.uuid4()),
            }
            if inp.task_id:
                msg["taskId"] = inp.task_id
            if inp.context_id:
                msg["contextId"] = inp.context_id
            if inp.reference_task_ids:
                msg["referenceTaskIds"] = list(inp.reference_task_ids)
            meta = dict(inp.metadata or {})
        else:
            parts = (
                [Part(text=inp)] if isinstance(inp, str)
                else [inp] if isinstance(inp, Part)
                else list(inp)
            )
            msg = {"role": "ROLE_USER", "parts": [p.to_wire() for p in parts], "messageId": str(uuid.uuid4())}
            meta = {}
        if spec.context_id:
            msg["contextId"] = spec.context_id
        ruv: Dict[str, Any] = {"skill": spec.skill, "context": ctx.to_wire()}
        if spec.policy is not None:
            p = spec.policy
            ruv["policy"] = {
                k: v
                for k, v in (
                    ("max_tokens", p.max_tokens),
                    ("max_cost_usd", p.max_cost_usd),
                    ("max_duration_ms", p.max_duration_ms),
                    ("allowed_skills", list(p.allowed_skills) if p.allowed_skills is not None else None),
                )
                if v is not None
            }
        meta["ruvector"] = ruv
        msg["metadata"] = meta
        return msg

    def _send_args(self, spec: TaskSpec) -> Tuple[str, Tuple[Any, ...]]:
        pol = spec.policy or TaskPolicy()
        if pol.max_concurrency is not None and pol.max_concurrency < 1:
            raise ValueError("TaskPolicy.max_concurrency must be >= 1")
        base_ctx = spec.context or CallContext.root()
        peer_id = self.card.agent_id or ""
        ctx = base_ctx.child(peer_id)
        params: Dict[str, Any] = {"message": self._message(spec, ctx)}
        modes = spec.accepted_output_modes
        params["configuration"] = {"acceptedOutputModes": list(modes) if modes else ["text/plain"]}
        if spec.metadata:
            params["metadata"] = spec.metadata
        policy = (
            spec.skill,
            list(pol.allowed_skills) if pol.allowed_skills is not None else None,
            -1 if pol.max_tokens is None else int(pol.max_tokens),
            -1.0 if pol.max_cost_usd is None else float(pol.max_cost_usd),
            -1 if spec.estimated_tokens is None else int(spec.estimated_tokens),
            -1.0 if spec.estimated_cost_usd is None else float(spec.estimated_cost_usd),
            ctx.depth,
            self.max_call_depth,
            list(base_ctx.visited_agents) + ([base_ctx.current_agent] if base_ctx.current_agent else []),
            self._budget,
            pol.max_concurrency or 0,
        )
        return json.dumps(params), policy

    def _call(self, method: int, params: str, policy: Any) -> Any:
        out: _Outcome = self._h.call(method, params, policy)
        if out[0] != _RUV_OK:
            if method == _SEND:
                self._refresh_card()  # a fallback may have changed the version
            _raise(out, self._peer)
        if method == _SEND:
            self._refresh_card()
        return json.loads(out[6])

    # ---- sync API ----

    def _send_task(self, spec: TaskSpec) -> Task:
        params, policy = self._send_args(spec)
        res = self._call(_SEND, params, policy)
        if "task" in res:
            return Task.from_wire(res["task"])
        # A bare message answer: a task that is already complete.
        m = Message.from_wire(res["message"])
        return Task(
            id=m.task_id or "",
            context_id=m.context_id or "",
            status=TaskStatus(TaskState.COMPLETED, message=m),
        )

    def _get_task(self, task_id: str, history_length: Optional[int] = None) -> Task:
        p: Dict[str, Any] = {"id": task_id}
        if history_length is not None:
            p["historyLength"] = history_length
        return Task.from_wire(self._call(_GET, json.dumps(p), None))

    def _cancel_task(self, task_id: str) -> Task:
        return Task.from_wire(self._call(_CANCEL, json.dumps({"id": task_id}), None))

    def send_task_sync(self, spec: TaskSpec) -> Task:
        """Sends spec as a SendMessage (returnImmediately) and returns the task."""
        _refuse_in_loop("send_task_sync")
        return self._send_task(spec)

    def get_task_sync(self, task_id: str, *, history_length: Optional[int] = None) -> Task:
        _refuse_in_loop("get_task_sync")
        return self._get_task(task_id, history_length)

    def cancel_task_sync(self, task_id: str) -> Task:
        _refuse_in_loop("cancel_task_sync")
        return self._cancel_task(task_id)

    def _open_stream(self, what: Union[TaskSpec, str]) -> Tuple[Any, Optional[int]]:
        if isinstance(what, str):
            method, params, policy, limit = _SUBSCRIBE, json.dumps({"id": what}), None, None
        else:
            params, policy = self._send_args(what)
            method = _SEND_STREAMING
            limit = what.policy.max_duration_ms if what.policy else None
        out: _Outcome = self._h.stream_open(method, params, policy)
        if out[0] != _RUV_OK:
            _raise(out, self._peer)
        return out[6], limit

    def _next_update(self, stream: Any, started: float, limit_ms: Optional[int],
                     task_id: List[str]) -> Optional[TaskUpdate]:
        out: _Outcome = stream.next()
        if out[0] == _RUV_E_NOTFOUND:
            return None
        if out[0] != _RUV_OK:
            _raise(out, self._peer)
        upd = TaskUpdate.from_wire(json.loads(out[6]))
        if upd.task_id and not task_id:
            task_id.append(upd.task_id)
        if limit_ms is not None and (time.monotonic() - started) * 1000 > limit_ms:
            if task_id:
                try:
                    self._cancel_task(task_id[0])
                except A2aError:
                    pass
            raise TaskDeadlineExceeded(
                f"max_duration_ms {limit_ms} passed; CancelTask sent", peer=self._peer
            )
        return upd

    def stream_task_sync(self, what: Union[TaskSpec, str]) -> Iterator[TaskUpdate]:
        """A TaskSpec: SendStreamingMessage; a task id: SubscribeToTask. Yields
        updates until a terminal or interrupted state (or a message)."""
        _refuse_in_loop("stream_task_sync")
        stream, limit = self._open_stream(what)
        return self._iterate(stream, limit)

    def _iterate(self, stream: Any, limit: Optional[int]) -> Iterator[TaskUpdate]:
        started, tid = time.monotonic(), []  # type: float, List[str]
        try:
            while True:
                upd = self._next_update(stream, started, limit, tid)
                if upd is None:
                    return
                yield upd
        finally:
            stream.close()

    def close(self) -> None:
        """Frees the client (open streams keep it alive until they end)."""
        self._h.close()

    def __enter__(self) -> "A2aClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- async API (the blocking calls in the default executor) ----

    async def send_task(self, spec: TaskSpec) -> Task:
        return await _in_executor(functools.partial(self._send_task, spec))

    async def get_task(self, task_id: str, *, history_length: Optional[int] = None) -> Task:
        return await _in_executor(functools.partial(self._get_task, task_id, history_length))

    async def cancel_task(self, task_id: str) -> Task:
        return await _in_executor(functools.partial(self._cancel_task, task_id))

    async def stream_task(self, what: Union[TaskSpec, str]) -> AsyncIterator[TaskUpdate]:
        stream, limit = await _in_executor(functools.partial(self._open_stream, what))
        started, tid = time.monotonic(), []  # type: float, List[str]
        try:
            while True:
                upd = await _in_executor(
                    functools.partial(self._next_update, stream, started, limit, tid)
                )
                if upd is None:
                    return
                yield upd
        finally:
            stream.close()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> "A2aClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


async def _in_executor(fn: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, fn)
