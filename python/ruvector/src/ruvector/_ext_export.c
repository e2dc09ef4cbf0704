/* ruvector._ext: VectorsExport, a borrowed view of an index's stored
 * vectors and ids; while one lives, add/remove refuse to run. */
#include "_ext.h"

#include <ruvector/error.h>

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
PyObject *index_export_vectors(PyObject *obj, PyObject *unused)
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

PyType_Spec export_spec = {
    "ruvector._ext.VectorsExport", sizeof(ExportObject), 0, Py_TPFLAGS_DEFAULT, export_slots,
};
