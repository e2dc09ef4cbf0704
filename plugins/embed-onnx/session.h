/* session.h — one ONNX Runtime session of an embedding model (embed.md
 * §3.3, §5), behind a small interface so the batching and pooling code
 * needs no ORT header. session.c implements it with onnxruntime_c_api.h;
 * session_none.c, built when configure found no header, refuses with how
 * to get one. Plugin-internal. */
#ifndef RUV_EMBED_SESSION_H
#define RUV_EMBED_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <ruvector/feature-embed.h>
#include <ruvector/plugin.h>

#include "ort.h"

struct ruv__session;

/* 1 when built with the ONNX header (session.c), 0 with session_none.c. */
extern const int RUV__SESSIONS_BUILT;

/* The model's inputs, among the three BERT names (embed.md §5). */
#define RUV__IN_IDS (1u << 0)
#define RUV__IN_MASK (1u << 1)
#define RUV__IN_TYPES (1u << 2)

/* Opens onnx_path in the process-wide ORT environment (created on first
 * use with threads intra-op threads, global pools, no spinning) and checks
 * the graph: inputs only input_ids / attention_mask / token_type_ids, int64,
 * rank 2, input_ids among them; an output sentence_embedding, float, rank 2
 * (preferred, as embed.md §5 says; ruv__session_pooled then says 1), or
 * last_hidden_state, float, rank 3. *hidden is its last dimension when static,
 * else 0. On success *out is a
 * new session for ruv__session_close; on failure *out is NULL and the
 * status (RUV_E_NOTFOUND for a missing file, RUV_E_INVAL for a graph we
 * cannot feed, RUV_E_PLUGIN for other ORT errors, RUV_E_UNSUPPORTED without
 * the header) has its detail set through host->set_error. */
int ruv__session_open(const struct ruv_host *host, const struct ruv__ort *ort,
                      const char *onnx_path, unsigned threads, struct ruv__session **out,
                      size_t *hidden);
void ruv__session_close(struct ruv__session *s);

/* What a batch in flight registers with its cancel flag (embed.c): while
 * it is registered, cancelling calls fire(ctx) from the cancelling thread
 * (session.c: RunOptionsSetTerminate, so ORT stops inside the run). */
struct ruv__cancel_hook {
    void (*fire)(void *ctx);
    void *ctx;
    struct ruv__cancel_hook *next;
};

/* Registers h with c and returns 0, or returns 1 without registering when
 * c is already set. h stays the caller's; it must be disarmed before it
 * (or what ctx points at) goes away. */
int ruv__cancel_arm(ruv_embed_cancel *c, struct ruv__cancel_hook *h);
/* Unregisters h; on return no fire(h->ctx) is running or will run. */
void ruv__cancel_disarm(ruv_embed_cancel *c, struct ruv__cancel_hook *h);
/* 1 once c has been cancelled. */
int ruv__cancel_is_set(ruv_embed_cancel *c);

/* Runs one padded batch: ids and mask are caller-owned [rows, seq] int64
 * (ORT reads them in place), types is a zero buffer of the same size.
 * cancel (may be NULL) stops the run from another thread: the call then
 * returns RUV_E_CANCELED. On success *hidden points at [rows, seq, *width]
 * floats ([rows, *width] when ruv__session_pooled), valid until ruv__session_release(*run); on failure *run is NULL
 * and the detail is set through host. Thread-safe. */
int ruv__session_run(const struct ruv_host *host, struct ruv__session *s, int64_t *ids,
                     int64_t *mask, int64_t *types, size_t rows, size_t seq,
                     ruv_embed_cancel *cancel, const float **hidden, size_t *width, void **run);
void ruv__session_release(struct ruv__session *s, void *run);

/* Which inputs the graph declares (RUV__IN_*). */
unsigned ruv__session_inputs(const struct ruv__session *s);

/* 1 when the graph's output is sentence_embedding, already pooled: the
 * rows of a run are sentence vectors, only normalisation is left. */
int ruv__session_pooled(const struct ruv__session *s);

#endif
