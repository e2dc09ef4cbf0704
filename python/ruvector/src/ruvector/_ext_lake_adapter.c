/* ruvector._ext: backends written in Python (ruvector.BackendAdapter) as a
 * struct ruv_lake_backend. The lake calls describe and pull on whatever
 * thread runs the search (the caller's, or a pool thread for a federated
 * shard) with the GIL released; each callback takes the GIL
 * (PyGILState_Ensure), calls the adapter's _lake_describe / _lake_pull
 * (Python helpers that normalise the user's answer or its exception into
 * a tuple), and gives the GIL back. Pulled arrays are borrowed through
 * __array_struct__ until the lake releases the pull. */
#include "_ext.h"

#include <stdio.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/feature-lake.h>

/* The adapter's failure text on this thread, read by the lake right after
 * a failing call (struct ruv_lake_backend.last_error). */
static _Thread_local char adapter_detail[DETAIL_SIZE];

static const char *adapter_last_error(void *state)
{
    (void)state;
    return adapter_detail;
}

static int adapter_fail(int status, const char *text)
{
    snprintf(adapter_detail, sizeof adapter_detail, "%s", text);
    return status;
}

/* The pending Python exception as failure text (and cleared). */
static int adapter_fail_exc(const char *what)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *s = value ? PyObject_Str(value) : NULL;
    PyObject *b = s ? PyUnicode_AsUTF8String(s) : NULL;
    snprintf(adapter_detail, sizeof adapter_detail, "%s: %s", what,
             b ? PyBytes_AsString(b) : "(an exception that cannot be printed)");
    Py_XDECREF(b);
    Py_XDECREF(s);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    PyErr_Clear();
    return RUV_E_BACKEND;
}

/* A (status, message) answer: the helper caught the user's exception. */
static int failure_tuple(PyObject *r, int *st)
{
    if (!PyTuple_Check(r) || PyTuple_Size(r) != 2)
        return 0;
    int status;
    const char *msg;
    if (!PyArg_ParseTuple(r, "is", &status, &msg)) {
        *st = adapter_fail_exc("a malformed failure from the adapter");
        return 1;
    }
    *st = adapter_fail(status < 0 ? status : RUV_E_BACKEND, msg);
    return 1;
}

/* Fills d from a description tuple (data_ref: bytes, dim, gen_is_opaque,
 * gen_num, gen: bytes, has_digest, count, digest: bytes), as
 * BackendAdapter's helpers make it. 0, or -1 with an exception set. */
int lake_desc_from_tuple(PyObject *t, struct ruv_lake_desc *d)
{
    const char *ref, *gen, *dig;
    Py_ssize_t ref_len, gen_len, dig_len;
    unsigned int dim;
    int opaque, has_digest;
    unsigned long long gen_num, count;
    if (!PyArg_ParseTuple(t, "y#IiKy#iKy#", &ref, &ref_len, &dim, &opaque, &gen_num, &gen,
                          &gen_len, &has_digest, &count, &dig, &dig_len))
        return -1;
    if (ref_len >= (Py_ssize_t)sizeof d->data_ref || gen_len >= (Py_ssize_t)sizeof d->gen_opaque ||
        (has_digest && dig_len != 32)) {
        PyErr_SetString(PyExc_ValueError, "the adapter's data_ref (max 4095 bytes), generation "
                                          "(max 1023) or digest (32) is too long");
        return -1;
    }
    memset(d, 0, sizeof *d);
    d->struct_size = sizeof *d;
    memcpy(d->data_ref, ref, (size_t)ref_len);
    d->data_ref[ref_len] = '\0';
    d->data_ref_len = (uint32_t)ref_len;
    d->dim = dim;
    d->gen_is_opaque = opaque ? 1 : 0;
    d->gen_num = gen_num;
    memcpy(d->gen_opaque, gen, (size_t)gen_len);
    d->gen_opaque[gen_len] = '\0';
    d->gen_len = (uint32_t)gen_len;
    d->has_digest = has_digest ? 1 : 0;
    d->count = count;
    if (has_digest)
        memcpy(d->content_digest, dig, 32);
    return 0;
}

static int desc_from(PyObject *t, struct ruv_lake_desc *d)
{
    if (lake_desc_from_tuple(t, d))
        return adapter_fail_exc("a malformed description from the adapter");
    return RUV_OK;
}

static int adapter_describe(void *state, const char *coll, struct ruv_lake_desc *out)
{
    PyGILState_STATE g = PyGILState_Ensure();
    int st = RUV_OK;
    PyObject *r = PyObject_CallMethod((PyObject *)state, "_lake_describe", "s", coll);
    if (!r)
        st = adapter_fail_exc("describe");
    else if (!failure_tuple(r, &st))
        st = desc_from(r, out);
    Py_XDECREF(r);
    PyGILState_Release(g);
    return st;
}

struct pulled {
    PyObject *result; /* the helper's tuple: keeps the arrays alive */
    array_view ids, vecs;
};

static void pulled_release(void *owner)
{
    struct pulled *p = owner;
    PyGILState_STATE g = PyGILState_Ensure();
    view_free(&p->ids);
    view_free(&p->vecs);
    Py_XDECREF(p->result);
    PyMem_Free(p);
    PyGILState_Release(g);
}

static int adapter_pull(void *state, const char *coll, struct ruv_lake_batch *out)
{
    PyGILState_STATE g = PyGILState_Ensure();
    int st = RUV_OK;
    struct pulled *p = NULL;
    PyObject *r = PyObject_CallMethod((PyObject *)state, "_lake_pull", "s", coll);
    PyObject *ids_o, *vec_o, *desc_o;
    if (!r) {
        st = adapter_fail_exc("pull_vectors");
    } else if (failure_tuple(r, &st)) {
        /* st set */
    } else if (!PyArg_ParseTuple(r, "OOO", &ids_o, &vec_o, &desc_o)) {
        st = adapter_fail_exc("a malformed pull from the adapter");
    } else if (!(p = PyMem_Calloc(1, sizeof *p))) {
        st = adapter_fail(RUV_E_NOMEM, "out of memory for a pull");
    } else if (view_ids(ids_o, "ids", 0, &p->ids) || view_f32(vec_o, "vectors", 2, &p->vecs)) {
        st = adapter_fail_exc("pulled arrays");
    } else if (p->ids.rows != p->vecs.rows) {
        st = adapter_fail(RUV_E_BACKEND, "the pull's ids and vectors differ in length");
    } else if ((st = desc_from(desc_o, &out->desc)) == RUV_OK) {
        p->result = r;
        r = NULL;
        out->n = (uint64_t)p->vecs.rows;
        out->dim = (uint32_t)p->vecs.cols;
        out->ids = p->ids.data;
        out->vectors = p->vecs.data;
        out->release = pulled_release;
        out->owner = p;
        p = NULL;
    }
    if (p) {
        view_free(&p->ids);
        view_free(&p->vecs);
        PyMem_Free(p);
    }
    Py_XDECREF(r);
    PyGILState_Release(g);
    return st;
}

static void adapter_destroy(void *state)
{
    PyGILState_STATE g = PyGILState_Ensure();
    Py_DECREF((PyObject *)state);
    PyGILState_Release(g);
}

int lake_adapter_backend(PyObject *adapter, const char *name, int threadsafe,
                         struct ruv_lake_backend *out)
{
    Py_INCREF(adapter); /* dropped by destroy, or by the caller when registering fails */
    *out = (struct ruv_lake_backend){.struct_size = sizeof *out,
                                     .flags = threadsafe ? RUV_LAKE_BACKEND_THREADSAFE : 0,
                                     .name = name,
                                     .state = adapter,
                                     .describe = adapter_describe,
                                     .pull = adapter_pull,
                                     .destroy = adapter_destroy,
                                     .last_error = adapter_last_error};
    return 0;
}
