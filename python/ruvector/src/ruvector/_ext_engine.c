/* ruvector._ext: the Engine type, one libruvector engine (ruv_engine). */
#include "_ext.h"

#include <ruvector/error.h>

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

/* A plugin name as UTF-8 bytes (a new reference), or NULL with TypeError. */
static PyObject *plugin_name(PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "plugin name must be str");
        return NULL;
    }
    return PyUnicode_AsUTF8String(arg);
}

static PyObject *engine_feature_loaded(PyObject *self, PyObject *arg)
{
    PyObject *b = plugin_name(arg);
    if (!b)
        return NULL;
    const void *ops = NULL;
    void *state = NULL;
    int st = ruv_engine_feature(((EngineObject *)self)->eng, PyBytes_AsString(b), &ops, &state);
    Py_DECREF(b);
    return PyBool_FromLong(st == RUV_OK);
}

int engine_feature_ops(PyObject *engine, const char *plugin, unsigned feature, size_t min_size,
                       int load_late, const void **ops, void **state)
{
    if (!PyObject_TypeCheck(engine, engine_type)) {
        PyErr_SetString(PyExc_TypeError, "engine must be a ruvector._ext.Engine");
        return -1;
    }
    ruv_engine *eng = ((EngineObject *)engine)->eng;
    char detail[DETAIL_SIZE] = "";
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ruv_engine_feature_get(eng, plugin, feature, min_size, ops, state);
    if (st == RUV_E_NOTFOUND && load_late && (st = ruv_engine_load_plugin(eng, plugin)) == RUV_OK)
        st = ruv_engine_feature_get(eng, plugin, feature, min_size, ops, state);
    if (st)
        save_detail(detail);
    Py_END_ALLOW_THREADS
    if (st) {
        raise_detail(st, detail);
        return -1;
    }
    return 0;
}

/* Late loading (ruv_engine_load_plugin): a feature plugin into an open
 * engine, the GIL released while its init runs. */
static PyObject *engine_load_plugin(PyObject *self, PyObject *arg)
{
    PyObject *b = plugin_name(arg);
    if (!b)
        return NULL;
    int st;
    ruv_engine *eng = ((EngineObject *)self)->eng;
    const char *name = PyBytes_AsString(b);
    Py_BEGIN_ALLOW_THREADS
    st = ruv_engine_load_plugin(eng, name);
    Py_END_ALLOW_THREADS
    Py_DECREF(b);
    if (st)
        return raise_status(st);
    Py_RETURN_NONE;
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
    {"load_plugin", engine_load_plugin, METH_O,
     "load_plugin($self, name, /)\n--\n\nLoads a feature plugin into this open engine."},
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

PyType_Spec engine_spec = {
    "ruvector._ext.Engine", sizeof(EngineObject), 0, Py_TPFLAGS_DEFAULT, engine_slots,
};

