/* ruvector._ext: ruLake's built-in backends, the LakeLocal (in-memory
 * LocalBackend) and LakeFs (FsBackend over ruvec2/ruvec1 files) types. Both
 * live in the rulake plugin; these objects hold a reference to one and to
 * the engine that loaded the plugin. Rows go in without a copy on this
 * side (the backend copies them, GIL released). */
#include "_ext.h"

#include <ruvector/error.h>
#include <ruvector/feature-lake.h>

typedef struct {
    PyObject_HEAD
    PyObject *engine;
    const struct ruv_lake_ops *ops;
    struct ruv_lake_local *lb;
} LocalObject;

typedef struct {
    PyObject_HEAD
    PyObject *engine;
    const struct ruv_lake_ops *ops;
    struct ruv_lake_fs *fb;
} FsObject;

/* local_new(engine, name) -> LakeLocal */
PyObject *mod_lake_local_new(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *engine;
    const char *name;
    if (!PyArg_ParseTuple(args, "Os", &engine, &name))
        return NULL;
    const struct ruv_lake_ops *ops;
    void *ps;
    if (lake_plugin_ops(engine, &ops, &ps))
        return NULL;
    struct ruv_lake_local *lb = NULL;
    int st = ops->local_new(ps, name, &lb);
    if (st)
        return raise_status(st);
    LocalObject *self = (LocalObject *)alloc_instance(lake_local_type);
    if (!self) {
        ops->local_release(lb);
        return NULL;
    }
    Py_INCREF(engine);
    self->engine = engine;
    self->ops = ops;
    self->lb = lb;
    return (PyObject *)self;
}

static void local_dealloc(PyObject *obj)
{
    LocalObject *self = (LocalObject *)obj;
    if (self->lb)
        self->ops->local_release(self->lb);
    Py_XDECREF(self->engine);
    free_instance(obj);
}

struct ruv_lake_local *lake_local_handle(PyObject *obj) { return ((LocalObject *)obj)->lb; }

/* upsert(collection, ids, vectors, replace) -> None: ids uint64 (n,),
 * vectors float32 (n, dim); replace: put_collection (the whole collection). */
static PyObject *local_put(PyObject *obj, PyObject *args)
{
    LocalObject *self = (LocalObject *)obj;
    const char *coll;
    PyObject *ids_o, *vec_o;
    int replace;
    if (!PyArg_ParseTuple(args, "sOOp", &coll, &ids_o, &vec_o, &replace))
        return NULL;
    array_view ids = {0}, v = {0};
    PyObject *result = NULL;
    if (view_ids(ids_o, "ids", 0, &ids) || view_f32(vec_o, "vectors", 2, &v))
        goto done;
    if (ids.rows != v.rows) {
        PyErr_Format(PyExc_ValueError, "%zd ids for %zd vectors", ids.rows, v.rows);
        goto done;
    }
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = (replace ? self->ops->local_put_collection : self->ops->local_upsert)(
        self->lb, coll, ids.data, v.data, (uint64_t)v.rows, (uint32_t)v.cols);
    if (st)
        save_detail(detail);
    Py_END_ALLOW_THREADS
    if (st)
        raise_detail(st, detail);
    else
        result = (Py_INCREF(Py_None), Py_None);
done:
    view_free(&ids);
    view_free(&v);
    return result;
}

/* delete(collection, ids) -> int (rows removed) */
static PyObject *local_delete(PyObject *obj, PyObject *args)
{
    LocalObject *self = (LocalObject *)obj;
    const char *coll;
    PyObject *ids_o;
    if (!PyArg_ParseTuple(args, "sO", &coll, &ids_o))
        return NULL;
    array_view ids = {0};
    if (view_ids(ids_o, "ids", 0, &ids))
        return NULL;
    uint64_t removed = 0;
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = self->ops->local_delete(self->lb, coll, ids.data, (uint64_t)ids.rows, &removed);
    if (st)
        save_detail(detail);
    Py_END_ALLOW_THREADS
    view_free(&ids);
    if (st)
        return raise_detail(st, detail);
    return PyLong_FromUnsignedLongLong(removed);
}

static PyObject *local_drop(PyObject *obj, PyObject *args)
{
    LocalObject *self = (LocalObject *)obj;
    const char *coll;
    if (!PyArg_ParseTuple(args, "s", &coll))
        return NULL;
    int st = self->ops->local_drop_collection(self->lb, coll);
    if (st)
        return raise_status(st);
    Py_RETURN_NONE;
}

static PyMethodDef local_methods[] = {
    {"put", local_put, METH_VARARGS,
     "put($self, collection, ids, vectors, replace, /)\n--\n\nUpserts rows, or replaces the "
     "collection."},
    {"delete", local_delete, METH_VARARGS,
     "delete($self, collection, ids, /)\n--\n\nDeletes ids; returns how many were present."},
    {"drop", local_drop, METH_VARARGS, "drop($self, collection, /)\n--\n\nDrops a collection."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot local_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, local_dealloc},
    {Py_tp_methods, local_methods},
    {Py_tp_doc, "ruLake's in-memory backend (use ruvector.LocalBackend)."},
    {0, NULL},
};

PyType_Spec lake_local_spec = {
    "ruvector._ext.LakeLocal", sizeof(LocalObject), 0, Py_TPFLAGS_DEFAULT, local_slots,
};

/* ---- FsBackend ---- */

/* fs_new(engine, name, root) -> LakeFs */
PyObject *mod_lake_fs_new(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *engine, *root_o, *root_b = NULL;
    const char *name;
    if (!PyArg_ParseTuple(args, "OsO&", &engine, &name, PyUnicode_FSConverter, &root_o))
        return NULL;
    root_b = root_o;
    const struct ruv_lake_ops *ops;
    void *ps;
    PyObject *result = NULL;
    if (lake_plugin_ops(engine, &ops, &ps))
        goto done;
    struct ruv_lake_fs *fb = NULL;
    int st = ops->fs_new(ps, name, PyBytes_AsString(root_b), &fb);
    if (st) {
        raise_status(st);
        goto done;
    }
    FsObject *self = (FsObject *)alloc_instance(lake_fs_type);
    if (!self) {
        ops->fs_release(fb);
        goto done;
    }
    Py_INCREF(engine);
    self->engine = engine;
    self->ops = ops;
    self->fb = fb;
    result = (PyObject *)self;
done:
    Py_XDECREF(root_b);
    return result;
}

static void fs_dealloc(PyObject *obj)
{
    FsObject *self = (FsObject *)obj;
    if (self->fb)
        self->ops->fs_release(self->fb);
    Py_XDECREF(self->engine);
    free_instance(obj);
}

struct ruv_lake_fs *lake_fs_handle(PyObject *obj) { return ((FsObject *)obj)->fb; }

static PyObject *fs_register(PyObject *obj, PyObject *args)
{
    FsObject *self = (FsObject *)obj;
    const char *coll, *file;
    if (!PyArg_ParseTuple(args, "ss", &coll, &file))
        return NULL;
    int st = self->ops->fs_register(self->fb, coll, file);
    if (st)
        return raise_status(st);
    Py_RETURN_NONE;
}

/* write(filename, ids, vectors) -> None (durable, GIL released) */
static PyObject *fs_write(PyObject *obj, PyObject *args)
{
    FsObject *self = (FsObject *)obj;
    const char *file;
    PyObject *ids_o, *vec_o, *result = NULL;
    if (!PyArg_ParseTuple(args, "sOO", &file, &ids_o, &vec_o))
        return NULL;
    array_view ids = {0}, v = {0};
    if (view_ids(ids_o, "ids", 0, &ids) || view_f32(vec_o, "vectors", 2, &v))
        goto done;
    if (ids.rows != v.rows) {
        PyErr_Format(PyExc_ValueError, "%zd ids for %zd vectors", ids.rows, v.rows);
        goto done;
    }
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = self->ops->fs_write(self->fb, file, ids.data, v.data, (uint64_t)v.rows,
                             (uint32_t)v.cols);
    if (st)
        save_detail(detail);
    Py_END_ALLOW_THREADS
    if (st)
        raise_detail(st, detail);
    else
        result = (Py_INCREF(Py_None), Py_None);
done:
    view_free(&ids);
    view_free(&v);
    return result;
}

static PyMethodDef fs_methods[] = {
    {"register", fs_register, METH_VARARGS,
     "register($self, collection, filename, /)\n--\n\nNames the file of a collection."},
    {"write", fs_write, METH_VARARGS,
     "write($self, filename, ids, vectors, /)\n--\n\nWrites a ruvec2 file durably."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot fs_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, fs_dealloc},
    {Py_tp_methods, fs_methods},
    {Py_tp_doc, "ruLake's file backend (use ruvector.FsBackend)."},
    {0, NULL},
};

PyType_Spec lake_fs_spec = {
    "ruvector._ext.LakeFs", sizeof(FsObject), 0, Py_TPFLAGS_DEFAULT, fs_slots,
};
