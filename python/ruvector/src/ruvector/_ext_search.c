/* ruvector._ext: Index.search (one query, results as SearchResult tuples)
 * and Index.search_batch (every query into caller-allocated arrays). */
#include "_ext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

/* Results up to this many per query live on the stack. */
#define SMALL_K 64

int check_dim(IndexObject *self, Py_ssize_t got, const char *what)
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
                         double recall, ruv_search_params *sp)
{
    if (!(recall >= 0.0 && recall <= 1.0)) {
        /* PyErr_Format has no %g (3.11 prints it as is, 3.13 raises
         * SystemError): the value is formatted here */
        char got[32];
        snprintf(got, sizeof got, "%g", recall);
        PyErr_Format(PyExc_ValueError, "recall must be in 0..1 (0: the index's default), got %s",
                     got);
        return -1;
    }
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
    sp->recall = (float)recall;
    sp->rerank_factor = (int32_t)rerank;
    sp->allow = allow->data;
    sp->nallow = allow->capsule ? (size_t)allow->rows : 0;
    return 0;
}

/* search(query, k, nprobe=0, rerank_factor=-1, allow=None, recall=0) -> list[SearchResult]
 * query: float32 (dim,); allow: uint64 (m,) or None. */
PyObject *index_search(PyObject *obj, PyObject *args)
{
    IndexObject *self = (IndexObject *)obj;
    PyObject *query_o, *allow_o = Py_None;
    Py_ssize_t k;
    long nprobe = 0, rerank = -1;
    double recall = 0.0;
    if (!PyArg_ParseTuple(args, "On|llOd", &query_o, &k, &nprobe, &rerank, &allow_o, &recall))
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
    if (check_dim(self, query.cols, "query") || search_params(&allow, k, nprobe, rerank, recall, &sp))
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
        /* tuple.__new__(SearchResult, (id, score)): what the NamedTuple's
         * own __new__ does, without running Python code per hit. */
        PyObject *make = PyObject_GetAttrString((PyObject *)&PyTuple_Type, "__new__");
        for (size_t i = 0; list && i < found; i++) {
            PyObject *id = make ? PyLong_FromUnsignedLongLong(ids[i]) : NULL;
            PyObject *score = id ? PyFloat_FromDouble(scores[i]) : NULL;
            PyObject *items = score ? PyTuple_Pack(2, id, score) : NULL;
            PyObject *hit = items ? PyObject_CallFunctionObjArgs(make, hit_type, items, NULL)
                                  : NULL;
            Py_XDECREF(id);
            Py_XDECREF(score);
            Py_XDECREF(items);
            if (!hit || PyList_SetItem(list, (Py_ssize_t)i, hit)) /* SetItem steals hit */
                Py_CLEAR(list);
        }
        Py_XDECREF(make);
        if (!make)
            Py_CLEAR(list);
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

/* RUV_OK, or RUV_E_INVAL with "query row R, column C is NaN" (or
 * "infinite") in detail for the first non-finite value of the rows x cols
 * queries: one message naming the row of the batch, for every index type.
 * The engine checks every batch up front too (with the same words, and the
 * +-1e16 range as well); this pass comes first so that non-finite queries
 * are a ValueError even on an empty index. Runs without the GIL: one pass
 * that the compiler vectorises, row by row. */
static int check_finite_queries(const float *q, size_t rows, size_t cols, char *detail)
{
    for (size_t r = 0; r < rows; r++) {
        const float *row = q + r * cols;
        unsigned bad = 0;
        for (size_t c = 0; c < cols; c++) {
            uint32_t bits;
            memcpy(&bits, &row[c], sizeof bits);
            bad |= (bits & 0x7f800000u) == 0x7f800000u; /* exponent all ones */
        }
        for (size_t c = 0; bad && c < cols; c++)
            if (!isfinite(row[c])) {
                snprintf(detail, DETAIL_SIZE, "query row %zu, column %zu is %s", r, c,
                         isnan(row[c]) ? "NaN" : "infinite");
                return RUV_E_INVAL;
            }
    }
    return RUV_OK;
}

struct batch_call {
    const ruv_index *idx;
    const float *queries;
    size_t nq;
    const ruv_search_params *sp;
    uint64_t *ids;
    float *scores;
    size_t *nfound;
};

static int batch_call(void *vctx)
{
    struct batch_call *b = vctx;
    return ruv_index_search_batch(b->idx, b->queries, b->nq, b->sp, b->ids, b->scores, b->nfound);
}

/* search_batch(queries, k, nprobe, rerank_factor, allow, out_ids, out_scores,
 *              out_nfound, recall=0) -> None
 * queries: float32 (nq, dim); outputs are caller-allocated writable arrays:
 * uint64 (nq, k), float32 (nq, k) and size_t-sized unsigned (nq,), so
 * results land where Python reads them, without a copy. */
PyObject *index_search_batch(PyObject *obj, PyObject *args)
{
    IndexObject *self = (IndexObject *)obj;
    PyObject *q_o, *allow_o, *ids_o, *scores_o, *nfound_o;
    Py_ssize_t k;
    long nprobe, rerank;
    double recall = 0.0;
    if (!PyArg_ParseTuple(args, "OnllOOOO|d", &q_o, &k, &nprobe, &rerank, &allow_o, &ids_o,
                          &scores_o, &nfound_o, &recall))
        return NULL;
    array_view q = {0}, allow = {0}, ids = {0}, scores = {0}, nfound = {0};
    ruv_search_params sp;
    PyObject *result = NULL;
    if (view_f32(q_o, "queries", 2, &q) || view_ids(allow_o, "filter", 1, &allow) ||
        view_get(ids_o, "out_ids", 2, 'u', 8, 1, 0, &ids) ||
        view_get(scores_o, "out_scores", 2, 'f', 4, 1, 0, &scores) ||
        view_get(nfound_o, "out_nfound", 1, 'u', (int)sizeof(size_t), 1, 0, &nfound) ||
        check_dim(self, q.cols, "queries") ||
        search_params(&allow, k, nprobe, rerank, recall, &sp))
        goto done;
    if (ids.rows != q.rows || ids.cols != k || scores.rows != q.rows || scores.cols != k ||
        nfound.rows != q.rows) {
        PyErr_SetString(PyExc_ValueError, "output arrays must be (nq, k), (nq, k) and (nq,)");
        goto done;
    }
    char detail[DETAIL_SIZE] = "";
    int st, interrupted = 0;
    Py_BEGIN_ALLOW_THREADS
    st = check_finite_queries(q.data, (size_t)q.rows, (size_t)q.cols, detail);
    if (!st)
        pthread_rwlock_rdlock(&self->lock);
    Py_END_ALLOW_THREADS
    if (!st) {
        struct batch_call b = {self->idx, q.data, (size_t)q.rows, &sp, ids.data, scores.data,
                               nfound.data};
        st = call_interruptible(batch_call, &b,
                                LONG_SEARCH(q.rows, ruv_index_len(self->idx), q.cols), detail,
                                &interrupted);
        pthread_rwlock_unlock(&self->lock);
    }
    if (interrupted) {
        /* the signal handler's exception is set */
    } else if (st)
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

