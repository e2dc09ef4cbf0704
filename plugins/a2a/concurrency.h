/* plugins/a2a/concurrency.h — TaskPolicy.max_concurrency (a2a.md §5 step
 * 5): in-flight sends per (peer, skill), counted across the process. A
 * unary send is in flight while its request runs; a stream from open to
 * close. */
#ifndef RUV_A2A_CONCURRENCY_H
#define RUV_A2A_CONCURRENCY_H

#include <stdint.h>

#include <ruvector/feature-a2a.h>

/* A slot for (peer, skill) when fewer than max are in flight: RUV_OK and
 * *slot to release later; else RUV_E_POLICY with st->error
 * RUV_A2A_ERR_POLICY naming the limit. RUV_E_NOMEM. */
int ruv__concurrency_acquire(const char *peer, const char *skill, uint32_t max, void **slot,
                             struct ruv_a2a_call_status *st);
/* Gives a slot back; NULL: no-op. */
void ruv__concurrency_release(void *slot);

#endif
