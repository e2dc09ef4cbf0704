/* tests/a2a/a2a_fake_peer.h — shared by the client tests (a2a_fake_peer.c). */
#ifndef RUV_TEST_A2A_FAKE_PEER_H
#define RUV_TEST_A2A_FAKE_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include <ruvector/feature-a2a.h>
#include <ruvector/ruvector.h>

extern ruv_engine *eng;
extern const struct ruv_a2a_ops *ops; /* the plugin's, V2 */
extern void *pstate;
extern int peer_port;
extern char peer_agent_id[65];
extern char base[64];                 /* http://127.0.0.1:<port> */
extern struct ruv_a2a_call_status st; /* filled by the helpers below */

#define SEND_PARAMS \
    "{\"message\":{\"messageId\":\"m1\",\"role\":\"ROLE_USER\",\"parts\":[{\"text\":\"hi\"}]}}"

/* cmocka group setup/teardown: the fake peer (exit 77 when it cannot run),
 * an engine with the a2a plugin loaded late. */
int a2a_fake_setup(void **state);
int a2a_fake_teardown(void **state);

/* POSTs {"mode","card"} to the fake, or GETs /_stats when mode is NULL. */
json_t *peer_http(const char *mode, const char *card);
void peer_mode(const char *mode, const char *card);
json_int_t peer_stat(const char *key);

struct ruv_a2a_client_options options(uint32_t flags);
int open_client(const char *mode, const char *card, const struct ruv_a2a_client_options *o,
                struct ruv_a2a_client **c);
struct ruv_a2a_client *connect_ok(const char *mode, const char *card);
json_t *info_of(struct ruv_a2a_client *c);
/* One call; *out the parsed result or error object (NULL when none). */
int call(struct ruv_a2a_client *c, uint32_t m, const char *params, const struct ruv_a2a_policy *p,
         json_t **out);
const char *state_of(json_t *task);
/* Streams SEND_PARAMS; names[i] the member of event i; *last the last
 * event (or the error object). Returns the status that ended it. */
int run_stream(struct ruv_a2a_client *c, char names[][16], size_t max, size_t *n, json_t **last);
/* A stream of task, 3x WORKING, artifact, COMPLETED, then the end. */
void expect_full_stream(struct ruv_a2a_client *c);
/* A policy with nothing set. */
struct ruv_a2a_policy policy(void);

/* Starts tests/a2a/fakes/<name> (a python3 script that prints "PORT <n>
 * ..." first): its pid and *port, or -1. stop_fake_script ends it. */
pid_t start_fake_script(const char *name, int *port);
void stop_fake_script(pid_t pid);
/* GETs url (no proxy) and parses the JSON answer (failing the test if none). */
json_t *get_json(const char *url);

/* The threads this process runs now (/proc/self/task), -1 when unknown. */
int threads_now(void);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t now_ms(void);

#endif
