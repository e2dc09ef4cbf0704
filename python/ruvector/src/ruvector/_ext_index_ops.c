/* ruvector._ext: the Index type. Its methods besides search (add, remove,
 * save, get, sizes and parameters), and its type spec. */
#include "_ext.h"

#include <ruvector/error.h>

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

struct add_call {
    ruv_index *idx;
    const float *data;
    size_t n;
    const uint64_t *ids;
};

static int add_call(void *vctx)
{
    struct add_call *a = vctx;
    return ruv_index_add(a->idx, a->data, a->n, a->ids);
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
    struct add_call a = {self->idx, data.data, (size_t)data.rows, ids.data};
    int interrupted;
    int st = call_interruptible(add_call, &a, LONG_BUILD(data.rows, data.cols), detail,
                                &interrupted);
    pthread_rwlock_unlock(&self->lock);
    if (interrupted) {
        /* the signal handler's exception is set */
    } else if (st)
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

/* The calibration curve as a list of (nprobe, mean recall@10, 95 % lower
 * bound or None where the file stores none). */
static PyObject *calibration_curve(const ruv_index *idx)
{
    uint32_t np[64];
    float mean[64], lower[64];
    size_t n = ruv_index_calibration_curve(idx, np, mean, lower, 64);
    n = n < 64 ? n : 64;
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *t = lower[i] < 0.0f
                          ? Py_BuildValue("(kdO)", (unsigned long)np[i], (double)mean[i], Py_None)
                          : Py_BuildValue("(kdd)", (unsigned long)np[i], (double)mean[i],
                                          (double)lower[i]);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        if (PyList_SetItem(list, (Py_ssize_t)i, t)) { /* steals t */
            Py_CLEAR(list);
            break;
        }
    }
    return list;
}

/* params -> dict, with "plan": what the build chose and why, and "probing":
 * how a default search picks its lists. Parameters
 * never change after creation: no lock. */
static PyObject *index_get_params(PyObject *obj, void *closure)
{
    (void)closure;
    const ruv_index *idx = ((IndexObject *)obj)->idx;
    const ruv_index_params *p = ruv_index_params_get(idx);
    char plan[1024], probing[1024];
    ruv_index_describe_plan(idx, plan, sizeof plan);
    ruv_index_describe_probing(idx, probing, sizeof probing);
    PyObject *curve = calibration_curve(idx);
    if (!curve)
        return NULL;
    return Py_BuildValue("{s:s,s:s,s:k,s:k,s:k,s:k,s:k,s:k,s:k,s:K,s:d,s:d,s:k,s:d,s:d,s:k,s:k,s:s,s:s,s:N}",
                         "type", ruv_index_type_name((int)p->type), "metric",
                         ruv_metric_name((int)p->metric), "dim", (unsigned long)p->dim, "bits",
                         (unsigned long)p->bits, "nlist", (unsigned long)p->nlist, "query_bits",
                         (unsigned long)p->query_bits, "rerank_factor",
                         (unsigned long)p->rerank_factor, "train_size",
                         (unsigned long)p->train_size, "kmeans_iters",
                         (unsigned long)p->kmeans_iters, "seed", (unsigned long long)p->seed,
                         "epsilon", (double)p->epsilon, "target_recall",
                         (double)p->target_recall, "nprobe", (unsigned long)p->nprobe,
                         "calibrated_recall", (double)p->calibrated_recall,
                         "calibrated_lower", (double)p->calibrated_lower,
                         "calibration_queries", (unsigned long)p->calibration_queries,
                         "planned", (unsigned long)p->planned, "plan", plan, "probing", probing,
                         "calibration_curve", curve);
}

static PyObject *index_get_exports(PyObject *obj, void *closure)
{
    (void)closure;
    return PyLong_FromLong(atomic_load(&((IndexObject *)obj)->exports));
}


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
     "search($self, query, k, nprobe=0, rerank_factor=-1, allow=None, recall=0.0, /)\n--\n\n"
     "One float32 query -> list of SearchResult."},
    {"search_batch", index_search_batch, METH_VARARGS,
     "search_batch($self, queries, k, nprobe, rerank_factor, allow, out_ids, out_scores, "
     "out_nfound, recall=0.0, /)\n--\n\nEvery row of queries into caller-allocated outputs."},
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

PyType_Spec index_spec = {
    "ruvector._ext.Index", sizeof(IndexObject), 0, Py_TPFLAGS_DEFAULT, index_slots,
};
