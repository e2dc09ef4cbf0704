/* ruvector/feature-a2a.h — the ops table of the `a2a` feature plugin
 * (descriptor .feature = RUV_FEATURE_A2A; a2a.md §7).
 *
 * A host reaches it with
 *   ruv_engine_load_plugin(eng, "a2a");
 *   ruv_engine_feature_get(eng, "a2a", RUV_FEATURE_A2A, RUV_A2A_OPS_SIZE_V1, &ops, &state);
 *
 * Append-only: every struct starts with struct_size (sizeof as the caller or
 * the plugin compiled it) and grows only at the end. These are the first
 * slots (V1): offline agent-card verification. V2 appends a blocking
 * client (client_open, call, stream_open/next/close) and global budgets
 * (budget_new/free); V3 appends asynchronous calls and streams on the
 * plugin's I/O thread (notify_fd, call_submit, poll, release, abort, wait,
 * stream_submit, credit). A host
 * asks for the size it needs (RUV_A2A_OPS_SIZE_V1, _V2 or _V3), so one
 * built against V1 keeps working. */
#ifndef RUVECTOR_FEATURE_A2A_H
#define RUVECTOR_FEATURE_A2A_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An AgentID (SHAKE-256 of the card's Ed25519 identity key, a2a.md §4) as
 * 64 lowercase hex digits plus the NUL. */
#define RUV_A2A_AGENT_ID_SIZE 65

/* One pinned key: signatures whose JWS header names kid must verify with it. */
struct ruv_a2a_pinned_key {
    uint32_t struct_size; /* sizeof(struct ruv_a2a_pinned_key) */
    int32_t revoked;      /* non-zero: every signature under kid fails */
    const char *kid;      /* the JWS "kid", non-empty */
    /* The public key as JWK JSON text ({"kty":"OKP","crv":"Ed25519","x"},
     * {"kty":"EC","crv":"P-256","x","y"} or {"kty":"RSA","n","e"}) or as
     * PEM ("-----BEGIN PUBLIC KEY-----"). NUL-terminated. */
    const char *key;
    int64_t not_after;    /* Unix seconds after which the key fails; 0 = never */
};

/* Settings for verify_card (and, later, for clients). Every pointer is
 * read during the call only; nothing is kept. */
struct ruv_a2a_options {
    uint32_t struct_size; /* sizeof(struct ruv_a2a_options) */
    uint32_t reserved;    /* must be 0 */
    /* Pinned keys: an array of n_pinned_keys pointers (each element
     * carries its own struct_size, so the array never has a stride
     * mismatch). */
    const struct ruv_a2a_pinned_key *const *pinned_keys;
    size_t n_pinned_keys;
    /* Expected AgentIDs (64 hex digits, any case). When any is given, a card
     * must carry the identity extension with one of them. */
    const char *const *agent_ids;
    size_t n_agent_ids;
    /* The time pin expiry is judged at, Unix seconds; 0: the current time. */
    int64_t now;
    /* V2 (clients only; verify_card fetches nothing): origins a signature's
     * jku may name besides the card's own (each "scheme://host[:port]" or
     * any URL on that origin); the JWKS must still come over https, or
     * http on loopback. */
    const char *const *trusted_jku;
    size_t n_trusted_jku;
};

#define RUV_A2A_OPTIONS_SIZE_V1 (offsetof(struct ruv_a2a_options, now) + sizeof(int64_t))
#define RUV_A2A_OPTIONS_SIZE_V2 (offsetof(struct ruv_a2a_options, n_trusted_jku) + sizeof(size_t))


/* ---- the client (ops V2) ---- */

struct ruv_a2a_client; /* opaque, plugin-owned */
struct ruv_a2a_stream; /* opaque, plugin-owned */
struct ruv_a2a_event;  /* an event of the V3 queue (defined after the ops) */

/* ruv_a2a_client_options.flags */
#define RUV_A2A_INSECURE_TLS 1u /* skip certificate and host name checks (tests only) */
#define RUV_A2A_ALLOW_HTTP 2u   /* plain http to hosts other than loopback */
#define RUV_A2A_UNSIGNED_OK 4u  /* accept a card that does not verify (tests only);
                                   client_info then says "verified": false */
#define RUV_A2A_COMPRESSION 8u  /* ask for gzip/deflate bodies; the size caps then count
                                   decoded bytes (a2a.md §6: compression is off by default) */

/* ruv_a2a_client_options.protocol */
enum ruv_a2a_protocol { RUV_A2A_PROTO_AUTO = 0, RUV_A2A_PROTO_V1 = 1, RUV_A2A_PROTO_V03 = 2 };

/* Methods of call and stream_open. */
enum ruv_a2a_method {
    RUV_A2A_SEND = 1,           /* SendMessage / message/send */
    RUV_A2A_GET = 2,            /* GetTask / tasks/get */
    RUV_A2A_CANCEL = 3,         /* CancelTask / tasks/cancel */
    RUV_A2A_SEND_STREAMING = 4, /* SendStreamingMessage / message/stream */
    RUV_A2A_SUBSCRIBE = 5       /* SubscribeToTask / tasks/resubscribe */
};

/* What a failed call was, finer than its ruv_status (a2a.md §8 error tree). */
enum ruv_a2a_error {
    RUV_A2A_ERR_NONE = 0,
    RUV_A2A_ERR_SIGNATURE,      /* the card did not verify (RUV_E_SECURITY) */
    RUV_A2A_ERR_POLICY,         /* TaskPolicy refused the call (RUV_E_POLICY) */
    RUV_A2A_ERR_RECURSION,      /* call depth or a visited agent (RUV_E_POLICY) */
    RUV_A2A_ERR_TRANSPORT,      /* connection failed or broke (RUV_E_IO) */
    RUV_A2A_ERR_PROTOCOL,       /* malformed or unexpected bytes (RUV_E_PROTOCOL) */
    RUV_A2A_ERR_TLS,            /* certificate or handshake (RUV_E_SECURITY) */
    RUV_A2A_ERR_TIMEOUT,        /* one of our deadlines (RUV_E_TIMEOUT) */
    RUV_A2A_ERR_TOO_LARGE,      /* a size cap (RUV_E_PROTOCOL) */
    RUV_A2A_ERR_HTTP,           /* a non-2xx status without a JSON-RPC error (RUV_E_REMOTE) */
    RUV_A2A_ERR_DISCOVERY,      /* no usable card or interface (RUV_E_PROTOCOL) */
    RUV_A2A_ERR_REMOTE,         /* a JSON-RPC error from the peer (RUV_E_REMOTE) */
    RUV_A2A_ERR_VERSION,        /* no common protocol version, or a refused dialect */
    RUV_A2A_ERR_URL,            /* a URL the transport rules refuse (RUV_E_SECURITY) */
    RUV_A2A_ERR_BUDGET          /* a global budget refused the send (RUV_E_POLICY) */
};

/* Filled by every client call (the caller sets struct_size). */
struct ruv_a2a_call_status {
    uint32_t struct_size; /* sizeof(struct ruv_a2a_call_status) */
    uint32_t error;       /* enum ruv_a2a_error; RUV_A2A_ERR_NONE on success */
    int32_t rpc_code;     /* the peer's JSON-RPC error code, else 0 */
    int32_t http_status;  /* the last HTTP status seen, else 0 */
    int32_t request_sent; /* 1 once request bytes may have reached the peer */
    int32_t reserved;
};

/* Client settings. Strings are copied during client_open; 0 takes the
 * a2a.md §11 default. */
struct ruv_a2a_client_options {
    uint32_t struct_size; /* sizeof(struct ruv_a2a_client_options) */
    uint32_t flags;       /* RUV_A2A_INSECURE_TLS | RUV_A2A_ALLOW_HTTP | RUV_A2A_UNSIGNED_OK */
    uint32_t protocol;    /* enum ruv_a2a_protocol */
    uint32_t reserved;    /* must be 0 */
    const struct ruv_a2a_options *verify; /* pins and AgentIDs for the card; NULL: none */
    const char *ca_file;       /* PEM CA bundle instead of the system store; NULL */
    const char *authorization; /* Authorization header value for the card's origin; NULL */
    int32_t connect_timeout_ms; /* 10 s: connect including TLS */
    int32_t unary_timeout_ms;   /* 60 s: card fetch and unary calls, in total */
    int32_t idle_timeout_ms;    /* 60 s: a stream with no byte for this long fails */
    int32_t event_timeout_ms;   /* 60 s: one SSE event must be complete this long after
                                   its first byte (bytes that never finish an event) */
    uint64_t max_body_bytes;    /* 16 MiB: one unary response body (cards: 1 MiB) */
    uint64_t max_event_bytes;   /* 4 MiB: one SSE event */
    /* Appended (struct_size tells whether a caller has them): */
    const char *proxy; /* proxy URL (http://, https://, socks5h://...) for every request;
                          NULL: none. Proxies come only from here: http_proxy,
                          HTTPS_PROXY, ALL_PROXY and no_proxy are never read */
};

/* The client options before proxy was appended; client_open takes this size
 * or more. */
#define RUV_A2A_CLIENT_OPTIONS_SIZE_V1                                                             \
    (offsetof(struct ruv_a2a_client_options, max_event_bytes) + sizeof(uint64_t))

/* A global budget (a2a.md §5 step 1): a rolling window shared by every
 * client whose policy names it. Opaque, plugin-owned, thread-safe. */
struct ruv_a2a_budget;

struct ruv_a2a_budget_options {
    uint32_t struct_size; /* sizeof(struct ruv_a2a_budget_options) */
    uint32_t queue_depth; /* 0: refuse at once ("shed"); N: up to N callers wait
                             inside the send until the window admits them */
    double max_usd_per_window;     /* < 0: no cap */
    int64_t max_tokens_per_window; /* < 0: no cap */
    int64_t max_tasks_per_window;  /* < 0: no cap */
    int64_t window_ms;             /* 0: 60 s */
    uint32_t reserved;             /* must be 0 */
    uint32_t reserved2;
};

/* Pre-flight policy for a send (a2a.md §5), checked before any byte is
 * sent. Negative numbers mean "not set". */
struct ruv_a2a_policy {
    uint32_t struct_size; /* sizeof(struct ruv_a2a_policy) */
    uint32_t reserved;
    const char *skill;                  /* must be one of the card's skills when set */
    const char *const *allowed_skills;  /* when n_allowed_skills > 0, skill must be listed */
    size_t n_allowed_skills;
    int64_t max_tokens;                 /* cap on the token estimate */
    double max_cost_usd;                /* cap on the cost estimate; needs an estimate */
    int64_t estimated_tokens;           /* else the card's pricing, else input bytes / 4 */
    double estimated_cost_usd;          /* else the card's pricing extension */
    int32_t depth;                      /* depth the outgoing call would have (1 = first hop) */
    int32_t max_call_depth;             /* default 8 when <= 0 */
    const char *const *visited_agents;  /* AgentIDs already on the call path */
    size_t n_visited_agents;
    struct ruv_a2a_budget *budget;      /* charged with the estimates when admitted; NULL */
    uint32_t max_concurrency;           /* in-flight sends per (peer, skill) in this process;
                                           0: no limit. A unary send is in flight while its
                                           request runs, a stream until stream_close */
    uint32_t reserved2;                 /* must be 0 */
};

struct ruv_a2a_ops {
    uint32_t struct_size; /* sizeof(struct ruv_a2a_ops) as the plugin compiled it */
    uint32_t reserved;

    /* Verifies len bytes of agent-card JSON offline (a2a.md §4): at least
     * one JWS signature must verify over the card's RFC 8785 form (or, once,
     * over a2a-python's rendering) with a pinned key or, for EdDSA with
     * kid == agentId, the card's own identity-extension key; a card with
     * the identity extension must carry such a signature; the AgentID must
     * satisfy options->agent_ids. options may be NULL (nothing pinned).
     *
     * On RUV_OK: if view is non-NULL, *view is the signature-covered card
     * (signatures and fields outside the card schema removed) as RFC 8785
     * text, owned by the caller and freed with free_string; if agent_id is
     * non-NULL it receives the card's verified AgentID, or "" when the card
     * has no identity extension.
     * Otherwise *view is NULL, agent_id is "", and the status is
     * RUV_E_SECURITY (unsigned, no signature verifies, identity or pin
     * mismatch), RUV_E_PROTOCOL (malformed card or JWS), RUV_E_INVAL (bad
     * arguments, oversized card, a pinned key that cannot be read) or
     * RUV_E_NOMEM, with the reason in ruv_last_error(). Thread-safe. */
    int (*verify_card)(void *state, const char *json, size_t len,
                       const struct ruv_a2a_options *options, char **view,
                       char agent_id[RUV_A2A_AGENT_ID_SIZE]);
    /* Frees a string this plugin returned (view). NULL is a no-op. */
    void (*free_string)(char *s);

    /* ---- V2: the blocking client (a2a.md §1-§6). Each call runs in the
     * calling thread (libcurl's easy and multi interfaces, no thread of the
     * plugin's own): hosts release their interpreter lock around them. A
     * client is used by one thread at a time; distinct clients are
     * independent. Every call fills *st (when non-NULL) with what a
     * failure was (enum ruv_a2a_error, the JSON-RPC code, the HTTP status)
     * and sets ruv_last_error() to the reason. ---- */

    /* Discovery: GETs <base_url>/.well-known/agent-card.json (falling back
     * to agent.json on 404 or a non-JSON body) with A2A-Version: 1.0,
     * verifies the card (strict unless RUV_A2A_UNSIGNED_OK), refuses the
     * rvagent-a2a pre-v0.2 dialect, and picks the JSON-RPC interface and
     * protocol version from the signature-covered fields (v1.0 first; v0.3
     * only when the verified card declares it). On RUV_OK *out is the client,
     * freed with client_close. RUV_E_SECURITY (card, TLS or URL checks),
     * RUV_E_PROTOCOL (malformed card, unsupported dialect: st->error says
     * which), RUV_E_TIMEOUT, RUV_E_IO (connection), RUV_E_INVAL, RUV_E_NOMEM. */
    int (*client_open)(void *state, const char *base_url,
                       const struct ruv_a2a_client_options *options,
                       struct ruv_a2a_client **out, struct ruv_a2a_call_status *st);
    /* Frees the client; any stream of it must be closed first. NULL: no-op. */
    void (*client_close)(struct ruv_a2a_client *c);
    /* What connecting learned, as JSON text owned by the caller (free_string):
     * {"card": <the verified card view>, "agent_id": "<hex>"|"", "verified":
     * bool, "signed_by": kid, "canonicalization": "jcs"|"python"|"",
     * "protocol_version": "1.0"|"0.3", "endpoint": url, "card_url": url}. */
    int (*client_info)(struct ruv_a2a_client *c, char **json);

    /* One unary call. method is RUV_A2A_SEND (params: SendMessageRequest
     * in v1.0 shape; policy is checked first, a2a.md §5, and a refusal
     * sends nothing: RUV_E_POLICY), RUV_A2A_GET ({id, historyLength?}) or
     * RUV_A2A_CANCEL ({id}); policy must be NULL for the latter two. On
     * RUV_OK *result is the JSON-RPC result normalized to v1.0 (send:
     * {"task":T} or {"message":M}; get and cancel: a Task). On RUV_E_REMOTE
     * *result is the peer's JSON-RPC error object and st->rpc_code its code.
     * Otherwise *result is NULL. The caller frees *result (free_string). */
    int (*call)(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                const struct ruv_a2a_policy *policy, char **result,
                struct ruv_a2a_call_status *st);

    /* Opens a stream: RUV_A2A_SEND_STREAMING (params as for RUV_A2A_SEND,
     * policy checked first) or RUV_A2A_SUBSCRIBE ({id}). Sends the request
     * and returns once the response headers are read; an upfront JSON-RPC
     * error is RUV_E_REMOTE with *result as for call. On RUV_OK *out is the
     * stream, freed with stream_close. */
    int (*stream_open)(struct ruv_a2a_client *c, uint32_t method, const char *params,
                       size_t len, const struct ruv_a2a_policy *policy,
                       struct ruv_a2a_stream **out, char **result,
                       struct ruv_a2a_call_status *st);
    /* Blocks until the next event: RUV_OK with *event a StreamResponse
     * normalized to v1.0 ({"task"|"message"|"statusUpdate"|"artifactUpdate":
     * ...}, caller frees with free_string); RUV_E_NOTFOUND with *event NULL
     * after the last event (the stream ended at a terminal or interrupted
     * state, or after a message); an error otherwise (an in-stream JSON-RPC
     * error is RUV_E_REMOTE with *event its error object), after which the
     * stream only returns that error again. The transfer reads no more
     * than one network chunk ahead of the consumer (TCP slows the peer). */
    int (*stream_next)(struct ruv_a2a_stream *s, char **event, struct ruv_a2a_call_status *st);
    /* Aborts (if still running) and frees the stream. NULL: no-op. */
    void (*stream_close)(struct ruv_a2a_stream *s);

    /* A global budget for policies to name (a2a.md §5). *out is freed with
     * budget_free once no client call uses it. RUV_E_INVAL, RUV_E_NOMEM. */
    int (*budget_new)(void *state, const struct ruv_a2a_budget_options *options,
                      struct ruv_a2a_budget **out);
    void (*budget_free)(struct ruv_a2a_budget *b);

    /* ---- V3: asynchronous calls and streams on the plugin's I/O thread
     * (a2a.md §7, §8). One thread per plugin state, started by the first
     * submit and joined when the plugin is unloaded, drives every transfer
     * through one curl multi handle: no thread per call. Completions go to
     * a per-client event queue whose notify fd is readable while the queue
     * is not empty; hosts add the fd to their event loop and drain it with
     * poll. The I/O thread calls no host function and never blocks on a
     * caller. After fork() a child cannot use a thread its parent started:
     * these slots then return RUV_E_STATE (poll returns 0) and never wait
     * on a lock the parent's thread may have held. ---- */

    /* The client's notify fd (eventfd, or a pipe's read end): readable
     * while events are queued, owned by the client (do not read or close
     * it). A negative ruv_status on failure. */
    int (*notify_fd)(struct ruv_a2a_client *c);
    /* Queues one unary call (method and params as for call). The pre-flight
     * of a send (policy, budget, recursion, concurrency) runs here, before
     * anything is queued: a refusal returns its status with *st filled and
     * nothing sent. On RUV_OK *req identifies the call (never 0); exactly
     * one event with that req follows (RUV_A2A_EV_RESULT). Never waits on
     * the network. The params text is copied. */
    int (*call_submit)(struct ruv_a2a_client *c, uint32_t method, const char *params, size_t len,
                       const struct ruv_a2a_policy *policy, uint64_t *req,
                       struct ruv_a2a_call_status *st);
    /* Moves up to max queued events into out (each out[i].struct_size is
     * set by the plugin); returns how many. Never blocks on the network
     * (a short mutex only). Event memory is the plugin's until release. A
     * v1.0 call that the peer refuses as unknown (-32601/-32009) while the
     * verified card declares v0.3 is re-sent once over v0.3 here instead of
     * being returned (the client then speaks v0.3, as with call). */
    size_t (*poll)(struct ruv_a2a_client *c, struct ruv_a2a_event *out, size_t max);
    /* Frees the memory of n events poll returned. */
    void (*release)(struct ruv_a2a_client *c, struct ruv_a2a_event *ev, size_t n);
    /* Aborts a call still in flight: the I/O thread removes its transfer
     * (the connection is closed) and its event arrives with RUV_E_CANCELED.
     * An unknown or finished req is a no-op. Never waits on the network. */
    void (*abort)(struct ruv_a2a_client *c, uint64_t req);
    /* Waits (for hosts without an event loop; release any interpreter
     * lock) until an event is queued or timeout_ms passes (< 0: no
     * limit): 1 when one is queued, 0 on timeout, a negative ruv_status on
     * failure. */
    int (*wait)(struct ruv_a2a_client *c, int timeout_ms);
    /* Queues a stream (method and params as for stream_open; the
     * pre-flight runs here as for call_submit). Its events follow with
     * that req: RUV_A2A_EV_STREAM for each StreamResponse (normalized to
     * v1.0, resumes reconciled as with stream_next), then exactly one
     * RUV_A2A_EV_END: RUV_OK after the last event, else why it failed (an
     * upfront or in-stream JSON-RPC error is RUV_E_REMOTE with its error
     * object). Backpressure (a2a.md §6): the transfer pauses while 1,024
     * events or 8 MiB of this stream wait uncredited (one network chunk may
     * pass the limit), so TCP slows the peer; nothing is dropped. abort
     * ends it (RUV_E_CANCELED). */
    int (*stream_submit)(struct ruv_a2a_client *c, uint32_t method, const char *params,
                         size_t len, const struct ruv_a2a_policy *policy, uint64_t *req,
                         struct ruv_a2a_call_status *st);
    /* The host's consumer took n more RUV_A2A_EV_STREAM events of stream
     * req (counted from its first): they no longer count toward its limits.
     * Unknown or ended streams: a no-op. */
    void (*credit)(struct ruv_a2a_client *c, uint64_t req, uint32_t n);

    /* ---- V4: connecting on the I/O thread ---- */

    /* client_open without blocking: the discovery (the card GET, the
     * agent.json fallback, redirects, a signature's jku JWKS, verification
     * and the interface choice) runs as an operation on the plugin's I/O
     * thread. Returns at once: on RUV_OK *out is a client that is not yet
     * connected (only notify_fd, poll, release, abort, wait and
     * client_close may be used) and *req the operation; exactly one
     * RUV_A2A_EV_RESULT event with that req follows (method 0, no json):
     * RUV_OK once the client is connected (client_info and the calls work
     * from then on), else the failure client_open would have returned
     * (abort gives RUV_E_CANCELED); a client that failed to connect is only
     * fit for client_close. Argument errors return here with *out NULL. */
    int (*client_open_submit)(void *state, const char *base_url,
                              const struct ruv_a2a_client_options *options,
                              struct ruv_a2a_client **out, uint64_t *req,
                              struct ruv_a2a_call_status *st);
};

/* An event of the V3 queue. Strings are the plugin's until release. */
enum ruv_a2a_ev {
    RUV_A2A_EV_RESULT = 2, /* a unary call ended (status says how) */
    RUV_A2A_EV_STREAM = 3, /* one event of a stream (json) */
    RUV_A2A_EV_END = 4     /* a stream ended (status says how) */
};

struct ruv_a2a_event {
    uint32_t struct_size;  /* sizeof(struct ruv_a2a_event) as the plugin compiled it */
    uint32_t kind;         /* enum ruv_a2a_ev */
    uint64_t req;          /* the call it belongs to */
    int32_t status;        /* ruv_status: RUV_OK, or why the call failed */
    uint32_t error;        /* enum ruv_a2a_error */
    int32_t rpc_code;      /* as in ruv_a2a_call_status */
    int32_t http_status;
    int32_t request_sent;
    uint32_t method;       /* the call's enum ruv_a2a_method */
    /* RUV_OK: the result normalized to v1.0, as call's *result; RUV_E_REMOTE
     * with a JSON-RPC error: its error object; else NULL. */
    const char *json;
    size_t json_len;
    const char *detail;    /* why it failed ("" on success): asynchronous errors travel
                              here, not in ruv_last_error() */
    void *plugin_private;  /* the plugin's; release reads it */
};

#define RUV_A2A_OPS_SIZE_V1 (offsetof(struct ruv_a2a_ops, free_string) + sizeof(void (*)(void)))
#define RUV_A2A_OPS_SIZE_V2 (offsetof(struct ruv_a2a_ops, budget_free) + sizeof(void (*)(void)))
#define RUV_A2A_OPS_SIZE_V3 (offsetof(struct ruv_a2a_ops, credit) + sizeof(void (*)(void)))
#define RUV_A2A_OPS_SIZE_V4                                                                        \
    (offsetof(struct ruv_a2a_ops, client_open_submit) + sizeof(void (*)(void)))

#ifdef __cplusplus
}
#endif
#endif
