/* session.h — one ONNX Runtime session of an embedding model (embed.md
 * §3.3, §5), behind a small interface so the batching and pooling code
 * needs no ORT header. session.c implements it with onnxruntime_c_api.h;
 * session_none.c, built when configure found no header, refuses with how
 * to get one. Plugin-internal. */
#ifndef RUV_EMBED_SESSION_H
#define RUV_EMBED_SESSION_H

#include <stddef.h>
#include <stdint.h>

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
 * rank 2, input_ids among them; an output last_hidden_state, float, rank 3.
 * *hidden is its last dimension when static, else 0. On success *out is a
 * new session for ruv__session_close; on failure *out is NULL and the
 * status (RUV_E_NOTFOUND for a missing file, RUV_E_INVAL for a graph we
 * cannot feed, RUV_E_PLUGIN for other ORT errors, RUV_E_UNSUPPORTED without
 * the header) has its detail set through host->set_error. */
int ruv__session_open(const struct ruv_host *host, const struct ruv__ort *ort,
                      const char *onnx_path, unsigned threads, struct ruv__session **out,
                      size_t *hidden);
void ruv__session_close(struct ruv__session *s);

/* Runs one padded batch: ids and mask are caller-owned [rows, seq] int64
 * (ORT reads them in place), types is a zero buffer of the same size. On
 * success *hidden points at [rows, seq, *width] floats, valid until
 * ruv__session_release(*run); on failure *run is NULL and the detail is
 * set through host. Thread-safe. */
int ruv__session_run(const struct ruv_host *host, struct ruv__session *s, int64_t *ids,
                     int64_t *mask, int64_t *types,
                     size_t rows, size_t seq, const float **hidden, size_t *width, void **run);
void ruv__session_release(struct ruv__session *s, void *run);

/* Which inputs the graph declares (RUV__IN_*). */
unsigned ruv__session_inputs(const struct ruv__session *s);

#endif
