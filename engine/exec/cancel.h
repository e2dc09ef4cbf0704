/* Engine-private: the cancel checks of the long loops (public side:
 * <ruvector/cancel.h>). A check reads the token bound to the current thread
 * (one thread-local load and one relaxed atomic load): cheap enough for
 * every chunk of a parallel loop and every tile of a GEMM scan. */
#ifndef RUV_ENGINE_EXEC_CANCEL_H
#define RUV_ENGINE_EXEC_CANCEL_H

#include <ruvector/cancel.h>

/* 1 when the token bound to this thread is raised. */
int ruv__cancel_pending(void);
/* RUV_OK, or RUV_E_CANCELED with the detail "canceled during <phase>" when
 * the token bound to this thread is raised. Call it after every parallel
 * loop whose results are used: a canceled loop skips chunks, so its output
 * is incomplete. */
int ruv__cancel_check(const char *phase);

#endif
