/* ruvector._ext: arguments. Optional ints, and arrays read through the
 * array interface protocol's __array_struct__ (see _ext.h). */
#include "_ext.h"

#include <string.h>

int opt_uint(PyObject *o, const char *name, unsigned long long max, unsigned long long *out)
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

int opt_u32(PyObject *o, const char *name, uint32_t *out)
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

void view_free(array_view *v)
{
    Py_CLEAR(v->capsule);
}

int view_get(PyObject *obj, const char *what, int ndim, char kind, int size, int writable,
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

int view_f32(PyObject *obj, const char *what, int ndim, array_view *v)
{
    if (view_get(obj, what, ndim, 'f', 4, 0, 0, v))
        return -1;
    if (ndim == 1) { /* a single vector: rows=1, cols=dim */
        v->cols = v->rows;
        v->rows = 1;
    }
    return 0;
}

int view_ids(PyObject *obj, const char *what, int allow_none, array_view *v)
{
    return view_get(obj, what, 1, 'u', 8, 0, allow_none, v);
}

PyObject *alloc_instance(PyTypeObject *tp)
{
    allocfunc alloc = (allocfunc)PyType_GetSlot(tp, Py_tp_alloc);
    return alloc(tp, 0);
}

void free_instance(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    f(self);
    Py_DECREF(tp); /* instances of heap types own a reference to their type */
}

PyObject *no_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    (void)args;
    (void)kw;
    PyErr_Format(PyExc_TypeError, "cannot create %R instances directly", (PyObject *)tp);
    return NULL;
}
