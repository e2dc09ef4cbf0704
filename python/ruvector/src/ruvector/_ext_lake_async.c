/* ruvector._ext: Lake.submit, submit_one, poll and cancel, behind RuLake's
 * *_async methods. A request runs on the engine's pool (the plugin's submit op):
 * no thread per call, no second event loop. Everything the request points
 * at (targets, query and output arrays, hits) lives in one struct until
 * its result is taken.
 *
 * A finished request does not take the GIL on the pool thread: done fills
 * the output arrays, queues the request on the lake and, when the queue
 * was empty, makes notify_fd readable. The event loops using the lake read
 * that fd (add_reader) and take the results with poll, which builds them
 * and frees the requests under the GIL the loop holds anyway; each result
 * carries the token its submit was given (RuLake's awaiting future). A pool
 * thread that waited for the GIL sat idle behind the loop's Python for up
 * to the interpreter's switch interval (5 ms) per result, and every result
 * was one more wake-up of the loop; now the pool runs the next request at
 * once and one wake-up hands over every result queued by then.
 *
 * supplies (the plugin's submit_supplied, ops v4) carry what RuLake got
 * itself on the caller's event loop from a BackendAdapter with async
 * methods: per target (flags, description or None, pulled rows or None);
 * poll then says per target what was still lacking (needs). */
#include "_ext.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <ruvector/error.h>
#include <ruvector/feature-lake.h>

struct pending {
    struct ruv_lake_query q;
    struct ruv_lake_target *t;
    PyObject **hold;
    Py_ssize_t nt;
    array_view qv, ids, scores, tg, nh;
    struct ruv_lake_hit *hits;
    int32_t *tst;
    char (*tdet)[256];
    PyObject *token; /* poll hands it back: RuLake passes the awaiting future */
    uint32_t own_nh;  /* submit_one: the hit count (no output arrays) */
    int own_out;      /* submit_one: hits come back as lists, not in arrays */
    struct ruv_lake_supply *sup; /* nt, or NULL */
    struct ruv_lake_desc *descs; /* nt: the given descriptions */
    struct ruv_lake_batch *rows; /* nt: the given pulls */
    array_view *rids, *rvecs;    /* nt each: the pulled arrays, borrowed */
    struct lake_done *queue;     /* where done puts the finished request */
    struct pending *next;        /* in that queue */
    int status;
    char detail[DETAIL_SIZE];
};

struct lake_done {
    struct pending *head, *tail; /* under done_mu */
    int fd[2]; /* a pipe: [0] is notify_fd, [1] gets a byte when head goes from NULL */
};

/* One lock for every lake's queue (a list append or take, a few
 * instructions, so lakes do not contend in practice) so that one
 * pthread_atfork handler covers them all: a fork while a pool thread held a
 * per-lake lock would leave the child's poll() waiting forever, since the
 * thread that would unlock it does not exist there. The forking thread
 * takes the lock before fork() and releases it on both sides. */
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t done_atfork_once = PTHREAD_ONCE_INIT;
static void done_lock(void) { pthread_mutex_lock(&done_mu); }
static void done_unlock(void) { pthread_mutex_unlock(&done_mu); }
static void done_atfork(void) { pthread_atfork(done_lock, done_unlock, done_unlock); }

static int nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
    return fl < 0 || fdfl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
                   fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0
               ? -1
               : 0;
}

int lake_done_init(LakeObject *self)
{
    struct lake_done *d = PyMem_Calloc(1, sizeof *d);
    if (!d) {
        PyErr_NoMemory();
        return -1;
    }
    if (pipe(d->fd) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        PyMem_Free(d);
        return -1;
    }
    if (nonblocking(d->fd[0]) || nonblocking(d->fd[1])) {
        PyErr_SetFromErrno(PyExc_OSError);
        close(d->fd[0]);
        close(d->fd[1]);
        PyMem_Free(d);
        return -1;
    }
    pthread_once(&done_atfork_once, done_atfork);
    self->done = d;
    return 0;
}

/* With the GIL. */
static void pending_free(struct pending *p)
{
    if (!p)
        return;
    lake_drop_holds(p->hold, p->hold ? 2 * p->nt : 0);
    view_free(&p->qv);
    view_free(&p->ids);
    view_free(&p->scores);
    view_free(&p->tg);
    view_free(&p->nh);
    PyMem_Free(p->hold);
    PyMem_Free(p->t);
    PyMem_Free(p->hits);
    PyMem_Free(p->tst);
    PyMem_Free(p->tdet);
    Py_XDECREF(p->token);
    for (Py_ssize_t i = 0; p->rids && p->rvecs && i < p->nt; i++) {
        view_free(&p->rids[i]);
        view_free(&p->rvecs[i]);
    }
    PyMem_Free(p->rids);
    PyMem_Free(p->rvecs);
    PyMem_Free(p->sup);
    PyMem_Free(p->descs);
    PyMem_Free(p->rows);
    PyMem_Free(p);
}

/* supplies: a tuple of nt items, each None or (flags, description tuple
 * or None, (ids, vectors, description tuple) or None). 0, or -1 with an
 * exception set. */
static int parse_supplies(struct pending *p, PyObject *supplies)
{
    if (!PyTuple_Check(supplies) || PyTuple_Size(supplies) != p->nt) {
        PyErr_SetString(PyExc_TypeError, "supplies must be a tuple with one item per target");
        return -1;
    }
    size_t nt = (size_t)p->nt;
    p->sup = PyMem_Calloc(nt, sizeof *p->sup);
    p->descs = PyMem_Calloc(nt, sizeof *p->descs);
    p->rows = PyMem_Calloc(nt, sizeof *p->rows);
    p->rids = PyMem_Calloc(nt, sizeof *p->rids);
    p->rvecs = PyMem_Calloc(nt, sizeof *p->rvecs);
    if (!p->sup || !p->descs || !p->rows || !p->rids || !p->rvecs) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < p->nt; i++) {
        struct ruv_lake_supply *s = &p->sup[i];
        s->struct_size = sizeof *s;
        PyObject *item = PyTuple_GetItem(supplies, i), *desc_o, *pulled_o;
        unsigned int flags;
        if (item == Py_None)
            continue;
        if (!PyArg_ParseTuple(item, "IOO", &flags, &desc_o, &pulled_o))
            return -1;
        s->flags = flags;
        if (desc_o != Py_None) {
            if (lake_desc_from_tuple(desc_o, &p->descs[i]))
                return -1;
            s->desc = &p->descs[i];
        }
        if (pulled_o != Py_None) {
            PyObject *ids_o, *vec_o, *pdesc_o;
            struct ruv_lake_batch *b = &p->rows[i];
            if (!PyArg_ParseTuple(pulled_o, "OOO", &ids_o, &vec_o, &pdesc_o) ||
                view_ids(ids_o, "ids", 0, &p->rids[i]) ||
                view_f32(vec_o, "vectors", 2, &p->rvecs[i]) ||
                lake_desc_from_tuple(pdesc_o, &b->desc))
                return -1;
            if (p->rids[i].rows != p->rvecs[i].rows || p->rvecs[i].cols > UINT32_MAX) {
                PyErr_SetString(PyExc_ValueError, "the pull's ids and vectors differ in length");
                return -1;
            }
            b->struct_size = sizeof *b;
            b->n = (uint64_t)p->rvecs[i].rows;
            b->dim = (uint32_t)p->rvecs[i].cols;
            b->ids = p->rids[i].data;
            b->vectors = p->rvecs[i].data;
            s->batch = b;
        }
    }
    return 0;
}

void lake_done_free(LakeObject *self)
{
    struct lake_done *d = self->done;
    if (!d)
        return;
    self->done = NULL;
    while (d->head) { /* results no loop took (the loop closed first) */
        struct pending *p = d->head;
        d->head = p->next;
        pending_free(p);
    }
    close(d->fd[0]);
    close(d->fd[1]);
    PyMem_Free(d);
}

/* On the pool thread that ran the request (or the submitting thread when
 * the pool had no worker), GIL not held: the outputs, then the queue. */
static void pending_done(void *ctx, int status)
{
    struct pending *p = ctx;
    p->status = status;
    p->detail[0] = '\0';
    if (status)
        save_detail(p->detail);
    else if (!p->own_out)
        lake_fill_outputs(p->hits, (size_t)p->qv.rows, p->q.k, p->ids.data, p->scores.data,
                          p->tg.data, p->nh.data);
    struct lake_done *d = p->queue;
    p->next = NULL;
    done_lock();
    int was_empty = d->head == NULL;
    if (d->tail)
        d->tail->next = p;
    else
        d->head = p;
    d->tail = p;
    done_unlock();
    if (was_empty) {
        /* a full pipe is readable already; nothing else can fail here */
        const char one = 1;
        ssize_t w = write(d->fd[1], &one, 1);
        (void)w;
    }
}

PyObject *lake_notify_fd(PyObject *obj, PyObject *unused)
{
    (void)unused;
    LakeObject *self = (LakeObject *)obj;
    return PyLong_FromLong(self->done->fd[0]);
}

/* submit_one's hits as ([ids], [scores]), best first. */
static PyObject *own_hits(const struct pending *p)
{
    uint32_t n = p->own_nh < p->q.k ? p->own_nh : p->q.k;
    PyObject *ids = PyList_New(n), *scores = ids ? PyList_New(n) : NULL;
    for (uint32_t i = 0; scores && i < n; i++) {
        PyObject *id = PyLong_FromUnsignedLongLong(p->hits[i].id);
        PyObject *sc = id ? PyFloat_FromDouble((double)p->hits[i].score) : NULL;
        if (!sc) {
            Py_XDECREF(id);
            Py_CLEAR(scores);
            break;
        }
        PyList_SetItem(ids, i, id); /* steals; a fresh list has room */
        PyList_SetItem(scores, i, sc);
    }
    PyObject *out = scores ? Py_BuildValue("(OO)", ids, scores) : NULL;
    Py_XDECREF(ids);
    Py_XDECREF(scores);
    return out;
}

/* One finished request as (token, status, detail, statuses, hits); frees
 * it. hits: ([ids], [scores]) for submit_one when it succeeded, else None
 * (submit's hits are in its output arrays). */
static PyObject *pending_result(struct pending *p)
{
    PyObject *statuses = PyList_New(p->nt);
    for (Py_ssize_t i = 0; statuses && i < p->nt; i++) {
        PyObject *pair = Py_BuildValue("(isI)", (int)p->tst[i], p->tdet[i],
                                       p->sup ? (unsigned int)p->sup[i].needs : 0u);
        if (!pair || PyList_SetItem(statuses, i, pair))
            Py_CLEAR(statuses);
    }
    PyObject *hits = Py_None;
    Py_INCREF(hits);
    if (statuses && p->own_out && p->status == 0) {
        Py_DECREF(hits);
        hits = own_hits(p);
    }
    PyObject *out = statuses && hits ? Py_BuildValue("(OisOO)", p->token, p->status, p->detail,
                                                     statuses, hits)
                                     : NULL;
    Py_XDECREF(statuses);
    Py_XDECREF(hits);
    pending_free(p);
    return out;
}

/* poll(max) -> [(token, status, detail, statuses, hits)], at most max,
 * oldest first. The fd stays readable while results remain. */
PyObject *lake_poll(PyObject *obj, PyObject *args)
{
    LakeObject *self = (LakeObject *)obj;
    Py_ssize_t max;
    if (!PyArg_ParseTuple(args, "n", &max))
        return NULL;
    if (max < 1) {
        PyErr_SetString(PyExc_ValueError, "max must be >= 1");
        return NULL;
    }
    struct lake_done *d = self->done;
    char buf[64];
    while (read(d->fd[0], buf, sizeof buf) > 0)
        ;
    struct pending *got = NULL, *last = NULL;
    Py_ssize_t n = 0;
    done_lock();
    got = d->head;
    for (struct pending *p = d->head; p && n < max; p = p->next) {
        last = p;
        n++;
    }
    if (last) {
        d->head = last->next;
        last->next = NULL;
        if (!d->head)
            d->tail = NULL;
    }
    int more = d->head != NULL;
    done_unlock();
    if (more) { /* the rest at the loop's next turn */
        const char one = 1;
        ssize_t w = write(d->fd[1], &one, 1);
        (void)w;
    }
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; got; i++) {
        struct pending *p = got;
        got = p->next;
        PyObject *r = out ? pending_result(p) : NULL;
        if (!out)
            pending_free(p);
        else if (!r || PyList_SetItem(out, i, r))
            Py_CLEAR(out); /* the rest are still freed */
    }
    return out;
}

/* A request for nt targets holding token: NULL with an exception set. */
static struct pending *pending_new(LakeObject *self, Py_ssize_t nt, PyObject *token)
{
    struct pending *p = PyMem_Calloc(1, sizeof *p);
    if (!p) {
        PyErr_NoMemory();
        return NULL;
    }
    p->queue = self->done;
    p->nt = nt;
    Py_INCREF(token);
    p->token = token;
    p->t = PyMem_Calloc((size_t)nt, sizeof *p->t);
    p->hold = PyMem_Calloc((size_t)nt * 2, sizeof *p->hold);
    p->tst = PyMem_Calloc((size_t)nt, sizeof *p->tst);
    p->tdet = PyMem_Calloc((size_t)nt, 256);
    if (!p->t || !p->hold || !p->tst || !p->tdet) {
        PyErr_NoMemory();
        pending_free(p);
        return NULL;
    }
    return p;
}

/* Hands p (its query filled in) to the plugin: the ticket, or NULL with an
 * exception set and p freed. */
static PyObject *pending_start(LakeObject *self, struct pending *p)
{
    uint64_t ticket = 0;
    char detail[DETAIL_SIZE] = "";
    int st;
    /* Without the GIL: with no pool worker the request runs right here, and
     * a BackendAdapter's methods take the GIL. */
    Py_BEGIN_ALLOW_THREADS
    pthread_rwlock_rdlock(&self->lock);
    if (!self->lake)
        st = RUV_E_STATE;
    else if (p->sup)
        st = self->ops->submit_supplied(self->lake, &p->q, p->sup, pending_done, p, &ticket);
    else
        st = self->ops->submit(self->lake, &p->q, pending_done, p, &ticket);
    if (st)
        save_detail(detail);
    pthread_rwlock_unlock(&self->lock);
    Py_END_ALLOW_THREADS
    if (st) {
        raise_detail(st, st == RUV_E_STATE && !detail[0] ? "the lake is closed" : detail);
        pending_free(p);
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(ticket);
}

/* submit(targets, queries, k, rerank_factor, flags, out_ids, out_scores,
 *        out_targets, out_nhits, token, supplies=None) -> int (the ticket)
 * poll gives back (token, status, detail, [(status, detail, needs) per
 * target], None) once the output arrays are filled. */
PyObject *lake_submit(PyObject *obj, PyObject *args)
{
    LakeObject *self = (LakeObject *)obj;
    PyObject *targets_o, *q_o, *ids_o, *scores_o, *tg_o, *nh_o, *token, *supplies = Py_None;
    unsigned int k, rerank, flags;
    if (!PyArg_ParseTuple(args, "O!OIIIOOOOO|O", &PyTuple_Type, &targets_o, &q_o, &k, &rerank,
                          &flags, &ids_o, &scores_o, &tg_o, &nh_o, &token, &supplies))
        return NULL;
    if (!self->lake) {
        PyErr_SetString(PyExc_ValueError, "the lake is closed");
        return NULL;
    }
    Py_ssize_t nt = PyTuple_Size(targets_o);
    if (nt < 1 || nt > 4096) {
        PyErr_SetString(PyExc_ValueError, "between 1 and 4096 targets");
        return NULL;
    }
    struct pending *p = pending_new(self, nt, token);
    if (!p)
        return NULL;
    for (Py_ssize_t i = 0; i < nt; i++)
        if (lake_target_of(PyTuple_GetItem(targets_o, i), &p->t[i], p->hold + 2 * i))
            goto fail;
    if (supplies != Py_None) {
        if (self->ops->struct_size < RUV_LAKE_OPS_SIZE_V4) {
            PyErr_SetString(PyExc_RuntimeError, "the loaded rulake plugin predates "
                                                "submit_supplied (BackendAdapter async methods)");
            goto fail;
        }
        if (parse_supplies(p, supplies))
            goto fail;
    }
    if (view_f32(q_o, "queries", 2, &p->qv) ||
        view_get(ids_o, "out_ids", 2, 'u', 8, 1, 0, &p->ids) ||
        view_get(scores_o, "out_scores", 2, 'f', 4, 1, 0, &p->scores) ||
        view_get(tg_o, "out_targets", 2, 'u', 4, 1, 0, &p->tg) ||
        view_get(nh_o, "out_nhits", 1, 'u', 4, 1, 0, &p->nh))
        goto fail;
    Py_ssize_t nq = p->qv.rows;
    if (k < 1 || p->ids.rows != nq || p->ids.cols != (Py_ssize_t)k || p->scores.rows != nq ||
        p->scores.cols != (Py_ssize_t)k || p->tg.rows != nq || p->tg.cols != (Py_ssize_t)k ||
        p->nh.rows != nq || nq > UINT32_MAX || p->qv.cols > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "k must be >= 1 and the outputs (nq, k) x 3 and (nq,)");
        goto fail;
    }
    if (!(p->hits = PyMem_Malloc((size_t)nq * k * sizeof *p->hits))) {
        PyErr_NoMemory();
        goto fail;
    }
    p->q = (struct ruv_lake_query){.struct_size = sizeof p->q, .flags = flags, .targets = p->t,
                                   .ntargets = (uint32_t)nt, .queries = p->qv.data,
                                   .nq = (uint32_t)nq, .dim = (uint32_t)p->qv.cols, .k = k,
                                   .rerank_factor = rerank, .hits = p->hits,
                                   .nhits = p->nh.data, .target_status = p->tst,
                                   .target_detail = p->tdet};
    return pending_start(self, p);
fail:
    pending_free(p);
    return NULL;
}

/* submit_one(backend, collection, query, k, rerank_factor, flags, token,
 * supplies=None) -> int (the ticket): one query of one target, the
 * search_one_async path (supplies as submit's, one item). No output
 * arrays: poll gives back (token, status, detail, statuses, ([ids],
 * [scores])) with the hits best first (None when the request failed). The
 * same request as submit's, with less to convert per call (the event loop
 * makes each call in turn). */
PyObject *lake_submit_one(PyObject *obj, PyObject *args)
{
    LakeObject *self = (LakeObject *)obj;
    PyObject *backend, *collection, *q_o, *token, *supplies = Py_None;
    unsigned int k, rerank, flags;
    if (!PyArg_ParseTuple(args, "UUOIIIO|O", &backend, &collection, &q_o, &k, &rerank, &flags,
                          &token, &supplies))
        return NULL;
    if (!self->lake) {
        PyErr_SetString(PyExc_ValueError, "the lake is closed");
        return NULL;
    }
    if (k < 1 || k > (1u << 24)) { /* RuLake checks k against memory before this */
        PyErr_SetString(PyExc_ValueError, "k must be in 1..2**24");
        return NULL;
    }
    struct pending *p = pending_new(self, 1, token);
    if (!p)
        return NULL;
    p->own_out = 1;
    if (!(p->hold[0] = PyUnicode_AsUTF8String(backend)) ||
        !(p->hold[1] = PyUnicode_AsUTF8String(collection)) ||
        !(p->t[0].backend = PyBytes_AsString(p->hold[0])) ||
        !(p->t[0].collection = PyBytes_AsString(p->hold[1])) ||
        view_f32(q_o, "query", 1, &p->qv))
        goto fail;
    if (supplies != Py_None) {
        if (self->ops->struct_size < RUV_LAKE_OPS_SIZE_V4) {
            PyErr_SetString(PyExc_RuntimeError, "the loaded rulake plugin predates "
                                                "submit_supplied (BackendAdapter async methods)");
            goto fail;
        }
        if (parse_supplies(p, supplies))
            goto fail;
    }
    if (p->qv.cols > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "query: too long");
        goto fail;
    }
    if (!(p->hits = PyMem_Malloc((size_t)k * sizeof *p->hits))) {
        PyErr_NoMemory();
        goto fail;
    }
    p->q = (struct ruv_lake_query){.struct_size = sizeof p->q, .flags = flags, .targets = p->t,
                                   .ntargets = 1, .queries = p->qv.data, .nq = 1,
                                   .dim = (uint32_t)p->qv.cols, .k = k,
                                   .rerank_factor = rerank, .hits = p->hits,
                                   .nhits = &p->own_nh, .target_status = p->tst,
                                   .target_detail = p->tdet};
    return pending_start(self, p);
fail:
    pending_free(p);
    return NULL;
}

/* cancel(ticket) -> bool: True when the request was still queued (poll
 * gives it back with RUV_E_CANCELED), False when it is running or finished. */
PyObject *lake_cancel(PyObject *obj, PyObject *args)
{
    LakeObject *self = (LakeObject *)obj;
    unsigned long long ticket;
    if (!PyArg_ParseTuple(args, "K", &ticket))
        return NULL;
    int st;
    lake_rdlock(self);
    st = self->lake ? self->ops->cancel(self->lake, ticket) : RUV_E_STATE;
    pthread_rwlock_unlock(&self->lock);
    return PyBool_FromLong(st == RUV_OK);
}
