"""The A2A client's data: tasks, messages, parts, artifacts, cards and the
caller's policy, as frozen dataclasses read from the plugin's v1.0-shaped
JSON. Public through ruvector.a2a."""

from __future__ import annotations

import base64
import enum
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ._a2a_errors import ProtocolError



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
    stream_event_ms: int = 60_000  # one SSE event complete this long after its first byte


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 16 << 20
    max_event_bytes: int = 4 << 20
