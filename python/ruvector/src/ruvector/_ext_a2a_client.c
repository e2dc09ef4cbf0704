/* ruvector._ext: the A2A client and stream handles (A2aHandle,
 * A2aStreamHandle) over the a2a plugin's client: blocking calls (ops V2)
 * and, for asyncio, calls on the plugin's I/O thread (ops V3: submit, the
 * notify fd, poll, abort); see _ext_a2a.c for the outcome tuples and the
 * locking rules. */
#include "_ext_a2a.h"

#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

/* ---- the client handle ---- */

static void handle_free_client(A2aHandle *h)
{
    if (h->c) {
        h->ops->client_close(h->c);
        h->c = NULL;
    }
}

static void handle_dealloc(PyObject *obj)
{
    A2aHandle *h = (A2aHandle *)obj;
    handle_free_client(h);
    if (h->lock_ready)
        pthread_mutex_destroy(&h->lock);
    Py_XDECREF(h->engine);
    free_instance(obj);
}

static int handle_live(A2aHandle *h)
{
    if (!h->c || h->close_asked) {
        raise_detail(RUV_E_STATE, "a2a: the client is closed");
        return 0;
    }
    return 1;
}

static PyObject *handle_info(PyObject *obj, PyObject *unused)
{
    (void)unused;
    A2aHandle *h = (A2aHandle *)obj;
    if (!handle_live(h))
        return NULL;
    char *json = NULL;
    int rc;
    char detail[DETAIL_SIZE] = "";
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&h->lock);
    rc = h->ops->client_info(h->c, &json);
    if (rc)
        save_detail(detail);
    pthread_mutex_unlock(&h->lock);
    Py_END_ALLOW_THREADS
    if (rc)
        return raise_detail(rc, detail);
    return a2a_take_string(h->ops, json);
}

/* policy: None or (skill, allowed_skills, max_tokens, max_cost_usd,
 * estimated_tokens, estimated_cost_usd, depth, max_call_depth, visited,
 * budget, max_concurrency); the budget handle stays alive with the caller's
 * argument tuple. */
typedef struct {
    struct ruv_a2a_policy p;
    char *skill;
    strvec allowed, visited;
    int set;
} policy_copy;

static void policy_free(policy_copy *pc)
{
    free(pc->skill);
    a2a_strvec_free(&pc->allowed);
    a2a_strvec_free(&pc->visited);
}

static int policy_from(PyObject *o, policy_copy *pc)
{
    memset(pc, 0, sizeof *pc);
    if (o == Py_None)
        return 0;
    PyObject *skill, *allowed, *visited, *budget;
    long long max_tokens, est_tokens;
    double max_cost, est_cost;
    int depth, max_depth;
    unsigned int max_concurrency;
    if (!PyArg_ParseTuple(o, "OOLdLdiiOOI", &skill, &allowed, &max_tokens, &max_cost, &est_tokens,
                          &est_cost, &depth, &max_depth, &visited, &budget, &max_concurrency))
        return -1;
    if (budget != Py_None && !PyObject_TypeCheck(budget, a2a_budget_type)) {
        PyErr_SetString(PyExc_TypeError, "policy budget must be an A2aBudgetHandle or None");
        return -1;
    }
    if ((skill != Py_None && !(pc->skill = a2a_copy_utf8(skill))) ||
        a2a_strvec_from(allowed, "allowed_skills", &pc->allowed) ||
        a2a_strvec_from(visited, "visited_agents", &pc->visited)) {
        policy_free(pc);
        return -1;
    }
    pc->p = (struct ruv_a2a_policy){.struct_size = sizeof pc->p,
                                    .skill = pc->skill,
                                    .allowed_skills = (const char *const *)pc->allowed.v,
                                    .n_allowed_skills = pc->allowed.n,
                                    .max_tokens = max_tokens,
                                    .max_cost_usd = max_cost,
                                    .estimated_tokens = est_tokens,
                                    .estimated_cost_usd = est_cost,
                                    .depth = depth,
                                    .max_call_depth = max_depth,
                                    .visited_agents = (const char *const *)pc->visited.v,
                                    .n_visited_agents = pc->visited.n,
                                    .budget = budget == Py_None
                                                  ? NULL
                                                  : ((A2aBudgetHandle *)budget)->b,
                                    .max_concurrency = max_concurrency};
    pc->set = 1;
    return 0;
}

/* The arguments (method, params_json, policy) of call and stream_open, on
 * a live client, with params and the policy copied; the caller frees them
 * with policy_free and free. 0, or -1 with an error set and nothing held. */
static int call_args(A2aHandle *h, PyObject *args, unsigned int *method, char **params,
                     policy_copy *pc)
{
    PyObject *params_o, *policy_o;
    if (!PyArg_ParseTuple(args, "IUO", method, &params_o, &policy_o) || !handle_live(h) ||
        !(*params = a2a_copy_utf8(params_o)))
        return -1;
    if (policy_from(policy_o, pc)) {
        free(*params);
        return -1;
    }
    return 0;
}

/* call(method, params_json, policy) -> outcome with the result JSON */
static PyObject *handle_call(PyObject *obj, PyObject *args)
{
    A2aHandle *h = (A2aHandle *)obj;
    unsigned int method;
    char *params;
    policy_copy pc;
    if (call_args(h, args, &method, &params, &pc))
        return NULL;
    struct ruv_a2a_call_status st;
    a2a_status_init(&st);
    char *result = NULL, detail[DETAIL_SIZE] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&h->lock);
    rc = h->ops->call(h->c, method, params, strlen(params), pc.set ? &pc.p : NULL, &result, &st);
    if (rc)
        save_detail(detail);
    pthread_mutex_unlock(&h->lock);
    Py_END_ALLOW_THREADS
    free(params);
    policy_free(&pc);
    PyObject *payload = a2a_take_string(h->ops, result);
    if (!payload)
        return NULL;
    return a2a_outcome(rc, &st, rc ? detail : NULL, payload);
}

/* stream_open(method, params_json, policy) -> outcome with a stream handle */
static PyObject *handle_stream_open(PyObject *obj, PyObject *args)
{
    A2aHandle *h = (A2aHandle *)obj;
    unsigned int method;
    char *params;
    policy_copy pc;
    if (call_args(h, args, &method, &params, &pc))
        return NULL;
    A2aStreamHandle *sh = (A2aStreamHandle *)alloc_instance(a2a_stream_type);
    if (sh && pthread_mutex_init(&sh->lock, NULL) != 0) {
        Py_DECREF(sh);
        sh = NULL;
        PyErr_SetString(PyExc_OSError, "pthread_mutex_init failed");
    }
    if (!sh) {
        free(params);
        policy_free(&pc);
        return NULL;
    }
    sh->lock_ready = 1;
    struct ruv_a2a_call_status st;
    a2a_status_init(&st);
    char *result = NULL, detail[DETAIL_SIZE] = "";
    struct ruv_a2a_stream *s = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&h->lock);
    rc = h->ops->stream_open(h->c, method, params, strlen(params), pc.set ? &pc.p : NULL, &s,
                             &result, &st);
    if (rc)
        save_detail(detail);
    pthread_mutex_unlock(&h->lock);
    Py_END_ALLOW_THREADS
    free(params);
    policy_free(&pc);
    if (rc) {
        Py_DECREF(sh);
        PyObject *payload = a2a_take_string(h->ops, result);
        return payload ? a2a_outcome(rc, &st, detail, payload) : NULL;
    }
    sh->s = s;
    sh->handle = obj;
    Py_INCREF(obj);
    h->streams++;
    return a2a_outcome(RUV_OK, &st, NULL, (PyObject *)sh);
}

/* ---- asynchronous calls (ops V3): nothing here waits on the network ---- */

static int handle_async(A2aHandle *h)
{
    if (!handle_live(h))
        return 0;
    if (h->ops->struct_size < RUV_A2A_OPS_SIZE_V3) {
        raise_detail(RUV_E_UNSUPPORTED, "a2a: this a2a plugin has no asynchronous calls (ops "
                                        "V3); install a matching ruvector-agent");
        return 0;
    }
    return 1;
}

/* notify_fd() -> the fd the event loop watches (readable while events wait) */
static PyObject *handle_notify_fd(PyObject *obj, PyObject *unused)
{
    (void)unused;
    A2aHandle *h = (A2aHandle *)obj;
    if (!handle_async(h))
        return NULL;
    int fd;
    char detail[DETAIL_SIZE] = "";
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&h->lock);
    fd = h->ops->notify_fd(h->c);
    if (fd < 0)
        save_detail(detail);
    pthread_mutex_unlock(&h->lock);
    Py_END_ALLOW_THREADS
    if (fd < 0)
        return raise_detail(fd, detail);
    return PyLong_FromLong(fd);
}

/* submit and stream_submit: the same arguments and outcome, only the op
 * differs (stream nonzero: stream_submit). */
static PyObject *submit_with(A2aHandle *h, PyObject *args, int stream)
{
    unsigned int method;
    char *params;
    policy_copy pc;
    if (!handle_async(h) || call_args(h, args, &method, &params, &pc))
        return NULL;
    struct ruv_a2a_call_status st;
    a2a_status_init(&st);
    char detail[DETAIL_SIZE] = "";
    uint64_t req = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&h->lock);
    rc = (stream ? h->ops->stream_submit : h->ops->call_submit)(
        h->c, method, params, strlen(params), pc.set ? &pc.p : NULL, &req, &st);
    if (rc)
        save_detail(detail);
    pthread_mutex_unlock(&h->lock);
    Py_END_ALLOW_THREADS
    free(params);
    policy_free(&pc);
    if (rc)
        return a2a_outcome(rc, &st, detail, NULL);
    PyObject *r = PyLong_FromUnsignedLongLong(req);
    return r ? a2a_outcome(RUV_OK, &st, NULL, r) : NULL;
}

/* submit(method, params_json, policy) -> outcome whose payload is the
 * request id; a pre-flight refusal is a failed outcome, nothing queued. */
static PyObject *handle_submit(PyObject *obj, PyObject *args)
{
    return submit_with((A2aHandle *)obj, args, 0);
}

/* stream_submit(method, params_json, policy) -> outcome whose payload is
 * the request id; its events then come through poll. */
static PyObject *handle_stream_submit(PyObject *obj, PyObject *args)
{
    return submit_with((A2aHandle *)obj, args, 1);
}

/* credit(req, n): the consumer took n events of stream req. */
static PyObject *handle_credit(PyObject *obj, PyObject *args)
{
    A2aHandle *h = (A2aHandle *)obj;
    unsigned long long req;
    unsigned int n;
    if (!PyArg_ParseTuple(args, "KI", &req, &n))
        return NULL;
    if (!h->c || h->ops->struct_size < RUV_A2A_OPS_SIZE_V3)
        Py_RETURN_NONE;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&h->lock);
    h->ops->credit(h->c, (uint64_t)req, n);
    pthread_mutex_unlock(&h->lock);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* One event as (req, kind, outcome). */
static PyObject *event_tuple(const struct ruv_a2a_event *ev)
{
    struct ruv_a2a_call_status st;
    a2a_status_init(&st);
    st.error = ev->error;
    st.rpc_code = ev->rpc_code;
    st.http_status = ev->http_status;
    st.request_sent = ev->request_sent;
    PyObject *payload = NULL;
    if (ev->json &&
        !(payload = PyUnicode_DecodeUTF8(ev->json, (Py_ssize_t)ev->json_len, "replace")))
        return NULL;
    PyObject *out = a2a_outcome(ev->status, &st, ev->status ? ev->detail : NULL, payload);
    if (!out)
        return NULL;
    return Py_BuildValue("(KIN)", (unsigned long long)ev->req, (unsigned int)ev->kind, out);
}

#define POLL_BATCH_MAX 1024

/* poll(max) -> [(req, kind, outcome), ...]: at most max events, never
 * blocking. kind: 2 a call's result, 3 a stream event, 4 a stream's end. */
static PyObject *handle_poll(PyObject *obj, PyObject *args)
{
    A2aHandle *h = (A2aHandle *)obj;
    Py_ssize_t max;
    if (!PyArg_ParseTuple(args, "n", &max) || !handle_async(h))
        return NULL;
    if (max < 1 || max > POLL_BATCH_MAX) {
        PyErr_Format(PyExc_ValueError, "poll: max must be 1..%d", POLL_BATCH_MAX);
        return NULL;
    }
    struct ruv_a2a_event *evs = PyMem_Malloc((size_t)max * sizeof *evs);
    if (!evs)
        return PyErr_NoMemory();
    size_t n;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&h->lock);
    n = h->ops->poll(h->c, evs, (size_t)max);
    pthread_mutex_unlock(&h->lock);
    Py_END_ALLOW_THREADS
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *t = event_tuple(&evs[i]);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SetItem(list, (Py_ssize_t)i, t); /* steals t */
    }
    h->ops->release(h->c, evs, n);
    PyMem_Free(evs);
    return list;
}

/* wait(timeout_ms) -> True once an event is queued, False on timeout
 * (ops->wait, for the sync methods; the GIL is released meanwhile). The
 * plugin client stays alive until it returns: a close() meanwhile frees
 * it after, as after the last open stream. */
static PyObject *handle_wait(PyObject *obj, PyObject *args)
{
    A2aHandle *h = (A2aHandle *)obj;
    int timeout_ms;
    if (!PyArg_ParseTuple(args, "i", &timeout_ms) || !handle_async(h))
        return NULL;
    h->streams++; /* counted under the GIL, as the streams are */
    char detail[DETAIL_SIZE] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = h->ops->wait(h->c, timeout_ms);
    if (rc < 0)
        save_detail(detail);
    Py_END_ALLOW_THREADS
    if (--h->streams == 0 && h->close_asked) {
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&h->lock);
        handle_free_client(h);
        pthread_mutex_unlock(&h->lock);
        Py_END_ALLOW_THREADS
    }
    if (rc < 0)
        return raise_detail(rc, detail);
    return PyBool_FromLong(rc > 0);
}

/* abort(req): the I/O thread removes the transfer; its event then says
 * canceled. Unknown or finished ids are ignored. */
static PyObject *handle_abort(PyObject *obj, PyObject *args)
{
    A2aHandle *h = (A2aHandle *)obj;
    unsigned long long req;
    if (!PyArg_ParseTuple(args, "K", &req))
        return NULL;
    if (!h->c || h->ops->struct_size < RUV_A2A_OPS_SIZE_V3)
        Py_RETURN_NONE; /* closed: its calls were aborted with it */
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&h->lock);
    h->ops->abort(h->c, (uint64_t)req);
    pthread_mutex_unlock(&h->lock);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *handle_close(PyObject *obj, PyObject *unused)
{
    (void)unused;
    A2aHandle *h = (A2aHandle *)obj;
    h->close_asked = 1;
    if (h->streams == 0 && h->c) {
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&h->lock);
        handle_free_client(h);
        pthread_mutex_unlock(&h->lock);
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}

static PyMethodDef handle_methods[] = {
    {"info", handle_info, METH_NOARGS, "info($self, /)\n--\n\nclient_info() as JSON text."},
    {"call", handle_call, METH_VARARGS,
     "call($self, method, params, policy, /)\n--\n\nOne unary call; an outcome tuple."},
    {"stream_open", handle_stream_open, METH_VARARGS,
     "stream_open($self, method, params, policy, /)\n--\n\nOpens a stream; an outcome tuple."},
    {"notify_fd", handle_notify_fd, METH_NOARGS,
     "notify_fd($self, /)\n--\n\nThe fd that is readable while events wait."},
    {"submit", handle_submit, METH_VARARGS,
     "submit($self, method, params, policy, /)\n--\n\nQueues a unary call on the I/O "
     "thread; an outcome tuple with the request id."},
    {"stream_submit", handle_stream_submit, METH_VARARGS,
     "stream_submit($self, method, params, policy, /)\n--\n\nQueues a stream on the I/O "
     "thread; an outcome tuple with the request id."},
    {"credit", handle_credit, METH_VARARGS,
     "credit($self, req, n, /)\n--\n\nThe consumer took n events of stream req."},
    {"poll", handle_poll, METH_VARARGS,
     "poll($self, max, /)\n--\n\nUp to max (req, kind, outcome) triples; never blocks."},
    {"wait", handle_wait, METH_VARARGS,
     "wait($self, timeout_ms, /)\n--\n\nBlocks (GIL released) until an event is queued "
     "(True) or timeout_ms passes (False)."},
    {"abort", handle_abort, METH_VARARGS,
     "abort($self, req, /)\n--\n\nAborts a call in flight."},
    {"close", handle_close, METH_NOARGS,
     "close($self, /)\n--\n\nFrees the client (after its last stream)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot handle_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, handle_dealloc},
    {Py_tp_methods, handle_methods},
    {Py_tp_doc, "A connected A2A client of the a2a plugin (private: use ruvector.A2aClient)."},
    {0, NULL},
};

PyType_Spec a2a_handle_spec = {
    "ruvector._ext.A2aHandle", sizeof(A2aHandle), 0, Py_TPFLAGS_DEFAULT, handle_slots,
};

/* ---- streams ---- */

static void stream_release(A2aStreamHandle *sh)
{
    if (!sh->s)
        return;
    A2aHandle *h = (A2aHandle *)sh->handle;
    h->ops->stream_close(sh->s);
    sh->s = NULL;
    if (--h->streams == 0 && h->close_asked)
        handle_free_client(h);
}

static void stream_dealloc(PyObject *obj)
{
    A2aStreamHandle *sh = (A2aStreamHandle *)obj;
    if (sh->handle)
        stream_release(sh);
    if (sh->lock_ready)
        pthread_mutex_destroy(&sh->lock);
    Py_XDECREF(sh->handle);
    free_instance(obj);
}

/* next() -> outcome: payload the event JSON; status RUV_E_NOTFOUND at the end. */
static PyObject *stream_next(PyObject *obj, PyObject *unused)
{
    (void)unused;
    A2aStreamHandle *sh = (A2aStreamHandle *)obj;
    if (!sh->s)
        return raise_detail(RUV_E_STATE, "a2a: the stream is closed");
    A2aHandle *h = (A2aHandle *)sh->handle;
    struct ruv_a2a_call_status st;
    a2a_status_init(&st);
    char *event = NULL, detail[DETAIL_SIZE] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&sh->lock);
    rc = h->ops->stream_next(sh->s, &event, &st);
    if (rc)
        save_detail(detail);
    pthread_mutex_unlock(&sh->lock);
    Py_END_ALLOW_THREADS
    PyObject *payload = a2a_take_string(h->ops, event);
    if (!payload)
        return NULL;
    return a2a_outcome(rc, &st, rc ? detail : NULL, payload);
}

static PyObject *stream_close_m(PyObject *obj, PyObject *unused)
{
    (void)unused;
    A2aStreamHandle *sh = (A2aStreamHandle *)obj;
    if (sh->s) {
        /* A closing stream never waits on its peer; only on a concurrent next. */
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&sh->lock);
        Py_END_ALLOW_THREADS
        stream_release(sh);
        pthread_mutex_unlock(&sh->lock);
    }
    Py_RETURN_NONE;
}

static PyMethodDef stream_methods[] = {
    {"next", stream_next, METH_NOARGS,
     "next($self, /)\n--\n\nBlocks (GIL released) for the next event; an outcome tuple."},
    {"close", stream_close_m, METH_NOARGS, "close($self, /)\n--\n\nAborts and frees the stream."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot stream_slots[] = {
    {Py_tp_new, no_new},
    {Py_tp_dealloc, stream_dealloc},
    {Py_tp_methods, stream_methods},
    {Py_tp_doc, "An open A2A stream (private: use ruvector.A2aClient.stream_task)."},
    {0, NULL},
};

PyType_Spec a2a_stream_spec = {
    "ruvector._ext.A2aStreamHandle", sizeof(A2aStreamHandle), 0, Py_TPFLAGS_DEFAULT,
    stream_slots,
};
