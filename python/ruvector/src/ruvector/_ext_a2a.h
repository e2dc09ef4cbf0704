/* ruvector._ext: what _ext_a2a.c (the plugin, budgets, connect) and
 * _ext_a2a_client.c (the client and stream handles) share. Private to the
 * extension, hidden like everything in _ext.h. */
#ifndef RUVECTOR_EXT_A2A_H
#define RUVECTOR_EXT_A2A_H

#include "_ext.h"

#include <ruvector/feature-a2a.h>

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

typedef struct {
    PyObject_HEAD
    PyObject *engine; /* EngineObject: owns the plugin */
    const struct ruv_a2a_ops *ops;
    struct ruv_a2a_client *c;
    pthread_mutex_t lock;
    int lock_ready;
    int waits;        /* waits running; the client is freed after the last */
    int close_asked;
} A2aHandle;

typedef struct {
    PyObject_HEAD
    PyObject *engine; /* EngineObject: owns the plugin */
    const struct ruv_a2a_ops *ops;
    struct ruv_a2a_budget *b;
} A2aBudgetHandle;

typedef struct {
    char **v;
    size_t n;
} strvec;

/* (status, error, rpc_code, http_status, request_sent, detail, payload);
 * payload is stolen (NULL: None). */
PyObject *a2a_outcome(int status, const struct ruv_a2a_call_status *st, const char *detail,
                      PyObject *payload);
/* A plugin string as a Python str (then freed); NULL: None. */
PyObject *a2a_take_string(const struct ruv_a2a_ops *ops, char *s);
void a2a_status_init(struct ruv_a2a_call_status *st);
/* A malloc'd UTF-8 copy of a str; NULL with an error set. */
char *a2a_copy_utf8(PyObject *s);
/* A sequence of str (None: empty) into sv; 0, or -1 with an error set. */
int a2a_strvec_from(PyObject *seq, const char *what, strvec *sv);
void a2a_strvec_free(strvec *sv);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif
