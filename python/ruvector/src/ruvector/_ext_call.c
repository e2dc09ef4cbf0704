/* ruvector._ext: long engine calls that Ctrl-C can stop (contract in _ext.h).
 *
 * Python runs signal handlers only on the main thread, between bytecodes.
 * A build that holds the main thread in C for a minute would leave Ctrl-C
 * pending for that minute. So a long call made on the main thread runs on
 * a thread of the engine's pool (ruv_cancel_run: no thread per call) while
 * the main thread waits with the GIL released, waking every POLL_MS to let
 * Python run its handlers (PyErr_CheckSignals). When a handler raises
 * (KeyboardInterrupt, or whatever a SIGALRM handler raises), the call's
 * cancel token goes up; the engine stops at its next check, frees what it
 * allocated and leaves the index as it was; then the exception propagates.
 *
 * Handlers now run while the call holds the index's lock: a handler that
 * changes the same index (add, remove, save) from inside would wait for
 * that lock forever. Handlers that raise, log or set a flag are fine. */
#include "_ext.h"

#include <ruvector/cancel.h>
#include <ruvector/error.h>

#define POLL_MS 50

static unsigned long main_ident;

int call_init(void)
{
    main_ident = PyThread_get_thread_ident();
    PyObject *threading = PyImport_ImportModule("threading");
    PyObject *main = threading ? PyObject_CallMethod(threading, "main_thread", NULL) : NULL;
    PyObject *ident = main ? PyObject_GetAttrString(main, "ident") : NULL;
    if (ident && PyLong_Check(ident))
        main_ident = PyLong_AsUnsignedLong(ident);
    Py_XDECREF(ident);
    Py_XDECREF(main);
    Py_XDECREF(threading);
    if (PyErr_Occurred()) /* keep the importing thread's id: right in every usual case */
        PyErr_Clear();
    return 0;
}

struct poll_state {
    PyThreadState *ts;
};

/* On the main thread, GIL released: takes it, runs pending handlers, and
 * releases it again. Nonzero when a handler raised (the exception stays
 * set for the caller). */
static int poll_signals(void *vctx)
{
    struct poll_state *ps = vctx;
    PyEval_RestoreThread(ps->ts);
    int raised = PyErr_CheckSignals() != 0;
    ps->ts = PyEval_SaveThread();
    return raised;
}

int call_interruptible(ruv_cancel_call_fn fn, void *ctx, int long_call, char *detail,
                       int *interrupted)
{
    *interrupted = 0;
    int st;
    ruv_cancel *c = NULL;
    if (!long_call || PyThread_get_thread_ident() != main_ident || ruv_cancel_new(&c)) {
        Py_BEGIN_ALLOW_THREADS
        st = fn(ctx);
        if (st)
            save_detail(detail);
        Py_END_ALLOW_THREADS
        return st;
    }
    struct poll_state ps = {PyEval_SaveThread()};
    st = ruv_cancel_run(c, fn, ctx, POLL_MS, poll_signals, &ps, interrupted);
    if (st)
        save_detail(detail);
    PyEval_RestoreThread(ps.ts);
    ruv_cancel_free(c);
    return st;
}
