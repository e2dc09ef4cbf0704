/* ruvector._ext: the A2A client handle (A2aHandle) over the a2a plugin's
 * client: calls and streams on the plugin's I/O thread (ops V3: submit,
 * the notify fd, poll, wait, credit, abort), for asyncio and for the sync
 * methods alike; see _ext_a2a.c for the outcome tuples and the locking
 * rules. */
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

/* The arguments (method, params_json, policy) of submit and stream_submit, on
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
 * it after. */
static PyObject *handle_wait(PyObject *obj, PyObject *args)
{
    A2aHandle *h = (A2aHandle *)obj;
    int timeout_ms;
    if (!PyArg_ParseTuple(args, "i", &timeout_ms) || !handle_async(h))
        return NULL;
    h->waits++; /* counted under the GIL */
    char detail[DETAIL_SIZE] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = h->ops->wait(h->c, timeout_ms);
    if (rc < 0)
        save_detail(detail);
    Py_END_ALLOW_THREADS
    if (--h->waits == 0 && h->close_asked) {
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
    if (h->waits == 0 && h->c) {
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
     "close($self, /)\n--\n\nFrees the client (after the last wait returns)."},
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

