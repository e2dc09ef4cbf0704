/* ruvector._ext: ruLake through the `rulake` feature plugin (its ops table,
 * include/ruvector/feature-lake.h version 2): the Lake, LakeLocal and
 * LakeFs types behind ruvector.RuLake, LocalBackend and FsBackend.
 *
 * The plugin is loaded into the caller's engine on first use
 * (ruv_engine_load_plugin) and every object keeps that engine alive. Every
 * lake call runs with the GIL released; a Lake's reader-writer lock keeps
 * close() from freeing the lake under a running search (searches take it
 * shared, close exclusively; waited on only without the GIL). */
#include "_ext.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/feature-lake.h>

PyTypeObject *lake_type;
PyTypeObject *lake_local_type;
PyTypeObject *lake_fs_type;

/* The rulake ops of an engine, loading the plugin when it is not yet. */
int lake_plugin_ops(PyObject *engine, const struct ruv_lake_ops **ops, void **ps)
{
    const void *o = NULL;
    if (engine_feature_ops(engine, "rulake", RUV_FEATURE_LAKE, RUV_LAKE_OPS_SIZE_V2, 1, &o, ps))
        return -1;
    *ops = o;
    return 0;
}

/* ---- Lake ---- */

/* lake_open(engine, consistency, ttl_ms, rerank_factor, metric, bits, nlist,
 *           seed, max_entries, max_bytes, threads, public_keys, signing_key) -> Lake
 * metric: 1 l2, 2 ip, 3 cosine; max_bytes 0: half of physical memory;
 * public_keys: raw Ed25519 keys, 32 bytes each, concatenated; signing_key:
 * b"" or a raw 32-byte private key. */
PyObject *mod_lake_open(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *engine;
    unsigned int consistency, rerank, metric, bits, nlist, threads;
    unsigned long long ttl, seed, max_entries, max_bytes;
    const char *pubs, *sign;
    Py_ssize_t npubs, nsign;
    if (!PyArg_ParseTuple(args, "OIKIIIIKKKIy#y#", &engine, &consistency, &ttl, &rerank,
                          &metric, &bits, &nlist, &seed, &max_entries, &max_bytes, &threads,
                          &pubs, &npubs, &sign, &nsign))
        return NULL;
    if (npubs % 32 || npubs / 32 > 64 || (nsign != 0 && nsign != 32)) {
        PyErr_SetString(PyExc_ValueError, "public keys and the signing key are raw 32-byte "
                                          "Ed25519 keys (at most 64 public keys)");
        return NULL;
    }
    const struct ruv_lake_ops *ops;
    void *ps;
    if (lake_plugin_ops(engine, &ops, &ps))
        return NULL;
    struct ruv_lake_config cfg;
    struct ruv_lake *lake = NULL;
    char detail[DETAIL_SIZE] = "";
    int st = ops->config_init(ps, &cfg);
    if (st == RUV_OK) {
        cfg.consistency = consistency;
        cfg.ttl_ms = ttl;
        cfg.rerank_factor = rerank;
        cfg.metric = metric;
        cfg.bits = bits;
        cfg.nlist = nlist;
        cfg.rotation_seed = seed;
        cfg.max_entries = max_entries;
        if (max_bytes)
            cfg.max_bytes = max_bytes;
        cfg.threads = threads;
        cfg.npublic_keys = (uint32_t)(npubs / 32);
        cfg.public_keys = npubs ? (const uint8_t(*)[32])pubs : NULL;
        if (nsign) {
            cfg.has_signing_key = 1;
            memcpy(cfg.signing_key, sign, 32);
        }
        st = ops->open(ps, &cfg, &lake);
        volatile uint8_t *secret = cfg.signing_key; /* the lake keeps its own copy */
        for (size_t i = 0; i < sizeof cfg.signing_key; i++)
            secret[i] = 0;
    }
    if (st) {
        save_detail(detail);
        return raise_detail(st, detail);
    }
    LakeObject *self = (LakeObject *)alloc_instance(lake_type);
    if (!self) {
        ops->close(lake);
        return NULL;
    }
    Py_INCREF(engine);
    self->engine = engine;
    self->ops = ops;
    self->ps = ps;
    self->lake = lake;
    self->lock_ready = pthread_rwlock_init(&self->lock, NULL) == 0;
    if (!self->lock_ready) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    if (lake_done_init(self)) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void lake_close_now(LakeObject *self)
{
    if (!self->lake)
        return;
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_wrlock(&self->lock);
    self->ops->close(self->lake);
    self->lake = NULL;
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
}

static void lake_dealloc(PyObject *obj)
{
    LakeObject *self = (LakeObject *)obj;
    if (self->lock_ready) {
        lake_close_now(self);
        pthread_rwlock_destroy(&self->lock);
    }
    lake_done_free(self); /* after close: no request runs any more */
    Py_XDECREF(self->engine);
    free_instance(obj);
}

static int lake_open_or_raise(LakeObject *self)
{
    if (self->lake)
        return 0;
    PyErr_SetString(PyExc_ValueError, "the lake is closed");
    return -1;
}

static PyObject *lake_close(PyObject *obj, PyObject *unused)
{
    (void)unused;
    lake_close_now((LakeObject *)obj);
    Py_RETURN_NONE;
}

/* register(backend: LakeLocal | LakeFs) -> None */
static PyObject *lake_register(PyObject *obj, PyObject *arg)
{
    LakeObject *self = (LakeObject *)obj;
    if (lake_open_or_raise(self))
        return NULL;
    struct ruv_lake_backend b;
    int st;
    if (PyObject_TypeCheck(arg, lake_local_type))
        st = self->ops->local_backend(lake_local_handle(arg), &b);
    else if (PyObject_TypeCheck(arg, lake_fs_type))
        st = self->ops->fs_backend(lake_fs_handle(arg), &b);
    else {
        PyErr_SetString(PyExc_TypeError, "backend must be a LocalBackend or FsBackend");
        return NULL;
    }
    if (st == RUV_OK) {
        lake_rdlock(self);
        st = self->lake ? self->ops->register_backend(self->lake, &b) : RUV_E_STATE;
        pthread_rwlock_unlock(&self->lock);
        if (st != RUV_OK) {
            char detail[DETAIL_SIZE];
            save_detail(detail);
            b.destroy(b.state); /* refused: the reference is still ours */
            return raise_detail(st, detail);
        }
    }
    if (st)
        return raise_status(st);
    Py_RETURN_NONE;
}

/* register_adapter(adapter, name, threadsafe) -> None: a Python backend. */
static PyObject *lake_register_adapter(PyObject *obj, PyObject *args)
{
    LakeObject *self = (LakeObject *)obj;
    PyObject *adapter;
    const char *name;
    int threadsafe;
    if (!PyArg_ParseTuple(args, "Osp", &adapter, &name, &threadsafe) || lake_open_or_raise(self))
        return NULL;
    struct ruv_lake_backend b;
    lake_adapter_backend(adapter, name, threadsafe, &b);
    lake_rdlock(self);
    int st = self->lake ? self->ops->register_backend(self->lake, &b) : RUV_E_STATE;
    pthread_rwlock_unlock(&self->lock);
    if (st != RUV_OK) {
        char detail[DETAIL_SIZE];
        save_detail(detail);
        b.destroy(b.state);
        return raise_detail(st, detail);
    }
    Py_RETURN_NONE;
}

/* UTF-8 of a str: *hold gets the bytes object (a new reference the caller
 * drops once done with *out). The limited API of 3.9 has no
 * PyUnicode_AsUTF8AndSize. */
static int utf8_of(PyObject *s, PyObject **hold, const char **out)
{
    *hold = PyUnicode_AsUTF8String(s);
    if (!*hold)
        return -1;
    *out = PyBytes_AsString(*hold);
    return *out ? 0 : -1;
}

/* A target tuple (backend: str | None, collection: str) as UTF-8 held by
 * hold[0] and hold[1] (the caller drops them, set or not). */
int lake_target_of(PyObject *t, struct ruv_lake_target *out, PyObject **hold)
{
    PyObject *b, *c;
    hold[0] = hold[1] = NULL;
    out->backend = out->collection = NULL;
    if (!PyTuple_Check(t) || PyTuple_Size(t) != 2) {
        PyErr_SetString(PyExc_TypeError, "a target is a (backend or None, collection) tuple");
        return -1;
    }
    b = PyTuple_GetItem(t, 0);
    c = PyTuple_GetItem(t, 1);
    if (!b || !c || !PyUnicode_Check(c) || (b != Py_None && !PyUnicode_Check(b))) {
        PyErr_SetString(PyExc_TypeError, "backend and collection names must be str");
        return -1;
    }
    if (b != Py_None && utf8_of(b, &hold[0], &out->backend))
        return -1;
    return utf8_of(c, &hold[1], &out->collection);
}

void lake_drop_holds(PyObject **hold, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; hold && i < n; i++)
        Py_XDECREF(hold[i]);
}

void lake_fill_outputs(const struct ruv_lake_hit *hits, size_t nq, uint32_t k, uint64_t *oid,
                       float *osc, uint32_t *otg, const uint32_t *onh)
{
    /* Rows as the index's search_batch leaves them: unused slots are id
     * 2**64-1 and score NaN (target 2**32-1). */
    for (size_t i = 0; i < nq; i++)
        for (size_t j = 0; j < k; j++) {
            size_t at = i * k + j;
            int used = j < onh[i];
            oid[at] = used ? hits[at].id : UINT64_MAX;
            osc[at] = used ? hits[at].score : (float)NAN;
            otg[at] = used ? hits[at].target : UINT32_MAX;
        }
}

int lake_search_nogil(LakeObject *self, const struct ruv_lake_query *q, char *detail)
{
    pthread_rwlock_rdlock(&self->lock);
    int st = self->lake ? self->ops->search(self->lake, q) : RUV_E_STATE;
    if (st)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    if (st == RUV_E_STATE && !detail[0])
        snprintf(detail, DETAIL_SIZE, "the lake is closed");
    return st;
}

/* search(targets, queries, k, rerank_factor, flags, out_ids, out_scores,
 *        out_targets, out_nhits) -> list[tuple[int, str]]
 * targets: tuple of target tuples; queries float32 (nq, dim); outputs are
 * writable uint64 (nq, k), float32 (nq, k), uint32 (nq, k), uint32 (nq,).
 * Returns (status, detail) per target; raises when the call fails. */
static PyObject *lake_search(PyObject *obj, PyObject *args)
{
    LakeObject *self = (LakeObject *)obj;
    PyObject *targets_o, *q_o, *ids_o, *scores_o, *tgt_o, *nh_o;
    unsigned int k, rerank, flags;
    if (!PyArg_ParseTuple(args, "O!OIIIOOOO", &PyTuple_Type, &targets_o, &q_o, &k, &rerank,
                          &flags, &ids_o, &scores_o, &tgt_o, &nh_o))
        return NULL;
    if (lake_open_or_raise(self))
        return NULL;
    Py_ssize_t nt = PyTuple_Size(targets_o);
    if (nt < 1 || nt > 4096) {
        PyErr_SetString(PyExc_ValueError, "between 1 and 4096 targets");
        return NULL;
    }
    array_view q = {0}, ids = {0}, scores = {0}, tg = {0}, nh = {0};
    struct ruv_lake_target *t = PyMem_Calloc((size_t)nt, sizeof *t);
    PyObject **hold = PyMem_Calloc((size_t)nt * 2, sizeof *hold);
    int32_t *tst = PyMem_Calloc((size_t)nt, sizeof *tst);
    char(*tdet)[256] = PyMem_Calloc((size_t)nt, 256);
    PyObject *result = NULL;
    if (!t || !hold || !tst || !tdet) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nt; i++)
        if (lake_target_of(PyTuple_GetItem(targets_o, i), &t[i], hold + 2 * i))
            goto done;
    if (view_f32(q_o, "queries", 2, &q) || view_get(ids_o, "out_ids", 2, 'u', 8, 1, 0, &ids) ||
        view_get(scores_o, "out_scores", 2, 'f', 4, 1, 0, &scores) ||
        view_get(tgt_o, "out_targets", 2, 'u', 4, 1, 0, &tg) ||
        view_get(nh_o, "out_nhits", 1, 'u', 4, 1, 0, &nh))
        goto done;
    if (k < 1 || ids.rows != q.rows || ids.cols != (Py_ssize_t)k || scores.rows != q.rows ||
        scores.cols != (Py_ssize_t)k || tg.rows != q.rows || tg.cols != (Py_ssize_t)k ||
        nh.rows != q.rows || q.rows > UINT32_MAX || q.cols > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "k must be >= 1 and the outputs (nq, k) x 3 and (nq,)");
        goto done;
    }
    size_t total = (size_t)q.rows * k;
    struct ruv_lake_hit *hits = PyMem_Malloc(total * sizeof *hits);
    if (!hits) {
        PyErr_NoMemory();
        goto done;
    }
    struct ruv_lake_query qq = {.struct_size = sizeof qq, .flags = flags, .targets = t,
                                .ntargets = (uint32_t)nt, .queries = q.data,
                                .nq = (uint32_t)q.rows, .dim = (uint32_t)q.cols, .k = k,
                                .rerank_factor = rerank, .hits = hits, .nhits = nh.data,
                                .target_status = tst, .target_detail = tdet};
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = lake_search_nogil(self, &qq, detail);
    if (st == RUV_OK)
        lake_fill_outputs(hits, (size_t)q.rows, k, ids.data, scores.data, tg.data, nh.data);
    Py_END_ALLOW_THREADS
    PyMem_Free(hits);
    if (st) {
        raise_detail(st, detail);
        goto done;
    }
    result = PyList_New(nt);
    for (Py_ssize_t i = 0; result && i < nt; i++) {
        PyObject *pair = Py_BuildValue("(is)", (int)tst[i], tdet[i]);
        if (!pair || PyList_SetItem(result, i, pair)) {
            Py_CLEAR(result);
        }
    }
done:
    view_free(&q);
    view_free(&ids);
    view_free(&scores);
    view_free(&tg);
    view_free(&nh);
    lake_drop_holds(hold, hold ? 2 * nt : 0);
    PyMem_Free(hold);
    PyMem_Free(t);
    PyMem_Free(tst);
    PyMem_Free(tdet);
    return result;
}

/* invalidate(backend, collection) -> bool (whether it was cached) */
static PyObject *lake_invalidate(PyObject *obj, PyObject *args)
{
    LakeObject *self = (LakeObject *)obj;
    struct ruv_lake_target t;
    PyObject *hold[2];
    if (lake_target_of(args, &t, hold) || lake_open_or_raise(self)) {
        lake_drop_holds(hold, 2);
        return NULL;
    }
    int was = 0, st;
    char detail[DETAIL_SIZE] = "";
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_rdlock(&self->lock);
    st = self->lake ? self->ops->invalidate(self->lake, &t, &was) : RUV_E_STATE;
    if (st && self->lake)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    lake_drop_holds(hold, 2);
    if (st == RUV_E_STATE && !detail[0])
        snprintf(detail, sizeof detail, "the lake is closed");
    if (st)
        return raise_detail(st, detail);
    return PyBool_FromLong(was);
}

/* witness_of(backend, collection, version) -> str | None */
static PyObject *lake_witness_of(PyObject *obj, PyObject *args)
{
    LakeObject *self = (LakeObject *)obj;
    PyObject *b, *c;
    int version;
    if (!PyArg_ParseTuple(args, "OOi", &b, &c, &version))
        return NULL;
    PyObject *pair = PyTuple_Pack(2, b, c), *hold[2] = {NULL, NULL};
    struct ruv_lake_target t;
    int bad = !pair || lake_target_of(pair, &t, hold) || lake_open_or_raise(self);
    if (bad) {
        Py_XDECREF(pair);
        lake_drop_holds(hold, 2);
        return NULL;
    }
    char hex[65], detail[DETAIL_SIZE] = "";
    lake_rdlock(self);
    int st = self->lake ? self->ops->witness_of(self->lake, &t, version, hex) : RUV_E_STATE;
    if (st)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    Py_DECREF(pair);
    lake_drop_holds(hold, 2);
    if (st == RUV_E_NOTFOUND && strstr(detail, "is not cached"))
        Py_RETURN_NONE;
    if (st)
        return raise_detail(st, detail);
    return PyUnicode_FromString(hex);
}

/* stats(backend | None, collection | None) -> dict[str, int]: the whole
 * lake (backend None), one backend (collection None) or one key. */
static PyObject *lake_stats(PyObject *obj, PyObject *args)
{
    LakeObject *self = (LakeObject *)obj;
    PyObject *b, *c;
    if (!PyArg_ParseTuple(args, "OO", &b, &c) || lake_open_or_raise(self))
        return NULL;
    struct ruv_lake_target t = {NULL, NULL};
    PyObject *hold[2] = {NULL, NULL};
    if ((b != Py_None && utf8_of(b, &hold[0], &t.backend)) ||
        (c != Py_None && utf8_of(c, &hold[1], &t.collection))) {
        lake_drop_holds(hold, 2);
        return NULL;
    }
    struct ruv_lake_stats s;
    char detail[DETAIL_SIZE] = "";
    lake_rdlock(self);
    int st = self->lake ? self->ops->stats(self->lake, b == Py_None ? NULL : &t, &s)
                        : RUV_E_STATE;
    if (st)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    lake_drop_holds(hold, 2);
    if (st)
        return raise_detail(st, detail);
    return Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "hits",
        (unsigned long long)s.hits, "skipped", (unsigned long long)s.skipped, "misses",
        (unsigned long long)s.misses, "prime_failures", (unsigned long long)s.prime_failures,
        "checks", (unsigned long long)s.checks, "primes", (unsigned long long)s.primes,
        "shared_hits", (unsigned long long)s.shared_hits, "warm_installs",
        (unsigned long long)s.warm_installs, "invalidations",
        (unsigned long long)s.invalidations, "evictions", (unsigned long long)s.evictions,
        "superseded", (unsigned long long)s.superseded, "entries",
        (unsigned long long)s.entries, "bytes", (unsigned long long)s.bytes, "total_prime_ns",
        (unsigned long long)s.total_prime_ns, "last_prime_ns",
        (unsigned long long)s.last_prime_ns);
}

/* The cache-directory calls: (backend, collection, dir) with the GIL
 * released; op 0 save (-> str, the v2 witness), 1 warm (-> int rows),
 * 2 refresh (-> int, enum ruv_lake_refresh), 3 publish (-> str, v2). */
static PyObject *lake_dir_call(PyObject *obj, PyObject *args, int op)
{
    LakeObject *self = (LakeObject *)obj;
    PyObject *b, *c, *dir_b = NULL, *hold[2] = {NULL, NULL}, *pair = NULL, *result = NULL;
    if (!PyArg_ParseTuple(args, "OOO&", &b, &c, PyUnicode_FSConverter, &dir_b))
        return NULL;
    struct ruv_lake_target t;
    pair = PyTuple_Pack(2, b, c);
    if (!pair || lake_target_of(pair, &t, hold) || lake_open_or_raise(self))
        goto done;
    const char *dir = PyBytes_AsString(dir_b);
    char w2[65] = "", detail[DETAIL_SIZE] = "";
    uint64_t n = 0;
    int res = 0, st;
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_rdlock(&self->lock);
    if (!self->lake)
        st = RUV_E_STATE;
    else if (op == 0)
        st = self->ops->save_cache_to_dir(self->lake, &t, dir, w2);
    else if (op == 1)
        st = self->ops->warm_from_dir(self->lake, &t, dir, &n);
    else if (op == 2)
        st = self->ops->refresh_from_bundle_dir(self->lake, &t, dir, &res);
    else if (self->ops->struct_size >= RUV_LAKE_OPS_SIZE_V3)
        st = self->ops->publish_bundle(self->lake, &t, dir, w2);
    else
        st = RUV_E_UNSUPPORTED;
    if (st && (op != 3 || self->ops->struct_size >= RUV_LAKE_OPS_SIZE_V3))
        save_detail(detail);
    else if (st)
        snprintf(detail, sizeof detail, "the loaded rulake plugin predates publish_bundle");
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    if (st)
        raise_detail(st, st == RUV_E_STATE && !detail[0] ? "the lake is closed" : detail);
    else if (op == 0 || op == 3)
        result = PyUnicode_FromString(w2);
    else
        result = op == 1 ? PyLong_FromUnsignedLongLong(n) : PyLong_FromLong(res);
done:
    Py_XDECREF(pair);
    lake_drop_holds(hold, 2);
    Py_DECREF(dir_b);
    return result;
}

static PyObject *lake_save_cache(PyObject *obj, PyObject *args)
{
    return lake_dir_call(obj, args, 0);
}

static PyObject *lake_warm(PyObject *obj, PyObject *args) { return lake_dir_call(obj, args, 1); }

static PyObject *lake_refresh(PyObject *obj, PyObject *args)
{
    return lake_dir_call(obj, args, 2);
}

static PyObject *lake_publish(PyObject *obj, PyObject *args)
{
    return lake_dir_call(obj, args, 3);
}

/* lake_bundle_verify(engine, dir, public_keys) -> (v1 hex, v2 hex or "")
 * The sidecar of the bundle directory dir, read and checked (rulake.md
 * §6.5); with public keys (raw 32 bytes each, concatenated) a signature by
 * one of them is required. */
PyObject *mod_lake_bundle_verify(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *engine, *dir_b = NULL;
    const char *keys;
    Py_ssize_t nkeys;
    if (!PyArg_ParseTuple(args, "OO&y#", &engine, PyUnicode_FSConverter, &dir_b, &keys, &nkeys))
        return NULL;
    PyObject *result = NULL;
    const struct ruv_lake_ops *ops;
    void *ps;
    if (nkeys % 32 || nkeys / 32 > 64) {
        PyErr_SetString(PyExc_ValueError, "public keys are raw 32-byte Ed25519 keys (at most 64)");
        goto done;
    }
    if (lake_plugin_ops(engine, &ops, &ps))
        goto done;
    const char *dir = PyBytes_AsString(dir_b);
    char v1[65] = "", v2[65] = "", detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ops->sidecar_verify(ps, dir, nkeys ? (const uint8_t(*)[32])keys : NULL,
                             (size_t)(nkeys / 32), v1, v2);
    if (st)
        save_detail(detail);
    Py_END_ALLOW_THREADS
    if (st)
        raise_detail(st, detail);
    else
        result = Py_BuildValue("(ss)", v1, v2);
done:
    Py_DECREF(dir_b);
    return result;
}

static PyMethodDef lake_methods[] = {
    {"save_cache", lake_save_cache, METH_VARARGS,
     "save_cache($self, backend, collection, dir, /)\n--\n\nSaves the key's entry; its v2."},
    {"warm", lake_warm, METH_VARARGS,
     "warm($self, backend, collection, dir, /)\n--\n\nInstalls a saved entry; its rows."},
    {"publish", lake_publish, METH_VARARGS,
     "publish($self, backend, collection, dir, /)\n--\n\nPublishes the key's bundle into dir."},
    {"refresh", lake_refresh, METH_VARARGS,
     "refresh($self, backend, collection, dir, /)\n--\n\nRefreshes from a bundle directory."},
    {"close", lake_close, METH_NOARGS, "close($self, /)\n--\n\nCloses the lake (idempotent)."},
    {"submit", lake_submit, METH_VARARGS,
     "submit($self, targets, queries, k, rerank_factor, flags, out_ids, out_scores, "
     "out_targets, out_nhits, token, supplies=None, /)\n--\n\nQueues a search on the "
     "engine's pool; poll gives token back with the result. Returns a ticket."},
    {"submit_one", lake_submit_one, METH_VARARGS,
     "submit_one($self, backend, collection, query, k, rerank_factor, flags, token, "
     "supplies=None, /)\n--\n\n"
     "Queues one query of one target; poll gives token back with the hits. Returns a ticket."},
    {"notify_fd", lake_notify_fd, METH_NOARGS,
     "notify_fd($self, /)\n--\n\nA descriptor that is readable while finished async "
     "requests wait for poll (add it to the event loop with add_reader)."},
    {"poll", lake_poll, METH_VARARGS,
     "poll($self, max, /)\n--\n\nUp to max finished async requests, oldest first: "
     "[(token, status, detail, [(status, detail, needs) per target], hits or None)]."},
    {"cancel", lake_cancel, METH_VARARGS,
     "cancel($self, ticket, /)\n--\n\nCancels a queued request; False if it already ran."},
    {"register_adapter", lake_register_adapter, METH_VARARGS,
     "register_adapter($self, adapter, name, threadsafe, /)\n--\n\nRegisters a Python backend."},
    {"register", lake_register, METH_O,
     "register($self, backend, /)\n--\n\nRegisters a LakeLocal or LakeFs."},
    {"search", lake_search, METH_VARARGS,
     "search($self, targets, queries, k, rerank_factor, flags, out_ids, out_scores, "
     "out_targets, out_nhits, /)\n--\n\nSearches (GIL released); (status, detail) per target."},
    {"search_one", lake_search_one, METH_VARARGS,
     "search_one($self, backend, collection, query, k, rerank_factor, flags, hit_type, /)\n--"
     "\n\nOne query, one target (GIL released): [hit_type(backend, collection, id, score)]."},
    {"invalidate", lake_invalidate, METH_VARARGS,
     "invalidate($self, backend, collection, /)\n--\n\nDrops the key's entry."},
    {"witness_of", lake_witness_of, METH_VARARGS,
     "witness_of($self, backend, collection, version, /)\n--\n\nThe entry's witness or None."},
    {"stats", lake_stats, METH_VARARGS,
     "stats($self, backend, collection, /)\n--\n\nCounters as a dict."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot lake_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, lake_dealloc},
    {Py_tp_methods, lake_methods},
    {Py_tp_doc, "An open ruLake (use ruvector.RuLake)."},
    {0, NULL},
};

PyType_Spec lake_spec = {
    "ruvector._ext.Lake", sizeof(LakeObject), 0, Py_TPFLAGS_DEFAULT, lake_slots,
};
