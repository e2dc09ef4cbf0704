/* ruvector._ext: Lake.search_one, the one-query, one-target search with
 * its hits built here as the caller's result tuples.
 *
 * Lake.search (_ext_lake.c) serves every shape through caller-allocated
 * NumPy outputs, which Python then turns into hit tuples; for one query
 * that wrapping cost more than the lake's own work (four arrays made and
 * viewed, a status list, tolist, a Python-level constructor per hit:
 * ~11 us of a ~30 us search of 2,000 rows, measured in session 9). */
#include "_ext.h"

#include <ruvector/error.h>
#include <ruvector/feature-lake.h>

/* Hits up to this many live on the stack. */
#define ONE_SMALL_K 64

/* list[hit_type(backend, collection, id, score)] of n hits, each made by
 * tuple.__new__(hit_type, (backend, collection, id, score)): what a
 * NamedTuple's own __new__ does, without running Python code per hit
 * (~4x cheaper). Made through tuple.__new__, not by filling a tp_alloc'ed
 * object, so that whatever a tuple holds besides its items (3.14 caches
 * the hash in the object) is set up by CPython itself. */
static PyObject *hit_list(PyObject *tp, PyObject *backend, PyObject *collection,
                          const struct ruv_lake_hit *hits, uint32_t n)
{
    PyObject *make = PyObject_GetAttrString((PyObject *)&PyTuple_Type, "__new__");
    PyObject *list = make ? PyList_New((Py_ssize_t)n) : NULL;
    for (uint32_t i = 0; list && i < n; i++) {
        PyObject *id = PyLong_FromUnsignedLongLong(hits[i].id);
        /* float32 -> double exactly, as ndarray.tolist() gives it */
        PyObject *score = id ? PyFloat_FromDouble((double)hits[i].score) : NULL;
        PyObject *items = score ? PyTuple_Pack(4, backend, collection, id, score) : NULL;
        PyObject *hit = items ? PyObject_CallFunctionObjArgs(make, tp, items, NULL) : NULL;
        Py_XDECREF(id);
        Py_XDECREF(score);
        Py_XDECREF(items);
        if (!hit || PyList_SetItem(list, (Py_ssize_t)i, hit)) /* SetItem steals hit */
            Py_CLEAR(list);
    }
    Py_XDECREF(make);
    return list;
}

/* search_one(backend, collection, query, k, rerank_factor, flags, hit_type)
 *   -> list[hit_type]
 * backend and collection: str (they become the hits' first two fields, the
 * same objects); query: float32 (dim,); rerank_factor 0: the lake's; flags:
 * RUV_LAKE_* of one target (NO_PRIME, WARMUP). hit_type: a tuple subclass
 * whose instances are plain 4-tuples (a NamedTuple class: its own __new__
 * is not called). Raises as
 * Lake.search does when the search fails. */
PyObject *lake_search_one(PyObject *obj, PyObject *args)
{
    LakeObject *self = (LakeObject *)obj;
    PyObject *b_o, *c_o, *q_o, *type_o;
    unsigned int k, rerank, flags;
    if (!PyArg_ParseTuple(args, "UUOIIIO", &b_o, &c_o, &q_o, &k, &rerank, &flags, &type_o))
        return NULL;
    if (!PyType_Check(type_o) || !PyType_IsSubtype((PyTypeObject *)type_o, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "search_one: hit_type must be a tuple subclass");
        return NULL;
    }
    if (k < 1) {
        PyErr_SetString(PyExc_ValueError, "k must be >= 1");
        return NULL;
    }
    if (!self->lake) {
        PyErr_SetString(PyExc_ValueError, "the lake is closed");
        return NULL;
    }
    /* UTF-8 through bytes objects: the limited API of 3.9 has no
     * PyUnicode_AsUTF8AndSize */
    PyObject *hold[2] = {PyUnicode_AsUTF8String(b_o), NULL};
    hold[1] = hold[0] ? PyUnicode_AsUTF8String(c_o) : NULL;
    struct ruv_lake_target t = {.backend = hold[0] ? PyBytes_AsString(hold[0]) : NULL,
                                .collection = hold[1] ? PyBytes_AsString(hold[1]) : NULL};
    array_view q = {0};
    struct ruv_lake_hit hits_small[ONE_SMALL_K], *hits = hits_small;
    PyObject *result = NULL;
    if (!t.backend || !t.collection || view_f32(q_o, "query", 1, &q))
        goto done;
    if (q.cols > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "query: too long");
        goto done;
    }
    if (k > ONE_SMALL_K && !(hits = PyMem_Malloc((size_t)k * sizeof *hits))) {
        PyErr_NoMemory();
        goto done;
    }
    uint32_t nhits = 0;
    int32_t tst = 0;
    char tdet[1][256];
    struct ruv_lake_query qq = {.struct_size = sizeof qq, .flags = flags, .targets = &t,
                                .ntargets = 1, .queries = q.data, .nq = 1,
                                .dim = (uint32_t)q.cols, .k = k, .rerank_factor = rerank,
                                .hits = hits, .nhits = &nhits, .target_status = &tst,
                                .target_detail = tdet};
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = lake_search_nogil(self, &qq, detail);
    Py_END_ALLOW_THREADS
    if (st) {
        raise_detail(st, detail);
        goto done;
    }
    result = hit_list(type_o, b_o, c_o, hits, nhits < k ? nhits : k);
done:
    if (hits != hits_small)
        PyMem_Free(hits);
    view_free(&q);
    lake_drop_holds(hold, 2);
    return result;
}
