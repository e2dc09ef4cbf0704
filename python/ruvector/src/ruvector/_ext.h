/* ruvector._ext — what the parts of the CPython binding share. Private to
 * the extension: every declaration here has hidden visibility, so the only
 * symbol the module exports is PyInit__ext.
 *
 *   _ext.c            the module: its functions, state and PyInit__ext
 *   _ext_errors.c     C statuses -> the Python exception classes
 *   _ext_args.c       arguments: ints, arrays through __array_struct__
 *   _ext_engine.c     the Engine type
 *   _ext_index.c      Index objects: creation (new, build, load), lifetime
 *   _ext_search.c     Index.search and Index.search_batch
 *   _ext_index_ops.c  the rest of the Index type: add, remove, save, get,
 *                     sizes, parameters, and its type spec
 *   _ext_export.c     VectorsExport: a pinned view of the stored vectors
 *   _ext_lake.c       ruLake through the rulake plugin: the Lake type
 *   _ext_lake_backends.c  its built-in backends: LakeLocal, LakeFs
 *   _ext_lake_adapter.c   backends written in Python (BackendAdapter)
 *   _ext_lake_keys.c      Ed25519 PEM keys for RuLake.builder()
 *   _ext_lake_async.c     Lake.submit / cancel (the *_async methods)
 *   _ext_a2a.c        the a2a plugin: its ops, budgets, connecting (_ext_a2a.h)
 *   _ext_a2a_client.c the A2A client handle (A2aHandle)
 *   _ext_embed.c      EmbedModel: a model of the embed_onnx feature plugin
 *
 * Built against the stable ABI of CPython 3.9 (Py_LIMITED_API 0x03090000),
 * so one abi3 wheel serves every CPython from 3.9 on. That choice shapes the
 * data path: the buffer protocol (Py_buffer, PyObject_GetBuffer) joined the
 * limited API only in 3.11. Arrays are read instead through the array
 * interface protocol's __array_struct__: a PyCapsule holding a small C
 * struct with the data pointer, shape, type and flags (documented by NumPy
 * as a protocol, with a fixed layout; no NumPy C API, so the wheel does not
 * pin NumPy's ABI). The Python layer (ruvector/_arrays.py) turns lists and
 * other buffers into such arrays and words the TypeErrors; this module
 * checks type, shape and flags again before it trusts a pointer, and holds
 * the capsule (which keeps the array alive) until the call returns. Nothing
 * is copied. Everything that can take more than a few microseconds runs
 * with the GIL released.
 *
 * Locking: the C index allows concurrent searches, but add/remove/save must
 * not overlap anything else on the same index. Each Index object carries a
 * pthread reader-writer lock: searches, get and the vectors export take it
 * shared, add/remove/save take it exclusively. A lock is only ever waited
 * on with the GIL released, so a thread holding the GIL never blocks on a
 * thread that needs the GIL to finish.
 */
#ifndef RUVECTOR_EXT_H
#define RUVECTOR_EXT_H

#define Py_LIMITED_API 0x03090000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <ruvector/cancel.h>
#include <ruvector/engine.h>
#include <ruvector/index.h>

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* ruv_last_error() is 256 bytes today; leave room for growth. */
#define DETAIL_SIZE 1024

/* ---- module state (_ext.c) ----
 * Single-phase init with process globals: the module does not support
 * sub-interpreters (neither does libruvector's process-wide BLAS state). */
extern PyObject *error_map;  /* dict: status (int) -> exception class, from _init() */
extern PyObject *error_base; /* class for statuses missing from error_map */
extern PyObject *hit_type;   /* SearchResult named tuple class, from _init() */
extern PyTypeObject *engine_type;
extern PyTypeObject *index_type;
extern PyTypeObject *export_type;
extern PyTypeObject *embed_model_type;  /* _ext_embed.c */
extern PyTypeObject *embed_cancel_type; /* _ext_embed.c */

/* The ops table of a feature plugin in engine (an Engine object), at
 * least min_size bytes of it (ruv_engine_feature_get), the GIL released
 * while it runs. When load_late is set and the plugin is not loaded yet, it
 * is loaded into the open engine first (ruv_engine_load_plugin). 0, or -1
 * with the engine's error raised (TypeError for an engine of another type). */
int engine_feature_ops(PyObject *engine, const char *plugin, unsigned feature, size_t min_size,
                       int load_late, const void **ops, void **state); /* _ext_engine.c */

/* The type specs, turned into types by PyInit__ext. */
extern PyType_Spec engine_spec; /* _ext_engine.c */
extern PyType_Spec index_spec;  /* _ext_index_ops.c */
extern PyType_Spec export_spec; /* _ext_export.c */
extern PyType_Spec embed_model_spec;  /* _ext_embed.c */
extern PyType_Spec embed_cancel_spec; /* _ext_embed.c */

/* ---- errors (_ext_errors.c) ---- */

/* A new instance of the exception class registered for status, called as
 * cls(detail, status=..., status_name=...); NULL with an error set on failure. */
PyObject *make_exception(int status, const char *detail);
/* Raises make_exception(status, detail). Always returns NULL, so callers
 * can `return raise_detail(...)`. */
PyObject *raise_detail(int status, const char *detail);
/* Copies the thread-local detail (DETAIL_SIZE bytes) right after a failing
 * call, before anything else can overwrite it. */
void save_detail(char *buf);
/* raise_detail(status, ruv_last_error()). Always returns NULL. */
PyObject *raise_status(int status);

/* ---- long calls (_ext_call.c) ---- */

/* Remembers which thread is Python's main thread; from PyInit__ext. */
int call_init(void);
/* Runs fn(ctx) (an engine call returning a status) with the GIL released;
 * called and returns with the GIL held. On error the thread-local detail is
 * copied to detail (DETAIL_SIZE). When long_call is set and this is the
 * main thread, fn runs on the engine's pool while this thread runs Python's
 * signal handlers every 50 ms; if one raises, fn's cancel token is raised
 * (<ruvector/cancel.h>), fn returns (RUV_E_CANCELED, or its own status if
 * it had finished), and *interrupted is 1 with the handler's exception set:
 * the caller drops fn's result and returns NULL. */
int call_interruptible(ruv_cancel_call_fn fn, void *ctx, int long_call, char *detail,
                       int *interrupted);
/* Whether a call is long enough to be worth the hand-off to the pool
 * (tens of microseconds): about a millisecond of work or more. */
#define LONG_BUILD(rows, dim) ((double)(rows) * (double)(dim) >= 65536.0)
#define LONG_SEARCH(nq, len, dim) ((double)(nq) * (double)(len) * (double)(dim) >= 16777216.0)

/* ---- arguments (_ext_args.c) ---- */

/* None leaves *out unchanged (the C default); otherwise an int in 0..max.
 * Returns 0, or -1 with TypeError/ValueError set. */
int opt_uint(PyObject *o, const char *name, unsigned long long max, unsigned long long *out);
int opt_u32(PyObject *o, const char *name, uint32_t *out);

/* A checked view of an array: data pointer and up to two dimensions. The
 * capsule owns a reference to the exporting array; release with view_free. */
typedef struct {
    PyObject *capsule;
    void *data;
    Py_ssize_t rows; /* shape[0] */
    Py_ssize_t cols; /* shape[1], or 1 for a 1-D array */
} array_view;

void view_free(array_view *v);
/* Fills v from obj's __array_struct__ after checking that it is a
 * C-contiguous, aligned, native-order array of ndim dimensions whose items
 * are `kind` ('f' float, 'u' unsigned, 'i' signed) of `size` bytes, and
 * writable when `writable` is set. None gives an empty view when allow_none.
 * Returns 0, or -1 with TypeError set (v empty). */
int view_get(PyObject *obj, const char *what, int ndim, char kind, int size, int writable,
             int allow_none, array_view *v);
/* float32 vectors: a 2-D (n, dim) array, or one 1-D vector as (1, dim). */
int view_f32(PyObject *obj, const char *what, int ndim, array_view *v);
/* uint64 ids: a 1-D array (None: an empty view when allow_none). */
int view_ids(PyObject *obj, const char *what, int allow_none, array_view *v);

/* Slot functions of heap types: the limited API has no direct
 * tp_alloc/tp_free access. free_instance also drops the instance's
 * reference to its type. no_new is the tp_new of types made only here. */
PyObject *alloc_instance(PyTypeObject *tp);
void free_instance(PyObject *self);
PyObject *no_new(PyTypeObject *tp, PyObject *args, PyObject *kw);

/* ---- objects ---- */

typedef struct {
    PyObject_HEAD
    ruv_engine *eng;
} EngineObject;

typedef struct {
    PyObject_HEAD
    ruv_index *idx;
    PyObject *engine;       /* EngineObject: the engine must outlive the index */
    pthread_rwlock_t lock;  /* shared: searches, get, export; exclusive: add, remove, save */
    atomic_long exports;    /* live VectorsExport objects: their pointers die on add/remove */
    int lock_ready;
} IndexObject;

/* _ext_index.c: the module's index constructors, and the Index destructor. */
PyObject *mod_index_new(PyObject *mod, PyObject *args, PyObject *kw);
PyObject *mod_index_build(PyObject *mod, PyObject *args, PyObject *kw);
PyObject *mod_index_load(PyObject *mod, PyObject *args);
void index_dealloc(PyObject *obj);

/* _ext_search.c */
/* Raises DimensionMismatch (from the C message) with .expected and .got;
 * returns 0 when got is the index's dimension, else -1. */
int check_dim(IndexObject *self, Py_ssize_t got, const char *what);
PyObject *index_search(PyObject *obj, PyObject *args);
PyObject *index_search_batch(PyObject *obj, PyObject *args);

/* _ext_export.c */
PyObject *index_export_vectors(PyObject *obj, PyObject *unused);

/* _ext_lake.c and _ext_lake_backends.c (ruLake) */
struct ruv_lake_ops;
struct ruv_lake;
struct ruv_lake_target;
struct ruv_lake_hit;
struct ruv_lake_query;
typedef struct {
    PyObject_HEAD
    PyObject *engine;
    const struct ruv_lake_ops *ops;
    void *ps;
    struct ruv_lake *lake;  /* NULL once closed */
    pthread_rwlock_t lock;  /* shared: calls; exclusive: close */
    int lock_ready;
    struct lake_done *done; /* finished async requests for the loops (_ext_lake_async.c) */
} LakeObject;
/* Takes self->lock shared, waiting without the GIL: close() holds it
 * exclusively while it waits for requests whose callbacks need the GIL. */
static inline void lake_rdlock(LakeObject *self)
{
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_rdlock(&self->lock);
    Py_END_ALLOW_THREADS
}
/* A (backend or None, collection) tuple as UTF-8 held by hold[0..1]
 * (dropped with lake_drop_holds, set or not). 0, or -1 with TypeError. */
int lake_target_of(PyObject *t, struct ruv_lake_target *out, PyObject **hold);
void lake_drop_holds(PyObject **hold, Py_ssize_t n);
/* ops->search under the lake's read lock, called without the GIL: the
 * status, and on failure its detail in detail (DETAIL_SIZE bytes; "the
 * lake is closed" when it was). */
int lake_search_nogil(LakeObject *self, const struct ruv_lake_query *q, char *detail);
/* hits (nq x k, nhits each) into the caller's arrays, padding like search_batch. */
void lake_fill_outputs(const struct ruv_lake_hit *hits, size_t nq, uint32_t k, uint64_t *ids,
                       float *scores, uint32_t *targets, const uint32_t *nhits);
/* _ext_lake_one.c: Lake.search_one (one query, one target; hit tuples). */
PyObject *lake_search_one(PyObject *obj, PyObject *args);
/* _ext_lake_async.c: Lake.submit, submit_one, poll and cancel. */
PyObject *lake_submit(PyObject *obj, PyObject *args);
PyObject *lake_submit_one(PyObject *obj, PyObject *args);
PyObject *lake_cancel(PyObject *obj, PyObject *args);
PyObject *lake_notify_fd(PyObject *obj, PyObject *unused);
PyObject *lake_poll(PyObject *obj, PyObject *args);
/* The queue of finished async requests and its notify fd: 0, or -1 with
 * an exception set. lake_done_free (GIL held, the lake closed: no request
 * runs) drops what no loop took. */
int lake_done_init(LakeObject *self);
void lake_done_free(LakeObject *self);
struct ruv_lake_local;
struct ruv_lake_fs;
extern PyTypeObject *lake_type;
extern PyTypeObject *lake_local_type;
extern PyTypeObject *lake_fs_type;
extern PyType_Spec lake_spec;
extern PyType_Spec lake_local_spec;
extern PyType_Spec lake_fs_spec;
/* The engine's rulake ops table and plugin state, loading the plugin into
 * the engine the first time. 0, or -1 with an exception set. */
int lake_plugin_ops(PyObject *engine, const struct ruv_lake_ops **ops, void **ps);
/* The plugin handles of LakeLocal and LakeFs objects (type checked by the caller). */
struct ruv_lake_local *lake_local_handle(PyObject *obj);
struct ruv_lake_fs *lake_fs_handle(PyObject *obj);
PyObject *mod_lake_open(PyObject *mod, PyObject *args);
PyObject *mod_lake_bundle_verify(PyObject *mod, PyObject *args);
PyObject *mod_lake_key_from_pem(PyObject *mod, PyObject *args);
PyObject *mod_lake_local_new(PyObject *mod, PyObject *args);
PyObject *mod_lake_fs_new(PyObject *mod, PyObject *args);
/* _ext_lake_adapter.c: a backend table over a Python adapter object (its
 * _lake_describe and _lake_pull helpers), holding a reference to it that
 * out->destroy drops. name is borrowed (register_backend copies it). */
struct ruv_lake_backend;
int lake_adapter_backend(PyObject *adapter, const char *name, int threadsafe,
                         struct ruv_lake_backend *out);
/* A description tuple (BackendAdapter's helpers) as a struct ruv_lake_desc
 * (fully written). 0, or -1 with an exception set. */
struct ruv_lake_desc;
int lake_desc_from_tuple(PyObject *t, struct ruv_lake_desc *d);
/* _ext_a2a.c */
extern PyTypeObject *a2a_handle_type;
extern PyType_Spec a2a_handle_spec;
extern PyTypeObject *a2a_budget_type;
extern PyType_Spec a2a_budget_spec;
PyObject *mod_a2a_connect(PyObject *mod, PyObject *args);
PyObject *mod_a2a_budget_new(PyObject *mod, PyObject *args);
/* _ext_embed.c */
PyObject *mod_embed_open(PyObject *mod, PyObject *args, PyObject *kw);
PyObject *mod_embed_fetch(PyObject *mod, PyObject *args, PyObject *kw);
PyObject *mod_embed_registry(PyObject *mod, PyObject *engine);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif
