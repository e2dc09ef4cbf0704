/* ruvector._ext: Ed25519 keys in PEM for RuLake.builder() (public_key,
 * signing_key), read by the rulake plugin's key_from_pem (ops v4) through
 * libcrypto's PEM readers. */
#include "_ext.h"

#include <ruvector/error.h>
#include <ruvector/feature-lake.h>

/* lake_key_from_pem(engine, pem: bytes, private_key: bool) -> bytes (32)
 * The plugin's key_from_pem (ops v4): RUV_E_INVAL names what is wrong. */
PyObject *mod_lake_key_from_pem(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *engine;
    const char *pem;
    Py_ssize_t len;
    int private_key;
    if (!PyArg_ParseTuple(args, "Oy#p", &engine, &pem, &len, &private_key))
        return NULL;
    const struct ruv_lake_ops *ops;
    void *ps;
    if (lake_plugin_ops(engine, &ops, &ps))
        return NULL;
    if (ops->struct_size < RUV_LAKE_OPS_SIZE_V4) {
        PyErr_SetString(PyExc_RuntimeError, "the loaded rulake plugin predates PEM keys");
        return NULL;
    }
    uint8_t raw[32];
    char detail[DETAIL_SIZE] = "";
    int st = ops->key_from_pem(ps, pem, (size_t)len, private_key, raw);
    if (st) {
        save_detail(detail);
        return raise_detail(st, detail);
    }
    PyObject *out = PyBytes_FromStringAndSize((const char *)raw, 32);
    volatile uint8_t *secret = raw;
    for (size_t i = 0; i < sizeof raw; i++)
        secret[i] = 0;
    return out;
}
