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

Calls and streams run on the plugin's one I/O thread (a2a.md §8), with no
thread per call: the async methods come back through the event loop (the
client's notify fd), the sync methods block the calling thread with the GIL
released until their event arrives (and refuse inside a running loop).
connect_sync fetches the card in the calling thread; await connect() on the
I/O thread.
Built: GlobalBudget, max_concurrency, retries of idempotent calls and stream
resume (a2a.md §6), deadlines, size caps, TLS verification. Not built yet:
card caching, jku key fetching, the push-notification calls.
"""

from __future__ import annotations

from ._a2a_client import A2aClient, GlobalBudget, Queue
from ._a2a_errors import (
    A2aError,
    A2aTimeout,
    ArtifactVersionUnsupported,
    BudgetExceeded,
    CardSignatureInvalid,
    DiscoveryError,
    HttpError,
    PolicyViolation,
    ProtocolError,
    RecursionLimit,
    RemoteError,
    ResponseTooLarge,
    TaskDeadlineExceeded,
    TaskNotCancelable,
    TaskNotFound,
    TlsError,
    TransportError,
    UnsupportedOperation,
    UrlRefused,
    VersionNotSupported,
)
from ._a2a_types import (
    AgentCard,
    AgentSkill,
    Artifact,
    CallContext,
    Limits,
    Message,
    Part,
    PinnedKey,
    Task,
    TaskPolicy,
    TaskSpec,
    TaskState,
    TaskStatus,
    TaskUpdate,
    Timeouts,
)

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
