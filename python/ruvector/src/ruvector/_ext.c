/* ruvector._ext — the CPython binding of libruvector: the module, its
 * functions and state. The parts are listed in _ext.h. */
#include "_ext.h"

#include <ruvector/cpu.h>
#include <ruvector/error.h>
#include <ruvector/version.h>

PyObject *error_map;
PyObject *error_base;
PyObject *hit_type;
PyTypeObject *engine_type;
PyTypeObject *index_type;
PyTypeObject *export_type;

static PyObject *mod_version(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    return PyUnicode_FromString(ruv_version_string());
}

/* cpu_features() -> dict[str, bool] over every ISA bit this build names. */
static PyObject *mod_cpu_features(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    uint64_t have = ruv_cpu_isa(), known = ruv_isa_known();
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    for (int b = 0; b < 64; b++) {
        uint64_t bit = UINT64_C(1) << b;
        const char *name = (known & bit) ? ruv_isa_name(bit) : NULL;
        if (!name || bit == RUV_ISA_TEST_IMPOSSIBLE)
            continue;
        if (PyDict_SetItemString(d, name, (have & bit) ? Py_True : Py_False)) {
            Py_DECREF(d);
            return NULL;
        }
    }
    return d;
}

static PyObject *mod_status_name(PyObject *mod, PyObject *arg)
{
    (void)mod;
    long st = PyLong_AsLong(arg);
    if (st == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(ruv_status_name((int)st));
}

static PyObject *mod_status_str(PyObject *mod, PyObject *arg)
{
    (void)mod;
    long st = PyLong_AsLong(arg);
    if (st == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(ruv_status_str((int)st));
}

/* _init(errors: dict[int, type], fallback: type, hit: type) -> None
 * The exception classes and the result tuple are defined in Python, where
 * they are easier to document and to type; the module raises them. */
static PyObject *mod_init(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *errors, *fallback, *hit;
    if (!PyArg_ParseTuple(args, "O!OO", &PyDict_Type, &errors, &fallback, &hit))
        return NULL;
    PyObject *old_map = error_map, *old_base = error_base, *old_hit = hit_type;
    Py_INCREF(errors);
    Py_INCREF(fallback);
    Py_INCREF(hit);
    error_map = errors;
    error_base = fallback;
    hit_type = hit;
    Py_XDECREF(old_map);
    Py_XDECREF(old_base);
    Py_XDECREF(old_hit);
    Py_RETURN_NONE;
}

/* raise_status(status, detail): raises as the engine's errors do (tests). */
static PyObject *mod_raise_status(PyObject *mod, PyObject *args)
{
    (void)mod;
    int st;
    const char *detail;
    if (!PyArg_ParseTuple(args, "is", &st, &detail))
        return NULL;
    return raise_detail(st, detail);
}

static PyMethodDef module_methods[] = {
    {"version", mod_version, METH_NOARGS, "version($module, /)\n--\n\nruv_version_string()."},
    {"cpu_features", mod_cpu_features, METH_NOARGS,
     "cpu_features($module, /)\n--\n\nEvery named ISA bit and whether this CPU has it."},
    {"status_name", mod_status_name, METH_O, "status_name($module, status, /)\n--\n\nruv_status_name()."},
    {"status_str", mod_status_str, METH_O, "status_str($module, status, /)\n--\n\nruv_status_str()."},
    {"index_new", (PyCFunction)(void (*)(void))mod_index_new, METH_VARARGS | METH_KEYWORDS,
     "index_new($module, engine, *, type, metric, dim, bits=None, nlist=None, query_bits=None, "
     "rerank_factor=None, train_size=None, kmeans_iters=None, seed=None, epsilon=None, "
     "target_recall=None, nprobe=None)\n--\n\nAn empty index."},
    {"index_build", (PyCFunction)(void (*)(void))mod_index_build, METH_VARARGS | METH_KEYWORDS,
     "index_build($module, engine, vectors, ids, *, type, metric, dim=None, bits=None, "
     "nlist=None, query_bits=None, rerank_factor=None, train_size=None, kmeans_iters=None, "
     "seed=None, epsilon=None, target_recall=None, nprobe=None, fewest_bits=False)\n--\n\n"
     "Builds from float32 (n, dim) vectors (GIL released); fewest_bits: the narrowest "
     "codes-only build that reaches target_recall."},
    {"index_load", mod_index_load, METH_VARARGS,
     "index_load($module, engine, path, /)\n--\n\nLoads a saved index (GIL released)."},
    {"lake_open", mod_lake_open, METH_VARARGS,
     "lake_open($module, engine, consistency, ttl_ms, rerank_factor, metric, bits, nlist, seed, "
     "max_entries, max_bytes, threads, public_keys, signing_key, /)\n--\n\n"
     "Opens a ruLake on engine (loads rulake)."},
    {"lake_key_from_pem", mod_lake_key_from_pem, METH_VARARGS,
     "lake_key_from_pem($module, engine, pem, private_key, /)\n--\n\n"
     "The raw 32-byte Ed25519 key of a PEM text (libcrypto's PEM readers)."},
    {"lake_bundle_verify", mod_lake_bundle_verify, METH_VARARGS,
     "lake_bundle_verify($module, engine, dir, public_keys, /)\n--\n\n"
     "Reads and checks a bundle directory's sidecar; (v1, v2) witnesses as hex."},
    {"lake_local_new", mod_lake_local_new, METH_VARARGS,
     "lake_local_new($module, engine, name, /)\n--\n\nA new in-memory LocalBackend."},
    {"lake_fs_new", mod_lake_fs_new, METH_VARARGS,
     "lake_fs_new($module, engine, name, root, /)\n--\n\nA new FsBackend over root."},
    {"a2a_connect", mod_a2a_connect, METH_VARARGS,
     "a2a_connect($module, engine, url, flags, protocol, agent_ids, pinned, ca_file, "
     "authorization, connect_ms, unary_ms, idle_ms, event_ms, max_body, max_event, "
     "trusted_jku=None, submit=False, proxy=None, compression=False, /)\n--\n\n"
     "Connects the a2a plugin's client (GIL released); an outcome tuple. submit: the "
     "discovery runs on the plugin's I/O thread and the payload is (handle, req)."},
    {"a2a_budget_new", mod_a2a_budget_new, METH_VARARGS,
     "a2a_budget_new($module, engine, max_usd, max_tokens, max_tasks, window_ms, queue_depth, "
     "/)\n--\n\nA global budget of the a2a plugin (negative caps: none)."},
    {"embed_open", (PyCFunction)(void (*)(void))mod_embed_open, METH_VARARGS | METH_KEYWORDS,
     "embed_open($module, engine, path, onnx_path=None, batch_size=None)\n--\n\n"
     "Opens a model directory with the engine's embed_onnx plugin (GIL released)."},
    {"embed_fetch", (PyCFunction)(void (*)(void))mod_embed_fetch, METH_VARARGS | METH_KEYWORDS,
     "embed_fetch($module, engine, name, cache_dir=None, base_url=None, offline=False, "
     "ca_file=None, progress=None)\n--\n\n"
     "The verified local folder of a registry model, downloaded if allowed (GIL released)."},
    {"embed_registry", mod_embed_registry, METH_O,
     "embed_registry($module, engine, /)\n--\n\nThe embed_onnx plugin's registry entries."},
    {"_init", mod_init, METH_VARARGS,
     "_init($module, errors, fallback, hit, /)\n--\n\nRegisters the exception classes and "
     "the result tuple."},
    {"_raise_status", mod_raise_status, METH_VARARGS,
     "_raise_status($module, status, detail, /)\n--\n\nRaises like a failing engine call "
     "(tests)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "ruvector._ext", "libruvector binding (private: use ruvector).", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

static int add_type(PyObject *m, const char *name, PyType_Spec *spec, PyTypeObject **out)
{
    PyObject *t = PyType_FromSpec(spec);
    if (!t)
        return -1;
    *out = (PyTypeObject *)t;
    Py_INCREF(t); /* one reference for the static pointer, one for the module */
    if (PyModule_AddObject(m, name, t)) {
        Py_DECREF(t);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__ext(void);
PyMODINIT_FUNC PyInit__ext(void)
{
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    if (add_type(m, "Engine", &engine_spec, &engine_type) ||
        add_type(m, "Index", &index_spec, &index_type) ||
        add_type(m, "VectorsExport", &export_spec, &export_type) ||
        add_type(m, "Lake", &lake_spec, &lake_type) ||
        add_type(m, "LakeLocal", &lake_local_spec, &lake_local_type) ||
        add_type(m, "LakeFs", &lake_fs_spec, &lake_fs_type) ||
        add_type(m, "A2aHandle", &a2a_handle_spec, &a2a_handle_type) ||
        add_type(m, "A2aBudgetHandle", &a2a_budget_spec, &a2a_budget_type) ||
        add_type(m, "EmbedModel", &embed_model_spec, &embed_model_type) ||
        add_type(m, "EmbedCancel", &embed_cancel_spec, &embed_cancel_type) ||
        PyModule_AddIntConstant(m, "VERSION_HEX", (long)ruv_version()) ||
        PyModule_AddIntConstant(m, "HEADER_VERSION_HEX", (long)RUV_VERSION_HEX) || call_init()) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
