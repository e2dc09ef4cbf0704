/* ruvector._ext: the bridge to the `a2a` feature plugin's client
 * (<ruvector/feature-a2a.h>). The engine loads the plugin late and hands
 * out its ops table. connect_sync's discovery is the plugin's blocking
 * client_open (GIL released); the calls and streams, sync or async, run on
 * the plugin's I/O thread (submit, poll, wait: _ext_a2a_client.c).
 *
 * Results travel as one tuple, (status, error, rpc_code, http_status,
 * request_sent, detail, payload): payload is the JSON text (or handle) on
 * success, and on failure the peer's JSON-RPC error object when it sent one.
 * ruvector/a2a.py turns failures into its error tree, which needs the
 * fields a bare status cannot carry.
 *
 * Locking: a client is used by one thread at a time (the plugin's rule),
 * so each handle has a mutex, waited on with the GIL released; only wait
 * runs without it (ops->wait may be called while other threads submit and
 * poll), and the client outlives every wait in progress. */
#include "_ext_a2a.h"

#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>
#include <ruvector/feature-a2a.h>
#include <ruvector/plugin.h>

PyTypeObject *a2a_handle_type;
PyTypeObject *a2a_budget_type;

/* (status, error, rpc_code, http_status, request_sent, detail, payload);
 * payload is stolen (NULL: None). */
PyObject *a2a_outcome(int status, const struct ruv_a2a_call_status *st, const char *detail,
                      PyObject *payload)
{
    if (!payload) {
        payload = Py_None;
        Py_INCREF(payload);
    }
    PyObject *d = detail ? PyUnicode_DecodeUTF8(detail, (Py_ssize_t)strlen(detail), "replace")
                         : (Py_INCREF(Py_None), Py_None);
    if (!d) {
        Py_DECREF(payload);
        return NULL;
    }
    PyObject *t = Py_BuildValue("(iIiiiNN)", status, st->error, (int)st->rpc_code,
                                (int)st->http_status, (int)st->request_sent, d, payload);
    return t;
}

/* A plugin string as a Python str (then freed); NULL: None. */
PyObject *a2a_take_string(const struct ruv_a2a_ops *ops, char *s)
{
    if (!s) {
        Py_RETURN_NONE;
    }
    PyObject *o = PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
    ops->free_string(s);
    return o;
}

void a2a_status_init(struct ruv_a2a_call_status *st)
{
    memset(st, 0, sizeof *st);
    st->struct_size = sizeof *st;
}

/* ---- C copies of Python arguments (alive while the GIL is released) ---- */

void a2a_strvec_free(strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = 0;
}

/* A malloc'd UTF-8 copy of str s (PyUnicode_AsUTF8AndSize is not in the
 * 3.9 limited API, so through bytes). NULL with an error set. */
char *a2a_copy_utf8(PyObject *s)
{
    PyObject *b = PyUnicode_AsUTF8String(s);
    if (!b)
        return NULL;
    char *u;
    Py_ssize_t n;
    char *d = NULL;
    if (PyBytes_AsStringAndSize(b, &u, &n) == 0) {
        if (memchr(u, '\0', (size_t)n))
            PyErr_SetString(PyExc_ValueError, "string holds a NUL character");
        else if (!(d = malloc((size_t)n + 1)))
            PyErr_NoMemory();
        else
            memcpy(d, u, (size_t)n + 1);
    }
    Py_DECREF(b);
    return d;
}

/* A sequence of str into sv; None is empty. 0, or -1 with an error set. */
int a2a_strvec_from(PyObject *seq, const char *what, strvec *sv)
{
    sv->v = NULL;
    sv->n = 0;
    if (seq == Py_None)
        return 0;
    Py_ssize_t n = PySequence_Size(seq);
    if (n < 0)
        return -1;
    sv->v = calloc(n ? (size_t)n : 1, sizeof *sv->v);
    if (!sv->v) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_GetItem(seq, i);
        if (!item)
            break;
        if (!PyUnicode_Check(item))
            PyErr_Format(PyExc_TypeError, "%s must hold str", what);
        else
            sv->v[i] = a2a_copy_utf8(item);
        Py_DECREF(item);
        if (!sv->v[i])
            break;
        sv->n = (size_t)i + 1;
    }
    if (PyErr_Occurred()) {
        a2a_strvec_free(sv);
        return -1;
    }
    return 0;
}

/* ---- the plugin ---- */

/* The a2a ops of engine, loading the plugin late when needed. 0, or -1
 * with the engine's error raised. */
static int a2a_ops_of(PyObject *engine, const struct ruv_a2a_ops **ops, void **pstate)
{
    const void *vops = NULL;
    if (engine_feature_ops(engine, "a2a", RUV_FEATURE_A2A, RUV_A2A_OPS_SIZE_V2, 1, &vops, pstate))
        return -1;
    *ops = vops;
    return 0;
}

/* a2a_budget_new(engine, max_usd, max_tokens, max_tasks, window_ms, queue_depth) */
PyObject *mod_a2a_budget_new(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *engine;
    double max_usd;
    long long max_tokens, max_tasks, window_ms;
    unsigned int depth;
    if (!PyArg_ParseTuple(args, "O!dLLLI", engine_type, &engine, &max_usd, &max_tokens,
                          &max_tasks, &window_ms, &depth))
        return NULL;
    const struct ruv_a2a_ops *ops;
    void *pstate;
    if (a2a_ops_of(engine, &ops, &pstate))
        return NULL;
    struct ruv_a2a_budget_options o = {.struct_size = sizeof o,
                                       .queue_depth = depth,
                                       .max_usd_per_window = max_usd,
                                       .max_tokens_per_window = max_tokens,
                                       .max_tasks_per_window = max_tasks,
                                       .window_ms = window_ms};
    struct ruv_a2a_budget *b = NULL;
    int rc = ops->budget_new(pstate, &o, &b);
    if (rc)
        return raise_status(rc);
    A2aBudgetHandle *h = (A2aBudgetHandle *)alloc_instance(a2a_budget_type);
    if (!h) {
        ops->budget_free(b);
        return NULL;
    }
    h->ops = ops;
    h->b = b;
    h->engine = engine;
    Py_INCREF(engine);
    return (PyObject *)h;
}

static void budget_dealloc(PyObject *obj)
{
    A2aBudgetHandle *h = (A2aBudgetHandle *)obj;
    if (h->b)
        h->ops->budget_free(h->b);
    Py_XDECREF(h->engine);
    free_instance(obj);
}

static PyType_Slot budget_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, budget_dealloc},
    {Py_tp_doc, "A global A2A budget of the a2a plugin (private: use ruvector.a2a.GlobalBudget)."},
    {0, NULL},
};

PyType_Spec a2a_budget_spec = {
    "ruvector._ext.A2aBudgetHandle", sizeof(A2aBudgetHandle), 0, Py_TPFLAGS_DEFAULT, budget_slots,
};

/* ---- connect ---- */

/* a2a_connect(engine, url, flags, protocol, agent_ids, pinned, ca_file,
 *             authorization, connect_ms, unary_ms, idle_ms, event_ms, max_body,
 *             max_event[, trusted_jku[, submit[, proxy[, compression]]]])
 * pinned: sequence of (kid, key_text, not_after, revoked). submit true: the
 * discovery runs on the plugin's I/O thread (ops V4) and the payload is
 * (handle, req), the handle not yet connected until req's event. */
PyObject *mod_a2a_connect(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *engine, *url_o, *ids_o, *pinned_o, *ca_o, *auth_o, *jku_o = Py_None;
    unsigned int flags, protocol;
    int connect_ms, unary_ms, idle_ms, event_ms, submit = 0;
    unsigned long long max_body, max_event;
    PyObject *proxy_o = Py_None;
    int compression = 0;
    if (!PyArg_ParseTuple(args, "O!UIIOOOOiiiiKK|OpOp", engine_type, &engine, &url_o, &flags,
                          &protocol, &ids_o, &pinned_o, &ca_o, &auth_o, &connect_ms, &unary_ms,
                          &idle_ms, &event_ms, &max_body, &max_event, &jku_o, &submit, &proxy_o,
                          &compression))
        return NULL;
    if (compression)
        flags |= RUV_A2A_COMPRESSION;
    const struct ruv_a2a_ops *ops;
    void *pstate;
    if (a2a_ops_of(engine, &ops, &pstate))
        return NULL;
    int rc;
    char detail[DETAIL_SIZE] = "";

    strvec ids = {0}, kids = {0}, keys = {0}, jku = {0};
    struct ruv_a2a_pinned_key *pk = NULL;
    const struct ruv_a2a_pinned_key **pkp = NULL;
    char *url = NULL, *ca = NULL, *auth = NULL, *proxy = NULL;
    A2aHandle *h = NULL;
    PyObject *result = NULL;
    if (submit && ops->struct_size < RUV_A2A_OPS_SIZE_V4) {
        PyErr_SetString(PyExc_RuntimeError, "the loaded a2a plugin cannot connect on its I/O "
                                            "thread (ops V4); update ruvector-agent");
        return NULL;
    }
    if (a2a_strvec_from(ids_o, "agent_ids", &ids) ||
        a2a_strvec_from(jku_o, "trusted_jku", &jku) || !(url = a2a_copy_utf8(url_o)) ||
        (ca_o != Py_None && !(ca = a2a_copy_utf8(ca_o))) ||
        (auth_o != Py_None && !(auth = a2a_copy_utf8(auth_o))) ||
        (proxy_o != Py_None && !(proxy = a2a_copy_utf8(proxy_o))))
        goto out;
    Py_ssize_t npk = PySequence_Size(pinned_o);
    if (npk < 0)
        goto out;
    pk = calloc(npk ? (size_t)npk : 1, sizeof *pk);
    pkp = calloc(npk ? (size_t)npk : 1, sizeof *pkp);
    kids.v = calloc(npk ? (size_t)npk : 1, sizeof(char *));
    keys.v = calloc(npk ? (size_t)npk : 1, sizeof(char *));
    if (!pk || !pkp || !kids.v || !keys.v) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < npk; i++) {
        PyObject *kid, *key;
        long long not_after;
        int revoked;
        PyObject *item = PySequence_GetItem(pinned_o, i);
        int ok = item && PyArg_ParseTuple(item, "UULp", &kid, &key, &not_after, &revoked);
        Py_XDECREF(item); /* kid and key stay alive: the tuple lives in pinned_o */
        if (!ok)
            goto out;
        if (!(kids.v[i] = a2a_copy_utf8(kid)))
            goto out;
        kids.n = (size_t)i + 1;
        if (!(keys.v[i] = a2a_copy_utf8(key)))
            goto out;
        keys.n = (size_t)i + 1;
        pk[i] = (struct ruv_a2a_pinned_key){.struct_size = sizeof pk[i], .revoked = revoked,
                                            .kid = kids.v[i], .key = keys.v[i],
                                            .not_after = (int64_t)not_after};
        pkp[i] = &pk[i];
    }
    struct ruv_a2a_options vo = {.struct_size = sizeof vo,
                                 .pinned_keys = pkp,
                                 .n_pinned_keys = (size_t)npk,
                                 .agent_ids = (const char *const *)ids.v,
                                 .n_agent_ids = ids.n,
                                 .trusted_jku = (const char *const *)jku.v,
                                 .n_trusted_jku = jku.n};
    struct ruv_a2a_client_options o = {.struct_size = sizeof o,
                                       .flags = flags,
                                       .protocol = protocol,
                                       .verify = &vo,
                                       .ca_file = ca,
                                       .authorization = auth,
                                       .connect_timeout_ms = connect_ms,
                                       .unary_timeout_ms = unary_ms,
                                       .idle_timeout_ms = idle_ms,
                                       .event_timeout_ms = event_ms,
                                       .max_body_bytes = max_body,
                                       .max_event_bytes = max_event,
                                       .proxy = proxy};
    h = (A2aHandle *)alloc_instance(a2a_handle_type);
    if (!h)
        goto out;
    if (pthread_mutex_init(&h->lock, NULL) != 0) {
        PyErr_SetString(PyExc_OSError, "pthread_mutex_init failed");
        goto out;
    }
    h->lock_ready = 1;
    h->ops = ops;
    h->engine = engine;
    Py_INCREF(engine);
    struct ruv_a2a_call_status st;
    a2a_status_init(&st);
    struct ruv_a2a_client *c = NULL;
    uint64_t req = 0;
    if (submit) {
        /* Returns at once (never waits on the network): no GIL release. */
        rc = ops->client_open_submit(pstate, url, &o, &c, &req, &st);
        if (rc)
            save_detail(detail);
    } else {
        Py_BEGIN_ALLOW_THREADS
        rc = ops->client_open(pstate, url, &o, &c, &st);
        if (rc)
            save_detail(detail);
        Py_END_ALLOW_THREADS
    }
    if (rc) {
        result = a2a_outcome(rc, &st, detail, NULL);
    } else if (submit) {
        h->c = c;
        PyObject *pair = Py_BuildValue("(OK)", (PyObject *)h, (unsigned long long)req);
        result = pair ? a2a_outcome(RUV_OK, &st, NULL, pair) : NULL;
    } else {
        h->c = c;
        Py_INCREF(h);
        result = a2a_outcome(RUV_OK, &st, NULL, (PyObject *)h);
    }
out:
    Py_XDECREF((PyObject *)h);
    a2a_strvec_free(&ids);
    a2a_strvec_free(&kids);
    a2a_strvec_free(&keys);
    a2a_strvec_free(&jku);
    free(pk);
    free(pkp);
    free(url);
    free(ca);
    free(auth);
    free(proxy);
    return result;
}

