/* ruvector._ext — the CPython binding of libruvector.
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
#define Py_LIMITED_API 0x03090000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/cpu.h>
#include <ruvector/engine.h>
#include <ruvector/error.h>
#include <ruvector/index.h>
#include <ruvector/version.h>

/* Results up to this many per query live on the stack. */
#define SMALL_K 64
/* ruv_last_error() is 256 bytes today; leave room for growth. */
#define DETAIL_SIZE 1024

/* ---- module state ----
 * Single-phase init with process globals: the module does not support
 * sub-interpreters (neither does libruvector's process-wide BLAS state). */
static PyObject *error_map;   /* dict: status (int) -> exception class, from _init() */
static PyObject *error_base;  /* class for statuses missing from error_map */
static PyObject *hit_type;    /* SearchResult named tuple class, from _init() */
static PyTypeObject *engine_type;
static PyTypeObject *index_type;
static PyTypeObject *export_type;

/* ---- errors ---- */

/* A new instance of the exception class registered for status, called as
 * cls(detail, status=..., status_name=...); NULL with an error set on failure. */
static PyObject *make_exception(int status, const char *detail)
{
    PyObject *cls = NULL, *key, *args = NULL, *kw = NULL, *msg, *exc = NULL;
    if (error_map) {
        key = PyLong_FromLong(status);
        if (!key)
            return NULL;
        cls = PyDict_GetItemWithError(error_map, key); /* borrowed */
        Py_DECREF(key);
        if (!cls && PyErr_Occurred())
            return NULL;
    }
    if (!cls)
        cls = error_base ? error_base : PyExc_RuntimeError;
    /* Details may quote file names that are not UTF-8: never fail on them. */
    msg = PyUnicode_DecodeUTF8(detail, (Py_ssize_t)strlen(detail), "replace");
    if (!msg)
        return NULL;
    if (cls == PyExc_RuntimeError) { /* _init() not called yet */
        exc = PyObject_CallFunctionObjArgs(cls, msg, NULL);
        Py_DECREF(msg);
        return exc;
    }
    args = PyTuple_Pack(1, msg);
    kw = Py_BuildValue("{s:i,s:s}", "status", status, "status_name", ruv_status_name(status));
    if (args && kw)
        exc = PyObject_Call(cls, args, kw);
    Py_XDECREF(args);
    Py_XDECREF(kw);
    Py_DECREF(msg);
    return exc;
}

/* Raises make_exception(status, detail). Always returns NULL, so callers
 * can `return raise_detail(...)`. */
static PyObject *raise_detail(int status, const char *detail)
{
    PyObject *exc = make_exception(status, detail);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* Copies the thread-local detail right after a failing call, before anything
 * else can overwrite it. */
static void save_detail(char *buf)
{
    const char *d = ruv_last_error();
    size_t len = strlen(d);
    if (len >= DETAIL_SIZE)
        len = DETAIL_SIZE - 1;
    memcpy(buf, d, len);
    buf[len] = '\0';
}

static PyObject *raise_status(int status)
{
    char detail[DETAIL_SIZE];
    save_detail(detail);
    return raise_detail(status, detail);
}

/* ---- argument helpers ---- */

/* None leaves *out unchanged (the C default); otherwise an int in 0..max. */
static int opt_uint(PyObject *o, const char *name, unsigned long long max, unsigned long long *out)
{
    if (!o || o == Py_None)
        return 0;
    if (!PyLong_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %R", name, (PyObject *)Py_TYPE(o));
        return -1;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    unsigned long long u;
    if (overflow > 0 || v < 0) {
        /* Beyond 2^63 - 1 (seeds), or negative: only the unsigned view works. */
        u = PyLong_AsUnsignedLongLong(o);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s must be in 0..%llu", name, max);
            return -1;
        }
    } else {
        u = (unsigned long long)v;
    }
    if (u > max) {
        PyErr_Format(PyExc_ValueError, "%s must be in 0..%llu", name, max);
        return -1;
    }
    *out = u;
    return 0;
}

static int opt_u32(PyObject *o, const char *name, uint32_t *out)
{
    unsigned long long v = *out;
    if (opt_uint(o, name, UINT32_MAX, &v))
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* ---- arrays through __array_struct__ ---- */

/* The array interface protocol's struct (numpy.org: "The array interface
 * protocol", __array_struct__), reproduced because it is a protocol, not a
 * header we may include. `two` is always 2. */
typedef struct {
    int two;
    int nd;
    char typekind;
    int itemsize;
    int flags;
    Py_intptr_t *shape;
    Py_intptr_t *strides;
    void *data;
    PyObject *descr;
} array_interface;

#define AI_C_CONTIGUOUS 0x0001
#define AI_ALIGNED 0x0100
#define AI_NOTSWAPPED 0x0200
#define AI_WRITEABLE 0x0400

/* A checked view of an array: data pointer and up to two dimensions. The
 * capsule owns a reference to the exporting array; release with view_free. */
typedef struct {
    PyObject *capsule;
    void *data;
    Py_ssize_t rows; /* shape[0] */
    Py_ssize_t cols; /* shape[1], or 1 for a 1-D array */
} array_view;

static void view_free(array_view *v)
{
    Py_CLEAR(v->capsule);
}

/* Fills v from obj's __array_struct__ after checking that it is a
 * C-contiguous, aligned, native-order array of ndim dimensions whose items
 * are `kind` ('f' float, 'u' unsigned, 'i' signed) of `size` bytes, and
 * writable when `writable` is set. None gives an empty view when allow_none. */
static int view_get(PyObject *obj, const char *what, int ndim, char kind, int size, int writable,
                    int allow_none, array_view *v)
{
    memset(v, 0, sizeof *v);
    if (obj == Py_None && allow_none)
        return 0;
    PyObject *cap = PyObject_GetAttrString(obj, "__array_struct__");
    if (!cap) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: expected a NumPy array", what);
        return -1;
    }
    /* NumPy's capsule has no name: IsValid checks the type and that. */
    array_interface *ai = PyCapsule_IsValid(cap, NULL) ? PyCapsule_GetPointer(cap, NULL) : NULL;
    if (!ai) {
        PyErr_Clear();
        Py_DECREF(cap);
        PyErr_Format(PyExc_TypeError, "%s: __array_struct__ is not a capsule", what);
        return -1;
    }
    const int need = AI_C_CONTIGUOUS | AI_ALIGNED | AI_NOTSWAPPED | (writable ? AI_WRITEABLE : 0);
    const char *problem = NULL;
    if (ai->two != 2)
        problem = "an unknown array interface version";
    else if (ai->nd != ndim)
        problem = ndim == 1 ? "a 1-D array is required" : "a 2-D array is required";
    else if (ai->typekind != kind || ai->itemsize != size)
        problem = kind == 'f' ? "float32 data is required" : "64-bit integer ids are required";
    else if ((ai->flags & need) != need)
        problem = writable && !(ai->flags & AI_WRITEABLE)
                      ? "a writable array is required"
                      : "a C-contiguous, aligned, native-order array is required";
    if (problem) {
        Py_DECREF(cap);
        PyErr_Format(PyExc_TypeError, "%s: %s", what, problem);
        return -1;
    }
    v->capsule = cap;
    v->data = ai->data;
    v->rows = (Py_ssize_t)ai->shape[0];
    v->cols = ndim == 2 ? (Py_ssize_t)ai->shape[1] : 1;
    return 0;
}

/* float32 vectors: a 2-D (n, dim) array, or one 1-D vector as (1, dim). */
static int view_f32(PyObject *obj, const char *what, int ndim, array_view *v)
{
    if (view_get(obj, what, ndim, 'f', 4, 0, 0, v))
        return -1;
    if (ndim == 1) { /* a single vector: rows=1, cols=dim */
        v->cols = v->rows;
        v->rows = 1;
    }
    return 0;
}

static int view_ids(PyObject *obj, const char *what, int allow_none, array_view *v)
{
    return view_get(obj, what, 1, 'u', 8, 0, allow_none, v);
}

/* Calls a slot function of a heap type: the limited API has no direct
 * tp_alloc/tp_free access. */
static PyObject *alloc_instance(PyTypeObject *tp)
{
    allocfunc alloc = (allocfunc)PyType_GetSlot(tp, Py_tp_alloc);
    return alloc(tp, 0);
}

static void free_instance(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    f(self);
    Py_DECREF(tp); /* instances of heap types own a reference to their type */
}

static PyObject *no_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    (void)args;
    (void)kw;
    PyErr_Format(PyExc_TypeError, "cannot create %R instances directly", (PyObject *)tp);
    return NULL;
}

/* ================================================================== Engine */

typedef struct {
    PyObject_HEAD
    ruv_engine *eng;
} EngineObject;

/* Encodes a str or os.PathLike with the file-system encoding; *bytes owns it. */
static int fs_path(PyObject *o, PyObject **bytes, const char **out)
{
    if (!PyUnicode_FSConverter(o, bytes))
        return -1;
    *out = PyBytes_AsString(*bytes);
    return *out ? 0 : -1;
}

/* Engine(*, kernel=None, plugin_path=None, disable=None, plugins=(),
 *        threads=None, verbose=None, blas_path=None, options=())
 * options: tuple of (plugin, key, value) string triples. */
static PyObject *engine_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"kernel",  "plugin_path", "disable",   "plugins",
                             "threads", "verbose",     "blas_path", "options", NULL};
    const char *kernel = NULL, *disable = NULL;
    PyObject *plugin_path = Py_None, *plugins = NULL, *threads = Py_None, *verbose = Py_None,
             *blas_path = Py_None, *options = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$zOzO!OOOO!", kwlist, &kernel, &plugin_path,
                                     &disable, &PyTuple_Type, &plugins, &threads, &verbose,
                                     &blas_path, &PyTuple_Type, &options))
        return NULL;

    ruv_config *cfg = NULL;
    PyObject *path_bytes = NULL, *blas_bytes = NULL, *item_bytes = NULL;
    PyObject *result = NULL;
    int st = ruv_config_new(&cfg);
    if (st)
        return raise_status(st);

    if (kernel && (st = ruv_config_set_kernel(cfg, kernel)))
        goto fail_status;
    if (plugin_path != Py_None) {
        const char *p;
        if (fs_path(plugin_path, &path_bytes, &p))
            goto done;
        if ((st = ruv_config_set_plugin_path(cfg, p)))
            goto fail_status;
    }
    if (disable && (st = ruv_config_set_disable(cfg, disable)))
        goto fail_status;
    if (blas_path != Py_None) {
        const char *p;
        if (fs_path(blas_path, &blas_bytes, &p))
            goto done;
        if ((st = ruv_config_set_blas_path(cfg, p)))
            goto fail_status;
    }
    if (threads != Py_None) {
        uint32_t t = 0;
        if (opt_u32(threads, "threads", &t))
            goto done;
        if ((st = ruv_config_set_threads(cfg, t)))
            goto fail_status;
    }
    if (verbose != Py_None) {
        uint32_t v = 0;
        if (opt_u32(verbose, "verbose", &v))
            goto done;
        if ((st = ruv_config_set_verbose(cfg, (int)v)))
            goto fail_status;
    }
    for (Py_ssize_t i = 0; plugins && i < PyTuple_Size(plugins); i++) {
        PyObject *name = PyTuple_GetItem(plugins, i); /* borrowed */
        if (!name || !PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "plugin names must be str");
            goto done;
        }
        item_bytes = PyUnicode_AsUTF8String(name);
        if (!item_bytes)
            goto done;
        st = ruv_config_add_plugin(cfg, PyBytes_AsString(item_bytes));
        Py_CLEAR(item_bytes);
        if (st)
            goto fail_status;
    }
    for (Py_ssize_t i = 0; options && i < PyTuple_Size(options); i++) {
        const char *plugin, *key, *value;
        PyObject *triple = PyTuple_GetItem(options, i); /* borrowed */
        if (!triple || !PyArg_ParseTuple(triple, "sss;options must be (plugin, key, value) str triples",
                                         &plugin, &key, &value))
            goto done;
        if ((st = ruv_config_set_plugin_option(cfg, plugin, key, value)))
            goto fail_status;
    }

    /* Opening probes the CPU and loads and self-tests plugins: milliseconds. */
    ruv_engine *eng = NULL;
    char detail[DETAIL_SIZE] = "";
    Py_BEGIN_ALLOW_THREADS
    st = ruv_engine_open(cfg, &eng);
    if (st)
        save_detail(detail);
    Py_END_ALLOW_THREADS
    if (st) {
        raise_detail(st, detail);
        goto done;
    }
    EngineObject *self = (EngineObject *)alloc_instance(tp);
    if (!self) {
        ruv_engine_close(eng);
        goto done;
    }
    self->eng = eng;
    result = (PyObject *)self;
    goto done;

fail_status:
    raise_status(st);
done:
    ruv_config_free(cfg);
    Py_XDECREF(path_bytes);
    Py_XDECREF(blas_bytes);
    Py_XDECREF(item_bytes);
    return result;
}

static void engine_dealloc(PyObject *self)
{
    ruv_engine_close(((EngineObject *)self)->eng);
    free_instance(self);
}

static PyObject *engine_report(PyObject *self, PyObject *unused)
{
    (void)unused;
    char *json = NULL;
    int st = ruv_engine_report(((EngineObject *)self)->eng, &json);
    if (st)
        return raise_status(st);
    PyObject *s = PyUnicode_DecodeUTF8(json, (Py_ssize_t)strlen(json), "replace");
    ruv_free(json);
    return s;
}

static PyObject *engine_feature_loaded(PyObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "plugin name must be str");
        return NULL;
    }
    PyObject *b = PyUnicode_AsUTF8String(arg);
    if (!b)
        return NULL;
    const void *ops = NULL;
    void *state = NULL;
    int st = ruv_engine_feature(((EngineObject *)self)->eng, PyBytes_AsString(b), &ops, &state);
    Py_DECREF(b);
    return PyBool_FromLong(st == RUV_OK);
}

static PyObject *engine_kernel(PyObject *self, void *closure)
{
    (void)closure;
    return PyUnicode_FromString(ruv_engine_kernel_name(((EngineObject *)self)->eng));
}

static PyObject *engine_kernel_source(PyObject *self, void *closure)
{
    (void)closure;
    return PyUnicode_FromString(ruv_engine_kernel_source(((EngineObject *)self)->eng));
}

static PyObject *engine_blas(PyObject *self, void *closure)
{
    (void)closure;
    return PyUnicode_FromString(ruv_engine_blas(((EngineObject *)self)->eng));
}

static PyObject *engine_threads(PyObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLong(ruv_engine_threads(((EngineObject *)self)->eng));
}

static PyMethodDef engine_methods[] = {
    {"report", engine_report, METH_NOARGS,
     "report($self, /)\n--\n\nThe engine's JSON report (ruv_engine_report)."},
    {"feature_loaded", engine_feature_loaded, METH_O,
     "feature_loaded($self, name, /)\n--\n\nWhether the feature plugin loaded."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef engine_getset[] = {
    {"kernel", engine_kernel, NULL, "selected kernel", NULL},
    {"kernel_source", engine_kernel_source, NULL, "auto, env or api", NULL},
    {"blas", engine_blas, NULL, "the BLAS in use, or why none", NULL},
    {"threads", engine_threads, NULL, "worker threads", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot engine_slots[] = {
    {Py_tp_new, engine_new},
    {Py_tp_dealloc, engine_dealloc},
    {Py_tp_methods, engine_methods},
    {Py_tp_getset, engine_getset},
    {Py_tp_doc, "Engine(*, kernel=None, plugin_path=None, disable=None, plugins=(), threads=None, "
                "verbose=None, blas_path=None, options=())\n--\n\n"
                "An opened libruvector engine (use ruvector.Engine)."},
    {0, NULL},
};

static PyType_Spec engine_spec = {
    "ruvector._ext.Engine", sizeof(EngineObject), 0, Py_TPFLAGS_DEFAULT, engine_slots,
};

/* =================================================================== Index */

typedef struct {
    PyObject_HEAD
    ruv_index *idx;
    PyObject *engine;       /* EngineObject: the engine must outlive the index */
    pthread_rwlock_t lock;  /* shared: searches, get, export; exclusive: add, remove, save */
    atomic_long exports;    /* live VectorsExport objects: their pointers die on add/remove */
    int lock_ready;
} IndexObject;

static int index_lock_init(IndexObject *self)
{
    pthread_rwlockattr_t attr;
    if (pthread_rwlockattr_init(&attr))
        return -1;
#if defined(__GLIBC__)
    /* glibc prefers readers by default, so a steady stream of searches from
     * other threads could starve add() forever. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    int rc = pthread_rwlock_init(&self->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc)
        return -1;
    self->lock_ready = 1;
    return 0;
}

/* Takes ownership of idx (freed on failure) and a new reference to engine. */
static PyObject *index_wrap(PyObject *engine, ruv_index *idx)
{
    IndexObject *self = (IndexObject *)alloc_instance(index_type);
    if (!self) {
        ruv_index_free(idx);
        return NULL;
    }
    self->idx = idx;
    Py_INCREF(engine);
    self->engine = engine;
    atomic_init(&self->exports, 0);
    if (index_lock_init(self)) {
        Py_DECREF(self); /* dealloc frees idx and the engine reference */
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static void index_dealloc(PyObject *obj)
{
    IndexObject *self = (IndexObject *)obj;
    ruv_index_free(self->idx);
    if (self->lock_ready)
        pthread_rwlock_destroy(&self->lock);
    Py_XDECREF(self->engine); /* after the index: it borrows the engine's kernels */
    free_instance(obj);
}

static int check_engine(PyObject *o)
{
    if (!PyObject_TypeCheck(o, engine_type)) {
        PyErr_SetString(PyExc_TypeError, "engine must be a ruvector._ext.Engine");
        return -1;
    }
    return 0;
}

/* Parses the index parameters shared by index_new and index_build. Unset
 * (None) values keep ruv_index_params_init's defaults. */
static int parse_params(PyObject *kw_type, PyObject *kw_metric, PyObject *dim, PyObject *bits,
                        PyObject *nlist, PyObject *query_bits, PyObject *rerank_factor,
                        PyObject *train_size, PyObject *kmeans_iters, PyObject *seed,
                        PyObject *epsilon, ruv_index_params *p)
{
    int type = 0, metric = 0, st;
    PyObject *b = NULL;
    if (!kw_type || !kw_metric || !dim) {
        PyErr_SetString(PyExc_TypeError, "type=, metric= and dim= are required");
        return -1;
    }
    if (!PyUnicode_Check(kw_type) || !PyUnicode_Check(kw_metric)) {
        PyErr_SetString(PyExc_TypeError, "type and metric must be str");
        return -1;
    }
    if (!(b = PyUnicode_AsUTF8String(kw_type)))
        return -1;
    st = ruv_index_type_parse(PyBytes_AsString(b), &type);
    Py_DECREF(b);
    if (st) {
        raise_status(st);
        return -1;
    }
    if (!(b = PyUnicode_AsUTF8String(kw_metric)))
        return -1;
    st = ruv_metric_parse(PyBytes_AsString(b), &metric);
    Py_DECREF(b);
    if (st) {
        raise_status(st);
        return -1;
    }
    uint32_t d = 0;
    if (opt_u32(dim, "dim", &d))
        return -1;
    if ((st = ruv_index_params_init(p, type, metric, d))) {
        raise_status(st);
        return -1;
    }
    unsigned long long s = p->seed;
    if (opt_u32(bits, "bits", &p->bits) || opt_u32(nlist, "nlist", &p->nlist) ||
        opt_u32(query_bits, "query_bits", &p->query_bits) ||
        opt_u32(rerank_factor, "rerank_factor", &p->rerank_factor) ||
        opt_u32(train_size, "train_size", &p->train_size) ||
        opt_u32(kmeans_iters, "kmeans_iters", &p->kmeans_iters) ||
        opt_uint(seed, "seed", UINT64_MAX, &s))
        return -1;
    p->seed = s;
    if (epsilon && epsilon != Py_None) {
        double e = PyFloat_AsDouble(epsilon);
        if (e == -1.0 && PyErr_Occurred())
            return -1;
        p->epsilon = (float)e;
    }
    return 0;
}

#define PARAM_KWLIST                                                                          \
    "type", "metric", "dim", "bits", "nlist", "query_bits", "rerank_factor", "train_size", \
        "kmeans_iters", "seed", "epsilon"

/* index_new(engine, *, type, metric, dim, bits=None, ...) -> Index (empty) */
static PyObject *mod_index_new(PyObject *mod, PyObject *args, PyObject *kw)
{
    (void)mod;
    static char *kwlist[] = {"engine", PARAM_KWLIST, NULL};
    PyObject *engine, *type = NULL, *metric = NULL, *dim = NULL, *bits = NULL, *nlist = NULL,
                      *qbits = NULL, *rerank = NULL, *train = NULL, *iters = NULL, *seed = NULL,
                      *eps = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$OOOOOOOOOOO", kwlist, &engine, &type, &metric,
                                     &dim, &bits, &nlist, &qbits, &rerank, &train, &iters, &seed,
                                     &eps))
        return NULL;
    ruv_index_params p;
    if (check_engine(engine) ||
        parse_params(type, metric, dim, bits, nlist, qbits, rerank, train, iters, seed, eps, &p))
        return NULL;
    ruv_index *idx = NULL;
    int st = ruv_index_new(((EngineObject *)engine)->eng, &p, &idx);
    if (st)
        return raise_status(st);
    return index_wrap(engine, idx);
}

/* index_build(engine, vectors, ids, *, type, metric, ...) -> Index
 * vectors: float32 (n, dim); ids: uint64 (n,) or None (ids 0..n-1). */
static PyObject *mod_index_build(PyObject *mod, PyObject *args, PyObject *kw)
{
    (void)mod;
    static char *kwlist[] = {"engine", "vectors", "ids", PARAM_KWLIST, NULL};
    PyObject *engine, *data_o, *ids_o, *type = NULL, *metric = NULL, *dim = NULL, *bits = NULL,
                                      *nlist = NULL, *qbits = NULL, *rerank = NULL,
                                      *train = NULL, *iters = NULL, *seed = NULL, *eps = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$OOOOOOOOOOO", kwlist, &engine, &data_o, &ids_o,
                                     &type, &metric, &dim, &bits, &nlist, &qbits, &rerank, &train,
                                     &iters, &seed, &eps))
        return NULL;
    if (check_engine(engine))
        return NULL;
    array_view data, ids;
    if (view_f32(data_o, "vectors", 2, &data))
        return NULL;
    if (view_ids(ids_o, "ids", 1, &ids)) {
        view_free(&data);
        return NULL;
    }
    PyObject *result = NULL;
    ruv_index_params p;
    PyObject *dim_o = dim ? (Py_INCREF(dim), dim) : PyLong_FromSsize_t(data.cols);
    if (!dim_o)
        goto done;
    if (parse_params(type, metric, dim_o, bits, nlist, qbits, rerank, train, iters, seed, eps, &p))
        goto done;
    if ((Py_ssize_t)p.dim != data.cols) {
        PyErr_Format(PyExc_ValueError, "dim=%u but the vectors have %zd columns", p.dim, data.cols);
        goto done;
    }
    if (ids.capsule && ids.rows != data.rows) {
        PyErr_Format(PyExc_ValueError, "ids: expected %zd ids (one per vector), got %zd", data.rows,
                     ids.rows);
        goto done;
    }
    ruv_engine *eng = ((EngineObject *)engine)->eng;
    ruv_index *idx = NULL;
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ruv_index_build(eng, &p, data.data, (size_t)data.rows, ids.data, &idx);
    if (st)
        save_detail(detail);
    Py_END_ALLOW_THREADS
    if (st)
        raise_detail(st, detail);
    else
        result = index_wrap(engine, idx);
done:
    Py_XDECREF(dim_o);
    view_free(&data);
    view_free(&ids);
    return result;
}

/* index_load(engine, path) -> Index */
static PyObject *mod_index_load(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *engine, *path_bytes = NULL;
    if (!PyArg_ParseTuple(args, "OO&", &engine, PyUnicode_FSConverter, &path_bytes))
        return NULL;
    if (check_engine(engine)) {
        Py_DECREF(path_bytes);
        return NULL;
    }
    const char *path = PyBytes_AsString(path_bytes);
    ruv_engine *eng = ((EngineObject *)engine)->eng;
    ruv_index *idx = NULL;
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ruv_index_load(eng, path, &idx);
    if (st)
        save_detail(detail);
    Py_END_ALLOW_THREADS
    Py_DECREF(path_bytes);
    if (st)
        return raise_detail(st, detail);
    return index_wrap(engine, idx);
}

/* Raises DimensionMismatch (from the C message) with .expected and .got. */
static int check_dim(IndexObject *self, Py_ssize_t got, const char *what)
{
    int st = ruv_index_check_dim(self->idx, (size_t)got, what);
    if (!st)
        return 0;
    char detail[DETAIL_SIZE];
    save_detail(detail);
    PyObject *exc = make_exception(st, detail);
    if (!exc)
        return -1;
    PyObject *e = PyLong_FromUnsignedLong(ruv_index_dim(self->idx));
    PyObject *g = PyLong_FromSsize_t(got);
    int bad = !e || !g || PyObject_SetAttrString(exc, "expected", e) ||
              PyObject_SetAttrString(exc, "got", g);
    Py_XDECREF(e);
    Py_XDECREF(g);
    if (bad) {
        Py_DECREF(exc);
        return -1;
    }
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return -1;
}

/* Fills search params; nprobe 0 and rerank_factor -1 mean "index default".
 * allow (may be an empty view) must outlive the search. */
static int search_params(const array_view *allow, Py_ssize_t k, long nprobe, long rerank,
                         ruv_search_params *sp)
{
    if (k < 1) {
        PyErr_Format(PyExc_ValueError, "k must be >= 1, got %zd", k);
        return -1;
    }
    if (k > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "k must be < 2**32, got %zd", k);
        return -1;
    }
    if (nprobe < 0 || nprobe > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "nprobe must be in 0..2**32-1, got %ld", nprobe);
        return -1;
    }
    if (rerank < -1 || rerank > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "rerank_factor must be >= 0, got %ld", rerank);
        return -1;
    }
    ruv_search_params_init(sp, (uint32_t)k);
    sp->nprobe = (uint32_t)nprobe;
    sp->rerank_factor = (int32_t)rerank;
    sp->allow = allow->data;
    sp->nallow = allow->capsule ? (size_t)allow->rows : 0;
    return 0;
}

/* search(query, k, nprobe=0, rerank_factor=-1, allow=None) -> list[SearchResult]
 * query: float32 (dim,); allow: uint64 (m,) or None. */
static PyObject *index_search(PyObject *obj, PyObject *args)
{
    IndexObject *self = (IndexObject *)obj;
    PyObject *query_o, *allow_o = Py_None;
    Py_ssize_t k;
    long nprobe = 0, rerank = -1;
    if (!PyArg_ParseTuple(args, "On|llO", &query_o, &k, &nprobe, &rerank, &allow_o))
        return NULL;
    if (!hit_type) {
        PyErr_SetString(PyExc_RuntimeError, "ruvector._ext._init() was not called");
        return NULL;
    }
    array_view query, allow;
    ruv_search_params sp;
    if (view_f32(query_o, "query", 1, &query))
        return NULL;
    if (view_ids(allow_o, "filter", 1, &allow)) {
        view_free(&query);
        return NULL;
    }
    PyObject *list = NULL;
    if (check_dim(self, query.cols, "query") || search_params(&allow, k, nprobe, rerank, &sp))
        goto done;

    uint64_t ids_small[SMALL_K], *ids = ids_small;
    float scores_small[SMALL_K], *scores = scores_small;
    size_t found = 0;
    char detail[DETAIL_SIZE] = "";
    int st, nomem = 0;
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_rdlock(&self->lock);
    /* More than len() results can never come back: size the buffers (and
     * the request) by what the index holds right now, under the lock. */
    size_t len = ruv_index_len(self->idx);
    if (len && sp.k > len)
        sp.k = (uint32_t)len;
    if (sp.k > SMALL_K) {
        ids = malloc(sp.k * sizeof *ids);
        scores = malloc(sp.k * sizeof *scores);
        nomem = !ids || !scores;
    }
    st = nomem ? RUV_OK : ruv_index_search(self->idx, query.data, &sp, ids, scores, &found);
    if (st)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS

    if (nomem)
        PyErr_NoMemory();
    else if (st)
        raise_detail(st, detail);
    else if ((list = PyList_New((Py_ssize_t)found))) {
        for (size_t i = 0; i < found; i++) {
            PyObject *id = PyLong_FromUnsignedLongLong(ids[i]);
            PyObject *score = PyFloat_FromDouble(scores[i]);
            PyObject *hit = id && score
                                ? PyObject_CallFunctionObjArgs(hit_type, id, score, NULL)
                                : NULL;
            Py_XDECREF(id);
            Py_XDECREF(score);
            if (!hit || PyList_SetItem(list, (Py_ssize_t)i, hit)) { /* SetItem steals hit */
                Py_CLEAR(list);
                break;
            }
        }
    }
    if (ids != ids_small)
        free(ids);
    if (scores != scores_small)
        free(scores);
done:
    view_free(&query);
    view_free(&allow);
    return list;
}

/* search_batch(queries, k, nprobe, rerank_factor, allow, out_ids, out_scores,
 *              out_nfound) -> None
 * queries: float32 (nq, dim); outputs are caller-allocated writable arrays:
 * uint64 (nq, k), float32 (nq, k) and size_t-sized unsigned (nq,), so
 * results land where Python reads them, without a copy. */
static PyObject *index_search_batch(PyObject *obj, PyObject *args)
{
    IndexObject *self = (IndexObject *)obj;
    PyObject *q_o, *allow_o, *ids_o, *scores_o, *nfound_o;
    Py_ssize_t k;
    long nprobe, rerank;
    if (!PyArg_ParseTuple(args, "OnllOOOO", &q_o, &k, &nprobe, &rerank, &allow_o, &ids_o,
                          &scores_o, &nfound_o))
        return NULL;
    array_view q = {0}, allow = {0}, ids = {0}, scores = {0}, nfound = {0};
    ruv_search_params sp;
    PyObject *result = NULL;
    if (view_f32(q_o, "queries", 2, &q) || view_ids(allow_o, "filter", 1, &allow) ||
        view_get(ids_o, "out_ids", 2, 'u', 8, 1, 0, &ids) ||
        view_get(scores_o, "out_scores", 2, 'f', 4, 1, 0, &scores) ||
        view_get(nfound_o, "out_nfound", 1, 'u', (int)sizeof(size_t), 1, 0, &nfound) ||
        check_dim(self, q.cols, "queries") || search_params(&allow, k, nprobe, rerank, &sp))
        goto done;
    if (ids.rows != q.rows || ids.cols != k || scores.rows != q.rows || scores.cols != k ||
        nfound.rows != q.rows) {
        PyErr_SetString(PyExc_ValueError, "output arrays must be (nq, k), (nq, k) and (nq,)");
        goto done;
    }
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_rdlock(&self->lock);
    st = ruv_index_search_batch(self->idx, q.data, (size_t)q.rows, &sp, ids.data, scores.data,
                                nfound.data);
    if (st)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    if (st)
        raise_detail(st, detail);
    else
        result = (Py_INCREF(Py_None), Py_None);
done:
    view_free(&q);
    view_free(&allow);
    view_free(&ids);
    view_free(&scores);
    view_free(&nfound);
    return result;
}

/* Takes the write lock with the GIL released; fails with BufferError while a
 * vectors export is alive (its pointer would dangle after the change). */
static int write_lock(IndexObject *self, const char *what)
{
    int busy;
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_wrlock(&self->lock);
    busy = atomic_load(&self->exports) > 0;
    if (busy)
        pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    if (busy) {
        PyErr_Format(PyExc_BufferError,
                     "cannot %s: an array view of the index's vectors (np.asarray(index)) is "
                     "still alive; delete it or take a copy with np.array(index)",
                     what);
        return -1;
    }
    return 0;
}

/* add(vectors, ids) -> None; vectors float32 (n, dim), ids uint64 (n,). */
static PyObject *index_add(PyObject *obj, PyObject *args)
{
    IndexObject *self = (IndexObject *)obj;
    PyObject *data_o, *ids_o;
    if (!PyArg_ParseTuple(args, "OO", &data_o, &ids_o))
        return NULL;
    array_view data = {0}, ids = {0};
    PyObject *result = NULL;
    if (view_f32(data_o, "vectors", 2, &data) || view_ids(ids_o, "ids", 0, &ids) ||
        check_dim(self, data.cols, "vectors"))
        goto done;
    if (ids.rows != data.rows) {
        PyErr_Format(PyExc_ValueError, "ids: expected %zd ids (one per vector), got %zd", data.rows,
                     ids.rows);
        goto done;
    }
    if (write_lock(self, "add"))
        goto done;
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ruv_index_add(self->idx, data.data, (size_t)data.rows, ids.data);
    if (st)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    if (st)
        raise_detail(st, detail);
    else
        result = (Py_INCREF(Py_None), Py_None);
done:
    view_free(&data);
    view_free(&ids);
    return result;
}

/* remove(ids) -> int (how many were present); ids uint64 (n,). */
static PyObject *index_remove(PyObject *obj, PyObject *ids_o)
{
    IndexObject *self = (IndexObject *)obj;
    array_view ids;
    if (view_ids(ids_o, "ids", 0, &ids))
        return NULL;
    if (write_lock(self, "remove")) {
        view_free(&ids);
        return NULL;
    }
    size_t removed = 0;
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ruv_index_remove(self->idx, ids.data, (size_t)ids.rows, &removed);
    if (st)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    view_free(&ids);
    if (st)
        return raise_detail(st, detail);
    return PyLong_FromSize_t(removed);
}

/* save(path) -> None. Exclusive by the C contract, though it only reads. */
static PyObject *index_save(PyObject *obj, PyObject *arg)
{
    IndexObject *self = (IndexObject *)obj;
    PyObject *path_bytes = NULL;
    if (!PyUnicode_FSConverter(arg, &path_bytes))
        return NULL;
    const char *path = PyBytes_AsString(path_bytes);
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_wrlock(&self->lock);
    st = ruv_index_save(self->idx, path);
    if (st)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    Py_DECREF(path_bytes);
    if (st)
        return raise_detail(st, detail);
    Py_RETURN_NONE;
}

/* get(id, out) -> None; out: writable float32 (dim,). */
static PyObject *index_get(PyObject *obj, PyObject *args)
{
    IndexObject *self = (IndexObject *)obj;
    PyObject *id_o, *out_o;
    if (!PyArg_ParseTuple(args, "OO", &id_o, &out_o))
        return NULL;
    unsigned long long id = 0;
    array_view out;
    if (opt_uint(id_o, "id", UINT64_MAX, &id) || view_get(out_o, "out", 1, 'f', 4, 1, 0, &out))
        return NULL;
    if (out.rows != (Py_ssize_t)ruv_index_dim(self->idx)) {
        view_free(&out);
        PyErr_SetString(PyExc_ValueError, "out must hold dim float32 values");
        return NULL;
    }
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_rdlock(&self->lock);
    st = ruv_index_get(self->idx, id, out.data);
    if (st)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    view_free(&out);
    if (st)
        return raise_detail(st, detail);
    Py_RETURN_NONE;
}

/* Reads a size under the shared lock; waits (GIL released) only if a writer
 * holds it. */
static size_t locked_size(IndexObject *self, size_t (*fn)(const ruv_index *))
{
    size_t v;
    if (pthread_rwlock_tryrdlock(&self->lock) == 0) {
        v = fn(self->idx);
        pthread_rwlock_unlock(&self->lock);
        return v;
    }
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_rdlock(&self->lock);
    v = fn(self->idx);
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    return v;
}

static Py_ssize_t index_len(PyObject *obj)
{
    return (Py_ssize_t)locked_size((IndexObject *)obj, ruv_index_len);
}

static PyObject *index_get_len(PyObject *obj, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(locked_size((IndexObject *)obj, ruv_index_len));
}

static PyObject *index_get_dim(PyObject *obj, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLong(ruv_index_dim(((IndexObject *)obj)->idx));
}

static PyObject *index_get_memory(PyObject *obj, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(locked_size((IndexObject *)obj, ruv_index_memory_bytes));
}

/* params -> dict. Parameters never change after creation: no lock. */
static PyObject *index_get_params(PyObject *obj, void *closure)
{
    (void)closure;
    const ruv_index_params *p = ruv_index_params_get(((IndexObject *)obj)->idx);
    return Py_BuildValue("{s:s,s:s,s:k,s:k,s:k,s:k,s:k,s:k,s:k,s:K,s:d}", "type",
                         ruv_index_type_name((int)p->type), "metric",
                         ruv_metric_name((int)p->metric), "dim", (unsigned long)p->dim, "bits",
                         (unsigned long)p->bits, "nlist", (unsigned long)p->nlist, "query_bits",
                         (unsigned long)p->query_bits, "rerank_factor",
                         (unsigned long)p->rerank_factor, "train_size",
                         (unsigned long)p->train_size, "kmeans_iters",
                         (unsigned long)p->kmeans_iters, "seed", (unsigned long long)p->seed,
                         "epsilon", (double)p->epsilon);
}

static PyObject *index_get_exports(PyObject *obj, void *closure)
{
    (void)closure;
    return PyLong_FromLong(atomic_load(&((IndexObject *)obj)->exports));
}

/* ---- VectorsExport: a borrowed view of the stored vectors and ids ---- */

typedef struct {
    PyObject_HEAD
    IndexObject *index;
    const float *vectors;
    const uint64_t *ids;
    size_t n;
    uint32_t dim;
} ExportObject;

/* export_vectors() -> VectorsExport. While it lives, add/remove raise
 * BufferError, so its pointers stay valid (bytearray's export rule). */
static PyObject *index_export_vectors(PyObject *obj, PyObject *unused)
{
    (void)unused;
    IndexObject *self = (IndexObject *)obj;
    ExportObject *ex = (ExportObject *)alloc_instance(export_type);
    if (!ex)
        return NULL;
    const float *vectors = NULL;
    const uint64_t *ids = NULL;
    size_t n = 0;
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_rdlock(&self->lock);
    st = ruv_index_vectors(self->idx, &vectors, &ids);
    if (st)
        save_detail(detail);
    else
        atomic_fetch_add(&self->exports, 1); /* under the shared lock: see write_lock */
    n = ruv_index_len(self->idx);
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    if (st) {
        Py_DECREF(ex); /* index is NULL: dealloc touches no counter */
        return raise_detail(st, detail);
    }
    Py_INCREF(obj);
    ex->index = self;
    ex->vectors = vectors;
    ex->ids = ids;
    ex->n = n;
    ex->dim = ruv_index_dim(self->idx);
    return (PyObject *)ex;
}

static void export_dealloc(PyObject *obj)
{
    ExportObject *ex = (ExportObject *)obj;
    if (ex->index) {
        atomic_fetch_sub(&ex->index->exports, 1);
        Py_DECREF(ex->index);
    }
    free_instance(obj);
}

static PyObject *export_get_vectors(PyObject *obj, void *closure)
{
    (void)closure;
    return PyLong_FromVoidPtr((void *)((ExportObject *)obj)->vectors);
}

static PyObject *export_get_ids(PyObject *obj, void *closure)
{
    (void)closure;
    return PyLong_FromVoidPtr((void *)((ExportObject *)obj)->ids);
}

static PyObject *export_get_n(PyObject *obj, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(((ExportObject *)obj)->n);
}

static PyObject *export_get_dim(PyObject *obj, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLong(((ExportObject *)obj)->dim);
}

static PyGetSetDef export_getset[] = {
    {"vectors_address", export_get_vectors, NULL, "address of n*dim float32", NULL},
    {"ids_address", export_get_ids, NULL, "address of n uint64", NULL},
    {"n", export_get_n, NULL, "rows", NULL},
    {"dim", export_get_dim, NULL, "dimension", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot export_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, export_dealloc},
    {Py_tp_getset, export_getset},
    {Py_tp_doc, "Pins an index's stored vectors; add/remove fail while it lives."},
    {0, NULL},
};

static PyType_Spec export_spec = {
    "ruvector._ext.VectorsExport", sizeof(ExportObject), 0, Py_TPFLAGS_DEFAULT, export_slots,
};

static PyObject *index_check_dim(PyObject *obj, PyObject *args)
{
    Py_ssize_t got;
    const char *what;
    if (!PyArg_ParseTuple(args, "ns", &got, &what))
        return NULL;
    if (check_dim((IndexObject *)obj, got, what))
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef index_methods[] = {
    {"search", index_search, METH_VARARGS,
     "search($self, query, k, nprobe=0, rerank_factor=-1, allow=None, /)\n--\n\n"
     "One float32 query -> list of SearchResult."},
    {"search_batch", index_search_batch, METH_VARARGS,
     "search_batch($self, queries, k, nprobe, rerank_factor, allow, out_ids, out_scores, "
     "out_nfound, /)\n--\n\nEvery row of queries into caller-allocated outputs."},
    {"add", index_add, METH_VARARGS,
     "add($self, vectors, ids, /)\n--\n\nAdds float32 (n, dim) vectors with uint64 ids."},
    {"remove", index_remove, METH_O,
     "remove($self, ids, /)\n--\n\nRemoves uint64 ids; returns how many were present."},
    {"save", index_save, METH_O, "save($self, path, /)\n--\n\nAtomic save."},
    {"get", index_get, METH_VARARGS,
     "get($self, id, out, /)\n--\n\nCopies the stored vector of id into the float32 array out."},
    {"export_vectors", index_export_vectors, METH_NOARGS,
     "export_vectors($self, /)\n--\n\nPins the stored vectors and ids (VectorsExport)."},
    {"check_dim", index_check_dim, METH_VARARGS,
     "check_dim($self, got, what, /)\n--\n\nRaises DimensionMismatch unless got == dim."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef index_getset[] = {
    {"len", index_get_len, NULL, "vectors held", NULL},
    {"dim", index_get_dim, NULL, "dimension", NULL},
    {"memory_bytes", index_get_memory, NULL, "bytes held in memory", NULL},
    {"params", index_get_params, NULL, "build parameters (dict)", NULL},
    {"exports", index_get_exports, NULL, "live vectors exports", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot index_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, index_dealloc},
    {Py_tp_methods, index_methods},
    {Py_tp_getset, index_getset},
    {Py_sq_length, index_len},
    {Py_tp_doc, "A libruvector index handle (use the ruvector index classes)."},
    {0, NULL},
};

static PyType_Spec index_spec = {
    "ruvector._ext.Index", sizeof(IndexObject), 0, Py_TPFLAGS_DEFAULT, index_slots,
};

/* ================================================================= module */

static PyObject *mod_version(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    return PyUnicode_FromString(ruv_version_string());
}

/* cpu_features() -> dict[str, bool] over every ISA bit this build names. */
static PyObject *mod_cpu_features(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    uint64_t have = ruv_cpu_isa(), known = ruv_isa_known();
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    for (int b = 0; b < 64; b++) {
        uint64_t bit = UINT64_C(1) << b;
        const char *name = (known & bit) ? ruv_isa_name(bit) : NULL;
        if (!name || bit == RUV_ISA_TEST_IMPOSSIBLE)
            continue;
        if (PyDict_SetItemString(d, name, (have & bit) ? Py_True : Py_False)) {
            Py_DECREF(d);
            return NULL;
        }
    }
    return d;
}

static PyObject *mod_status_name(PyObject *mod, PyObject *arg)
{
    (void)mod;
    long st = PyLong_AsLong(arg);
    if (st == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(ruv_status_name((int)st));
}

static PyObject *mod_status_str(PyObject *mod, PyObject *arg)
{
    (void)mod;
    long st = PyLong_AsLong(arg);
    if (st == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(ruv_status_str((int)st));
}

/* _init(errors: dict[int, type], fallback: type, hit: type) -> None
 * The exception classes and the result tuple are defined in Python, where
 * they are easier to document and to type; the module raises them. */
static PyObject *mod_init(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *errors, *fallback, *hit;
    if (!PyArg_ParseTuple(args, "O!OO", &PyDict_Type, &errors, &fallback, &hit))
        return NULL;
    PyObject *old_map = error_map, *old_base = error_base, *old_hit = hit_type;
    Py_INCREF(errors);
    Py_INCREF(fallback);
    Py_INCREF(hit);
    error_map = errors;
    error_base = fallback;
    hit_type = hit;
    Py_XDECREF(old_map);
    Py_XDECREF(old_base);
    Py_XDECREF(old_hit);
    Py_RETURN_NONE;
}

/* raise_status(status, detail): raises as the engine's errors do (tests). */
static PyObject *mod_raise_status(PyObject *mod, PyObject *args)
{
    (void)mod;
    int st;
    const char *detail;
    if (!PyArg_ParseTuple(args, "is", &st, &detail))
        return NULL;
    return raise_detail(st, detail);
}

static PyMethodDef module_methods[] = {
    {"version", mod_version, METH_NOARGS, "version($module, /)\n--\n\nruv_version_string()."},
    {"cpu_features", mod_cpu_features, METH_NOARGS,
     "cpu_features($module, /)\n--\n\nEvery named ISA bit and whether this CPU has it."},
    {"status_name", mod_status_name, METH_O, "status_name($module, status, /)\n--\n\nruv_status_name()."},
    {"status_str", mod_status_str, METH_O, "status_str($module, status, /)\n--\n\nruv_status_str()."},
    {"index_new", (PyCFunction)(void (*)(void))mod_index_new, METH_VARARGS | METH_KEYWORDS,
     "index_new($module, engine, *, type, metric, dim, bits=None, nlist=None, query_bits=None, "
     "rerank_factor=None, train_size=None, kmeans_iters=None, seed=None, epsilon=None)\n--\n\n"
     "An empty index."},
    {"index_build", (PyCFunction)(void (*)(void))mod_index_build, METH_VARARGS | METH_KEYWORDS,
     "index_build($module, engine, vectors, ids, *, type, metric, dim=None, bits=None, "
     "nlist=None, query_bits=None, rerank_factor=None, train_size=None, kmeans_iters=None, "
     "seed=None, epsilon=None)\n--\n\nBuilds from float32 (n, dim) vectors (GIL released)."},
    {"index_load", mod_index_load, METH_VARARGS,
     "index_load($module, engine, path, /)\n--\n\nLoads a saved index (GIL released)."},
    {"_init", mod_init, METH_VARARGS,
     "_init($module, errors, fallback, hit, /)\n--\n\nRegisters the exception classes and "
     "the result tuple."},
    {"_raise_status", mod_raise_status, METH_VARARGS,
     "_raise_status($module, status, detail, /)\n--\n\nRaises like a failing engine call "
     "(tests)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "ruvector._ext", "libruvector binding (private: use ruvector).", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

static int add_type(PyObject *m, const char *name, PyType_Spec *spec, PyTypeObject **out)
{
    PyObject *t = PyType_FromSpec(spec);
    if (!t)
        return -1;
    *out = (PyTypeObject *)t;
    Py_INCREF(t); /* one reference for the static pointer, one for the module */
    if (PyModule_AddObject(m, name, t)) {
        Py_DECREF(t);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__ext(void);
PyMODINIT_FUNC PyInit__ext(void)
{
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    if (add_type(m, "Engine", &engine_spec, &engine_type) ||
        add_type(m, "Index", &index_spec, &index_type) ||
        add_type(m, "VectorsExport", &export_spec, &export_type) ||
        PyModule_AddIntConstant(m, "VERSION_HEX", (long)ruv_version()) ||
        PyModule_AddIntConstant(m, "HEADER_VERSION_HEX", (long)RUV_VERSION_HEX)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
