/* ruvector._ext: C statuses become instances of the exception classes the
 * Python layer registers with _init() (see _ext.h). */
#include "_ext.h"

#include <string.h>

#include <ruvector/error.h>

PyObject *make_exception(int status, const char *detail)
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

PyObject *raise_detail(int status, const char *detail)
{
    PyObject *exc = make_exception(status, detail);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

void save_detail(char *buf)
{
    const char *d = ruv_last_error();
    size_t len = strlen(d);
    if (len >= DETAIL_SIZE)
        len = DETAIL_SIZE - 1;
    memcpy(buf, d, len);
    buf[len] = '\0';
}

PyObject *raise_status(int status)
{
    char detail[DETAIL_SIZE];
    save_detail(detail);
    return raise_detail(status, detail);
}
