/* ruvector._ext: EmbedModel, a model opened by the embed_onnx feature
 * plugin (include/ruvector/feature-embed.h, version 2), reached through the
 * engine that loaded the plugin. Texts become UTF-8 with the GIL held
 * (PyUnicode_AsUTF8String: the 3.9 limited API has no AsUTF8AndSize); the
 * tokenizer and ONNX Runtime run with it released, writing straight into the
 * caller's float32 array. */
#include "_ext.h"

#include <ruvector/error.h>
#include <ruvector/feature-embed.h>
#include <ruvector/plugin.h>

PyTypeObject *embed_model_type;
PyTypeObject *embed_cancel_type;

typedef struct {
    PyObject_HEAD
    ruv_embed_model *model;
    const struct ruv_embed_ops *ops;
    PyObject *engine; /* EngineObject: the plugin (and its ops) must outlive the model */
    struct ruv_embed_info info;
} EmbedModelObject;

/* A cancellation flag (feature-embed.h cancel_new): set from any thread,
 * read by the embed_into calls given it, between batches. */
typedef struct {
    PyObject_HEAD
    ruv_embed_cancel *flag;
    const struct ruv_embed_ops *ops;
    PyObject *model; /* EmbedModelObject: keeps the plugin's ops alive */
} EmbedCancelObject;

/* embed_open(engine, path, onnx_path=None, batch_size=0) -> EmbedModel.
 * The engine must have embed_onnx loaded (Engine.load_plugin). */
PyObject *mod_embed_open(PyObject *mod, PyObject *args, PyObject *kw)
{
    (void)mod;
    static char *kwlist[] = {"engine", "path", "onnx_path", "batch_size", NULL};
    PyObject *engine, *path_obj, *onnx_obj = Py_None, *batch_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!O|OO", kwlist, engine_type, &engine, &path_obj,
                                     &onnx_obj, &batch_obj))
        return NULL;
    uint32_t batch = 0;
    if (opt_u32(batch_obj, "batch_size", &batch))
        return NULL;
    const void *ops_ptr = NULL;
    void *state = NULL;
    if (engine_feature_ops(engine, "embed_onnx", RUV_FEATURE_EMBED, RUV_EMBED_OPS_SIZE_V2, 0,
                           &ops_ptr, &state))
        return NULL;
    PyObject *path_b = NULL, *onnx_b = NULL;
    if (!PyUnicode_FSConverter(path_obj, &path_b))
        return NULL;
    if (onnx_obj != Py_None && !PyUnicode_FSConverter(onnx_obj, &onnx_b)) {
        Py_DECREF(path_b);
        return NULL;
    }
    const struct ruv_embed_ops *ops = ops_ptr;
    struct ruv_embed_open_opts o = {.struct_size = sizeof o, .batch_size = batch};
    o.onnx_path = onnx_b ? PyBytes_AsString(onnx_b) : NULL;
    const char *path = PyBytes_AsString(path_b);
    ruv_embed_model *model = NULL;
    struct ruv_embed_info info = {.struct_size = sizeof info};
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ops->model_open(state, path, &o, &model);
    if (st == RUV_OK && (st = ops->model_info(model, &info)) != RUV_OK) {
        ops->model_close(model);
        model = NULL;
    }
    Py_END_ALLOW_THREADS
    Py_DECREF(path_b);
    Py_XDECREF(onnx_b);
    if (st)
        return raise_status(st);
    EmbedModelObject *self = (EmbedModelObject *)alloc_instance(embed_model_type);
    if (!self) {
        ops->model_close(model);
        return NULL;
    }
    self->model = model;
    self->ops = ops;
    self->info = info;
    Py_INCREF(engine);
    self->engine = engine;
    return (PyObject *)self;
}

static void embed_model_dealloc(PyObject *obj)
{
    EmbedModelObject *self = (EmbedModelObject *)obj;
    if (self->model)
        self->ops->model_close(self->model);
    self->model = NULL;
    Py_XDECREF(self->engine);
    free_instance(obj);
}

/* The UTF-8 bytes of a str item; TypeError naming its index otherwise. */
static PyObject *utf8_of(PyObject *item, Py_ssize_t i)
{
    if (!PyUnicode_Check(item)) {
        PyErr_Format(PyExc_TypeError, "texts[%zd] must be str, not %R", i, (PyObject *)Py_TYPE(item));
        return NULL;
    }
    return PyUnicode_AsUTF8String(item);
}

/* tokenize(text) -> list[int]: ids with [CLS]/[SEP], truncated. */
static PyObject *embed_model_tokenize(PyObject *obj, PyObject *text)
{
    EmbedModelObject *self = (EmbedModelObject *)obj;
    PyObject *b = utf8_of(text, 0);
    if (!b)
        return NULL;
    char *s = NULL;
    Py_ssize_t len = 0;
    PyBytes_AsStringAndSize(b, &s, &len);
    size_t cap = 64, n = 0;
    int64_t *ids = NULL;
    int st;
    for (;;) {
        int64_t *grown = PyMem_Realloc(ids, cap * sizeof *ids);
        if (!grown) {
            PyMem_Free(ids);
            Py_DECREF(b);
            return PyErr_NoMemory();
        }
        ids = grown;
        Py_BEGIN_ALLOW_THREADS
        st = self->ops->tokenize(self->model, s, (size_t)len, ids, cap, &n);
        Py_END_ALLOW_THREADS
        if (st != RUV_E_INVAL || n <= cap)
            break;
        cap = n; /* too small: n is what it needs */
    }
    Py_DECREF(b);
    PyObject *list = st ? raise_status(st) : PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *v = PyLong_FromLongLong(ids[i]);
        if (!v) {
            Py_CLEAR(list);
            break;
        }
        PyList_SetItem(list, (Py_ssize_t)i, v);
    }
    PyMem_Free(ids);
    return list;
}

/* new_cancel() -> EmbedCancel */
static PyObject *embed_model_new_cancel(PyObject *obj, PyObject *unused)
{
    (void)unused;
    EmbedModelObject *self = (EmbedModelObject *)obj;
    ruv_embed_cancel *flag = NULL;
    int st = self->ops->cancel_new(&flag);
    if (st)
        return st == RUV_E_NOMEM ? PyErr_NoMemory() : raise_status(st);
    EmbedCancelObject *c = (EmbedCancelObject *)alloc_instance(embed_cancel_type);
    if (!c) {
        self->ops->cancel_free(flag);
        return NULL;
    }
    c->flag = flag;
    c->ops = self->ops;
    Py_INCREF(obj);
    c->model = obj;
    return (PyObject *)c;
}

static PyObject *embed_cancel_cancel(PyObject *obj, PyObject *unused)
{
    (void)unused;
    EmbedCancelObject *c = (EmbedCancelObject *)obj;
    c->ops->cancel(c->flag);
    Py_RETURN_NONE;
}

static void embed_cancel_dealloc(PyObject *obj)
{
    EmbedCancelObject *c = (EmbedCancelObject *)obj;
    /* no embed_into is using it: each call holds a reference while it runs */
    if (c->flag)
        c->ops->cancel_free(c->flag);
    c->flag = NULL;
    Py_XDECREF(c->model);
    free_instance(obj);
}

/* embed_into(texts: list[str], out: float32 (len(texts), dim),
 *            batch_size=None, cancel=None) -> None */
static PyObject *embed_model_embed_into(PyObject *obj, PyObject *args)
{
    EmbedModelObject *self = (EmbedModelObject *)obj;
    PyObject *texts, *out_obj, *batch_obj = Py_None, *cancel_obj = Py_None;
    uint32_t batch = 0;
    if (!PyArg_ParseTuple(args, "O!O|OO", &PyList_Type, &texts, &out_obj, &batch_obj,
                          &cancel_obj) ||
        opt_u32(batch_obj, "batch_size", &batch))
        return NULL;
    if (cancel_obj != Py_None && !PyObject_TypeCheck(cancel_obj, embed_cancel_type)) {
        PyErr_Format(PyExc_TypeError, "cancel must be an EmbedCancel or None, not %R",
                     (PyObject *)Py_TYPE(cancel_obj));
        return NULL;
    }
    ruv_embed_cancel *flag = cancel_obj == Py_None ? NULL : ((EmbedCancelObject *)cancel_obj)->flag;
    Py_ssize_t n = PyList_Size(texts);
    array_view out = {0};
    if (view_get(out_obj, "out", 2, 'f', 4, 1, 0, &out))
        return NULL;
    if (out.rows != n || out.cols != (Py_ssize_t)self->info.dim) {
        view_free(&out);
        PyErr_Format(PyExc_ValueError, "out has shape (%zd, %zd), need (%zd, %u)", out.rows,
                     out.cols, n, self->info.dim);
        return NULL;
    }
    PyObject **bytes = PyMem_Calloc((size_t)(n ? n : 1), sizeof *bytes);
    const char **ptrs = PyMem_Calloc((size_t)(n ? n : 1), sizeof *ptrs);
    size_t *lens = PyMem_Calloc((size_t)(n ? n : 1), sizeof *lens);
    int ok = bytes && ptrs && lens;
    if (!ok)
        PyErr_NoMemory();
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        /* the list is not ours: hold each item's bytes, not the item */
        bytes[i] = utf8_of(PyList_GetItem(texts, i), i);
        if (!bytes[i]) {
            ok = 0;
            break;
        }
        char *s = NULL;
        Py_ssize_t len = 0;
        PyBytes_AsStringAndSize(bytes[i], &s, &len);
        ptrs[i] = s;
        lens[i] = (size_t)len;
    }
    int st = RUV_OK;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        st = self->ops->embed(self->model, ptrs, lens, (size_t)n, out.data, self->info.dim, batch,
                              flag);
        Py_END_ALLOW_THREADS
    }
    for (Py_ssize_t i = 0; bytes && i < n; i++)
        Py_XDECREF(bytes[i]);
    PyMem_Free(bytes);
    PyMem_Free(ptrs);
    PyMem_Free(lens);
    view_free(&out);
    if (!ok)
        return NULL;
    if (st)
        return raise_status(st);
    Py_RETURN_NONE;
}

static PyObject *embed_model_info(PyObject *obj, PyObject *unused)
{
    (void)unused;
    const struct ruv_embed_info *i = &((EmbedModelObject *)obj)->info;
    const char *pooling = i->pooling == RUV_EMBED_POOL_MEAN  ? "mean"
                          : i->pooling == RUV_EMBED_POOL_CLS ? "cls"
                          : i->pooling == RUV_EMBED_POOL_MAX ? "max"
                                                             : "none";
    return Py_BuildValue("{s:I,s:I,s:s,s:O,s:I,s:O}", "dim", i->dim, "max_tokens",
                         i->max_tokens, "pooling", pooling, "normalize",
                         i->normalize ? Py_True : Py_False, "batch_size", i->batch_size,
                         "from_config", i->from_config ? Py_True : Py_False);
}

static PyMethodDef embed_model_methods[] = {
    {"tokenize", embed_model_tokenize, METH_O,
     "tokenize($self, text, /)\n--\n\nToken ids with [CLS]/[SEP], truncated (GIL released)."},
    {"embed_into", embed_model_embed_into, METH_VARARGS,
     "embed_into($self, texts, out, batch_size=None, cancel=None, /)\n--\n\nEmbeds a list of "
     "str into a float32 (n, dim) array (GIL released)."},
    {"new_cancel", embed_model_new_cancel, METH_NOARGS,
     "new_cancel($self, /)\n--\n\nA cancellation flag for embed_into."},
    {"info", embed_model_info, METH_NOARGS,
     "info($self, /)\n--\n\ndim, max_tokens, pooling, normalize, batch_size, from_config."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot embed_model_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, embed_model_dealloc},
    {Py_tp_methods, embed_model_methods},
    {Py_tp_doc, "A model opened by the embed_onnx plugin (use ruvector.Embedder)."},
    {0, NULL},
};

PyType_Spec embed_model_spec = {
    "ruvector._ext.EmbedModel", sizeof(EmbedModelObject), 0, Py_TPFLAGS_DEFAULT,
    embed_model_slots,
};

static PyMethodDef embed_cancel_methods[] = {
    {"cancel", embed_cancel_cancel, METH_NOARGS,
     "cancel($self, /)\n--\n\nSets the flag: embed_into calls given it stop before their next "
     "batch with CanceledError. Any thread."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot embed_cancel_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, embed_cancel_dealloc},
    {Py_tp_methods, embed_cancel_methods},
    {Py_tp_doc, "A cancellation flag of the embed_onnx plugin (EmbedModel.new_cancel)."},
    {0, NULL},
};

PyType_Spec embed_cancel_spec = {
    "ruvector._ext.EmbedCancel", sizeof(EmbedCancelObject), 0, Py_TPFLAGS_DEFAULT,
    embed_cancel_slots,
};

/* The embed_onnx ops of version 3 (model_fetch, registry_get), or NULL with
 * the exception set. */
static const struct ruv_embed_ops *embed_ops_v3(PyObject *engine, void **state)
{
    const void *ops = NULL;
    if (engine_feature_ops(engine, "embed_onnx", RUV_FEATURE_EMBED, RUV_EMBED_OPS_SIZE_V3, 0, &ops,
                           state))
        return NULL;
    return ops;
}

/* The Python side of model_fetch's progress callback: a callable(file,
 * done, total). Its first exception (or a pending signal, e.g. Ctrl-C) is
 * kept and cancels the fetch; embed_fetch raises it afterwards. */
struct fetch_progress {
    PyObject *callable;
    PyObject *exc_type, *exc_value, *exc_tb;
};

static int fetch_progress_cb(void *ctx, const char *file, uint64_t done, uint64_t total)
{
    struct fetch_progress *p = ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    int stop = p->exc_type != NULL;
    if (!stop) {
        PyObject *r = PyErr_CheckSignals()
                          ? NULL
                          : PyObject_CallFunction(p->callable, "sKK", file, (unsigned long long)done,
                                                  (unsigned long long)total);
        if (r)
            Py_DECREF(r);
        else {
            PyErr_Fetch(&p->exc_type, &p->exc_value, &p->exc_tb);
            if (!p->exc_type) { /* a callable that failed without an exception */
                Py_INCREF(PyExc_SystemError);
                p->exc_type = PyExc_SystemError;
            }
            stop = 1;
        }
    }
    PyGILState_Release(g);
    return stop;
}

/* embed_fetch(engine, name, cache_dir=None, base_url=None, offline=False,
 * ca_file=None, progress=None) -> str: the verified local folder of a
 * registry model (GIL released while files are hashed or downloaded; taken
 * back only to call progress). */
PyObject *mod_embed_fetch(PyObject *mod, PyObject *args, PyObject *kw)
{
    (void)mod;
    static char *kwlist[] = {"engine", "name",    "cache_dir", "base_url",
                             "offline", "ca_file", "progress",  NULL};
    PyObject *engine, *cache_obj = Py_None, *ca_obj = Py_None, *progress = Py_None;
    const char *name, *base = NULL;
    int offline = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!s|OzpOO", kwlist, engine_type, &engine, &name,
                                     &cache_obj, &base, &offline, &ca_obj, &progress))
        return NULL;
    if (progress != Py_None && !PyCallable_Check(progress))
        return PyErr_Format(PyExc_TypeError, "embed_fetch: progress must be callable or None");
    void *state = NULL;
    const struct ruv_embed_ops *ops = embed_ops_v3(engine, &state);
    if (!ops)
        return NULL;
    PyObject *cache_b = NULL, *ca_b = NULL;
    if ((cache_obj != Py_None && !PyUnicode_FSConverter(cache_obj, &cache_b)) ||
        (ca_obj != Py_None && !PyUnicode_FSConverter(ca_obj, &ca_b))) {
        Py_XDECREF(cache_b);
        return NULL;
    }
    struct fetch_progress prog = {.callable = progress};
    struct ruv_embed_fetch_options o = {.struct_size = sizeof o,
                                        .flags = offline ? RUV_EMBED_FETCH_OFFLINE : 0u,
                                        .cache_dir = cache_b ? PyBytes_AsString(cache_b) : NULL,
                                        .base_url = base,
                                        .ca_file = ca_b ? PyBytes_AsString(ca_b) : NULL,
                                        .progress = progress != Py_None ? fetch_progress_cb : NULL,
                                        .progress_ctx = &prog};
    char *dir = NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = ops->model_fetch(state, name, &o, &dir);
    Py_END_ALLOW_THREADS
    Py_XDECREF(cache_b);
    Py_XDECREF(ca_b);
    if (prog.exc_type) { /* the callback's exception wins over RUV_E_CANCELED */
        ops->free_string(dir);
        PyErr_Restore(prog.exc_type, prog.exc_value, prog.exc_tb);
        return NULL;
    }
    if (st)
        return raise_status(st);
    PyObject *res = PyUnicode_DecodeFSDefault(dir);
    ops->free_string(dir);
    return res;
}

/* Sets d[key] = value (a new reference, may be NULL); -1 on failure. */
static int set_item(PyObject *d, const char *key, PyObject *value)
{
    int rc = value ? PyDict_SetItemString(d, key, value) : -1;
    Py_XDECREF(value);
    return rc;
}

static PyObject *registry_entry(const struct ruv_embed_registry_info *e)
{
    PyObject *d = PyDict_New();
    PyObject *aliases = d ? PyList_New(0) : NULL;
    for (size_t j = 0; aliases && e->aliases[j]; j++) {
        PyObject *a = PyUnicode_FromString(e->aliases[j]);
        if (!a || PyList_Append(aliases, a)) {
            Py_XDECREF(a);
            Py_CLEAR(aliases);
            break;
        }
        Py_DECREF(a);
    }
    if (!d || set_item(d, "aliases", aliases) || set_item(d, "name", PyUnicode_FromString(e->name)) ||
        set_item(d, "repo", PyUnicode_FromString(e->repo)) ||
        set_item(d, "revision", PyUnicode_FromString(e->revision)) ||
        set_item(d, "dim", PyLong_FromUnsignedLong(e->dim)) ||
        set_item(d, "max_tokens", PyLong_FromUnsignedLong(e->max_tokens)) ||
        set_item(d, "pooling", PyUnicode_FromString(e->pooling)) ||
        set_item(d, "normalize", PyBool_FromLong(e->normalize)) ||
        set_item(d, "weights", PyUnicode_FromString(e->weights)) ||
        set_item(d, "weights_file", PyUnicode_FromString(e->weights_file)) ||
        set_item(d, "licence", PyUnicode_FromString(e->licence)) ||
        set_item(d, "query_prefix", PyUnicode_FromString(e->query_prefix))) {
        Py_XDECREF(d);
        return NULL;
    }
    return d;
}

/* embed_registry(engine) -> list[dict]: the plugin's registry entries. */
PyObject *mod_embed_registry(PyObject *mod, PyObject *engine)
{
    (void)mod;
    if (!PyObject_TypeCheck(engine, engine_type))
        return PyErr_Format(PyExc_TypeError, "embed_registry needs an Engine");
    void *state = NULL;
    const struct ruv_embed_ops *ops = embed_ops_v3(engine, &state);
    if (!ops)
        return NULL;
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list; i++) {
        struct ruv_embed_registry_info e = {.struct_size = sizeof e};
        int st = ops->registry_get(state, i, &e);
        if (st == RUV_E_NOTFOUND)
            break;
        if (st) {
            Py_DECREF(list);
            return raise_status(st);
        }
        PyObject *d = registry_entry(&e);
        if (!d || PyList_Append(list, d)) {
            Py_XDECREF(d);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(d);
    }
    return list;
}
