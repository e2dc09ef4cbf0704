/* tests/a2a/a2a_fake_peer.c — what the client tests share: the loopback
 * fake peer (tests/a2a/fakes/fake_peer.py) as a subprocess, its control
 * and statistics endpoints, the engine with the a2a plugin, and call
 * helpers that fill the shared status record. */
#include "config.h"
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include <ruvector/feature-a2a.h>
#include <ruvector/plugin.h>
#include <ruvector/ruvector.h>

#include "a2a_fake_peer.h"

extern char **environ;

ruv_engine *eng;
const struct ruv_a2a_ops *ops;
void *pstate;
static pid_t peer_pid;
int peer_port;
char peer_agent_id[65];
char base[64];
struct ruv_a2a_call_status st;

/* ---- the fake peer ---- */

static int start_peer(void)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char script[1024];
    snprintf(script, sizeof script, "%s/tests/a2a/fakes/fake_peer.py", RUV_A2A_SRCDIR);
    char *argv[] = {"python3", script, NULL};
    int rc = posix_spawnp(&peer_pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    FILE *f = fdopen(fds[0], "r");
    char line[256] = "";
    int ok = f && fgets(line, sizeof line, f) &&
             sscanf(line, "PORT %d AGENT_ID %64s", &peer_port, peer_agent_id) == 2;
    if (f)
        fclose(f);
    if (!ok) {
        kill(peer_pid, SIGTERM);
        waitpid(peer_pid, NULL, 0);
        peer_pid = 0;
        return -1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", peer_port);
    return 0;
}

static size_t collect(char *p, size_t s, size_t n, void *ud)
{
    json_t **out = ud;
    json_error_t err;
    json_decref(*out);
    *out = json_loadb(p, s * n, 0, &err);
    return s * n;
}

/* POSTs {"mode","card"} to the fake, or GETs /_stats when mode is NULL. */
json_t *peer_http(const char *mode, const char *card)
{
    char url[128], body[256];
    json_t *out = NULL;
    CURL *h = curl_easy_init();
    snprintf(url, sizeof url, "%s/%s", base, mode ? "_control" : "_stats");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    if (mode) {
        snprintf(body, sizeof body, "{\"mode\":\"%s\",\"card\":\"%s\"}", mode, card);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_cleanup(h);
    assert_non_null(out);
    return out;
}

void peer_mode(const char *mode, const char *card) { json_decref(peer_http(mode, card)); }

json_int_t peer_stat(const char *key)
{
    json_t *stats = peer_http(NULL, NULL);
    json_int_t v = json_integer_value(json_object_get(stats, key));
    json_decref(stats);
    return v;
}

int a2a_fake_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (start_peer() != 0) {
        fprintf(stderr, "SKIP: python3 with `cryptography` cannot run the fake peer\n");
        exit(77);
    }
    ruv_config *cfg = NULL;
    if (ruv_config_new(&cfg) || ruv_engine_open(cfg, &eng))
        return -1;
    ruv_config_free(cfg);
    const void *vops = NULL;
    if (ruv_engine_load_plugin(eng, "a2a") != RUV_OK ||
        ruv_engine_feature_get(eng, "a2a", RUV_FEATURE_A2A, RUV_A2A_OPS_SIZE_V2, &vops,
                               &pstate) != RUV_OK)
        return -1;
    ops = vops;
    return 0;
}

int a2a_fake_teardown(void **state)
{
    (void)state;
    ruv_engine_close(eng);
    if (peer_pid) {
        kill(peer_pid, SIGTERM);
        waitpid(peer_pid, NULL, 0);
    }
    curl_global_cleanup();
    return 0;
}

/* ---- helpers ---- */

struct ruv_a2a_client_options options(uint32_t flags)
{
    struct ruv_a2a_client_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.flags = flags;
    return o;
}

int open_client(const char *mode, const char *card, const struct ruv_a2a_client_options *o,
                       struct ruv_a2a_client **c)
{
    peer_mode(mode, card);
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int rc = ops->client_open(pstate, base, o, c, &st);
    if (rc != RUV_OK) /* in the log, so that an unexpected status explains itself */
        print_message("client_open(%s, %s): %d (%s)\n", mode, card, rc, ruv_last_error());
    return rc;
}

struct ruv_a2a_client *connect_ok(const char *mode, const char *card)
{
    struct ruv_a2a_client *c = NULL;
    int rc = open_client(mode, card, NULL, &c);
    if (rc != RUV_OK)
        fail_msg("client_open: %d %s", rc, ruv_last_error());
    return c;
}

json_t *info_of(struct ruv_a2a_client *c)
{
    char *text = NULL;
    assert_int_equal(ops->client_info(c, &text), RUV_OK);
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    ops->free_string(text);
    assert_non_null(j);
    return j;
}

int call(struct ruv_a2a_client *c, uint32_t m, const char *params,
                const struct ruv_a2a_policy *p, json_t **out)
{
    char *res = NULL;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int rc = ops->call(c, m, params, strlen(params), p, &res, &st);
    *out = NULL;
    if (res) {
        json_error_t err;
        *out = json_loads(res, 0, &err);
        assert_non_null(*out);
        ops->free_string(res);
    }
    return rc;
}

const char *state_of(json_t *task)
{
    return json_string_value(json_object_get(json_object_get(task, "status"), "state"));
}

/* Opens a stream and collects its events' member names. */
int run_stream(struct ruv_a2a_client *c, char names[][16], size_t max, size_t *n,
                      json_t **last)
{
    struct ruv_a2a_stream *s = NULL;
    char *res = NULL;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    *n = 0;
    *last = NULL;
    int rc = ops->stream_open(c, RUV_A2A_SEND_STREAMING, SEND_PARAMS, strlen(SEND_PARAMS), NULL,
                              &s, &res, &st);
    if (rc != RUV_OK) {
        if (res) {
            json_error_t err;
            *last = json_loads(res, 0, &err);
            ops->free_string(res);
        }
        return rc;
    }
    for (;;) {
        char *ev = NULL;
        rc = ops->stream_next(s, &ev, &st);
        if (rc != RUV_OK) {
            if (ev) {
                json_error_t err;
                json_decref(*last);
                *last = json_loads(ev, 0, &err);
                ops->free_string(ev);
            }
            break;
        }
        json_error_t err;
        json_t *j = json_loads(ev, 0, &err);
        ops->free_string(ev);
        assert_non_null(j);
        assert_int_equal(json_object_size(j), 1);
        if (*n < max)
            snprintf(names[*n], 16, "%s", json_object_iter_key(json_object_iter(j)));
        (*n)++;
        json_decref(*last);
        *last = j;
    }
    /* The end (or failure) repeats. */
    char *again = NULL;
    assert_int_equal(ops->stream_next(s, &again, NULL), rc);
    ops->free_string(again);
    ops->stream_close(s);
    return rc;
}

void expect_full_stream(struct ruv_a2a_client *c)
{
    char names[16][16];
    size_t n;
    json_t *last;
    assert_int_equal(run_stream(c, names, 16, &n, &last), RUV_E_NOTFOUND);
    assert_int_equal(n, 6);
    assert_string_equal(names[0], "task");
    for (int i = 1; i <= 3; i++)
        assert_string_equal(names[i], "statusUpdate");
    assert_string_equal(names[4], "artifactUpdate");
    assert_string_equal(names[5], "statusUpdate");
    assert_string_equal(state_of(json_object_get(last, "statusUpdate")), "TASK_STATE_COMPLETED");
    json_decref(last);
}

struct ruv_a2a_policy policy(void)
{
    struct ruv_a2a_policy p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.max_tokens = -1;
    p.max_cost_usd = -1;
    p.estimated_tokens = -1;
    p.estimated_cost_usd = -1;
    p.depth = 1;
    return p;
}

int threads_now(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- other loopback helpers (fakes/fake_proxy.py) ---- */

pid_t start_fake_script(const char *name, int *port)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char script[1024];
    snprintf(script, sizeof script, "%s/tests/a2a/fakes/%s", RUV_A2A_SRCDIR, name);
    char *argv[] = {"python3", script, NULL};
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    FILE *f = fdopen(fds[0], "r");
    char line[256] = "";
    int ok = f && fgets(line, sizeof line, f) && sscanf(line, "PORT %d", port) == 1;
    if (f)
        fclose(f);
    if (!ok) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

void stop_fake_script(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

json_t *get_json(const char *url)
{
    json_t *out = NULL;
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_cleanup(h);
    assert_non_null(out);
    return out;
}
