/* ruvector._ext: Index objects, how they are made (empty, built from
 * vectors, loaded from a file) and freed. */
#include "_ext.h"

#include <ruvector/error.h>

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

void index_dealloc(PyObject *obj)
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
                        PyObject *epsilon, PyObject *target_recall, PyObject *nprobe,
                        ruv_index_params *p)
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
        opt_u32(nprobe, "nprobe", &p->nprobe) || opt_uint(seed, "seed", UINT64_MAX, &s))
        return -1;
    if (target_recall && target_recall != Py_None) {
        double t = PyFloat_AsDouble(target_recall);
        if (t == -1.0 && PyErr_Occurred())
            return -1;
        p->target_recall = (float)t;
    }
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
        "kmeans_iters", "seed", "epsilon", "target_recall", "nprobe"

/* index_new(engine, *, type, metric, dim, bits=None, ...) -> Index (empty) */
PyObject *mod_index_new(PyObject *mod, PyObject *args, PyObject *kw)
{
    (void)mod;
    static char *kwlist[] = {"engine", PARAM_KWLIST, NULL};
    PyObject *engine, *type = NULL, *metric = NULL, *dim = NULL, *bits = NULL, *nlist = NULL,
                      *qbits = NULL, *rerank = NULL, *train = NULL, *iters = NULL, *seed = NULL,
                      *eps = NULL, *target = NULL, *nprobe = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$OOOOOOOOOOOOO", kwlist, &engine, &type,
                                     &metric, &dim, &bits, &nlist, &qbits, &rerank, &train,
                                     &iters, &seed, &eps, &target, &nprobe))
        return NULL;
    ruv_index_params p;
    if (check_engine(engine) || parse_params(type, metric, dim, bits, nlist, qbits, rerank, train,
                                             iters, seed, eps, target, nprobe, &p))
        return NULL;
    ruv_index *idx = NULL;
    int st = ruv_index_new(((EngineObject *)engine)->eng, &p, &idx);
    if (st)
        return raise_status(st);
    return index_wrap(engine, idx);
}

struct build_call {
    ruv_engine *eng;
    const ruv_index_params *p;
    const float *data;
    size_t n;
    const uint64_t *ids;
    ruv_index *idx;
    int fewest_bits;
};

static int build_call(void *vctx)
{
    struct build_call *b = vctx;
    if (b->fewest_bits)
        return ruv_index_build_fewest_bits(b->eng, b->p, b->data, b->n, b->ids, &b->idx);
    return ruv_index_build(b->eng, b->p, b->data, b->n, b->ids, &b->idx);
}

/* index_build(engine, vectors, ids, *, type, metric, ..., fewest_bits=False) -> Index
 * vectors: float32 (n, dim); ids: uint64 (n,) or None (ids 0..n-1).
 * fewest_bits: ruv_index_build_fewest_bits (codes-only types, bits unset). */
PyObject *mod_index_build(PyObject *mod, PyObject *args, PyObject *kw)
{
    (void)mod;
    static char *kwlist[] = {"engine", "vectors", "ids", PARAM_KWLIST, "fewest_bits", NULL};
    PyObject *engine, *data_o, *ids_o, *type = NULL, *metric = NULL, *dim = NULL, *bits = NULL,
                                      *nlist = NULL, *qbits = NULL, *rerank = NULL,
                                      *train = NULL, *iters = NULL, *seed = NULL, *eps = NULL,
                                      *target = NULL, *nprobe = NULL;
    int fewest_bits = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$OOOOOOOOOOOOOp", kwlist, &engine, &data_o,
                                     &ids_o, &type, &metric, &dim, &bits, &nlist, &qbits, &rerank,
                                     &train, &iters, &seed, &eps, &target, &nprobe, &fewest_bits))
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
    if (parse_params(type, metric, dim_o, bits, nlist, qbits, rerank, train, iters, seed, eps,
                     target, nprobe, &p))
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
    struct build_call b = {((EngineObject *)engine)->eng, &p, data.data, (size_t)data.rows,
                           ids.data, NULL, fewest_bits};
    char detail[DETAIL_SIZE] = "";
    int interrupted;
    int st = call_interruptible(build_call, &b, LONG_BUILD(data.rows, data.cols), detail,
                                &interrupted);
    if (interrupted) /* the signal handler's exception is set */
        ruv_index_free(b.idx);
    else if (st)
        raise_detail(st, detail);
    else
        result = index_wrap(engine, b.idx);
done:
    Py_XDECREF(dim_o);
    view_free(&data);
    view_free(&ids);
    return result;
}

/* index_load(engine, path) -> Index */
PyObject *mod_index_load(PyObject *mod, PyObject *args)
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
