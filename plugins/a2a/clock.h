/* plugins/a2a/clock.h — the monotonic milliseconds the plugin's deadlines,
 * windows and TTLs are measured in, and a sleep that outlasts signals. */
#ifndef RUV_A2A_CLOCK_H
#define RUV_A2A_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t ruv__clock_ms(void);
/* Sleeps ms milliseconds, resuming after EINTR. */
void ruv__sleep_ms(long ms);

#endif
