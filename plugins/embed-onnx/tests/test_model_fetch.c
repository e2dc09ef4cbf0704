/* test_model_fetch — the verified cache and download (embed.md §6.2-6.3)
 * against model_server.py on 127.0.0.1 (run by model-fetch.sh, which sets
 * RUV_TEST_MODEL_URL, RUV_TEST_MODEL_INDEX, RUV_TEST_SERVER_LOG, and for the
 * HTTPS cases RUV_TEST_HTTPS_URL and RUV_TEST_CA_FILE). The server logs one
 * line per request, so the tests count requests; the fetch statistics say
 * what was hashed. The model is a generated fake whose digests the fixture
 * computed with Python's hashlib. */
#define _GNU_SOURCE /* utimensat, d_name; the test does not include config.h */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ruvector/error.h>

#include "../../common/detail.h"
#include "../manifest.h"
#include "../model_cache.h"
#include "../registry.h"

#define MAX_FILES 8
static struct ruv__embed_file files[MAX_FILES];
static char paths[MAX_FILES][256], digests[MAX_FILES][65];
static struct ruv__embed_entry entry = {
    .name = "fake-model",
    .repo = "test/fake-model",
    .revision = "0123456789abcdef0123456789abcdef01234567",
    .weights = RUV_EMBED_WEIGHTS_SAFETENSORS,
    .weights_file = "model.safetensors",
    .files = files,
    .dim = 8,
    .max_tokens = 16,
    .pooling = "mean",
    .normalize = 1,
    .licence = "CC0-1.0",
    .query_prefix = "",
    .confirmed_by = "model_server.py make-model",
};
static const char *http_url, *server_log, *model_src, *tmp_root;
static int n_cache;

static int setup_all(void **state)
{
    (void)state;
    http_url = getenv("RUV_TEST_MODEL_URL");
    server_log = getenv("RUV_TEST_SERVER_LOG");
    model_src = getenv("RUV_TEST_MODEL_SRC");
    tmp_root = getenv("RUV_TEST_TMP");
    const char *index = getenv("RUV_TEST_MODEL_INDEX");
    if (!http_url || !server_log || !index || !model_src || !tmp_root) {
        fprintf(stderr, "run through model-fetch.sh (RUV_TEST_MODEL_* unset)\n");
        return -1;
    }
    FILE *f = fopen(index, "r");
    if (!f)
        return -1;
    unsigned long long size;
    size_t n = 0;
    while (n < MAX_FILES && fscanf(f, "%255s %llu %64s", paths[n], &size, digests[n]) == 3) {
        files[n] = (struct ruv__embed_file){paths[n], size, digests[n]};
        n++;
    }
    fclose(f);
    entry.n_files = n;
    return n == 4 ? 0 : -1;
}

/* A new, empty cache folder under the fixture's temporary folder. */
static void new_cache(char *out, size_t cap)
{
    snprintf(out, cap, "%s/cache%d", tmp_root, ++n_cache);
}

/* Requests logged so far whose mode is `mode` ("ok", "loop", ...). */
static int count_requests(const char *log, const char *mode)
{
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char line[512];
    int n = 0;
    size_t ml = strlen(mode);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, mode, ml) == 0 && line[ml] == ' ')
            n++;
    fclose(f);
    return n;
}

static struct ruv__embed_fetch_opts opts_for(const char *cache, const char *base, char *buf, size_t cap,
                                            const char *mode)
{
    snprintf(buf, cap, "%s/%s", base, mode);
    struct ruv__embed_fetch_opts o = {.cache_dir = cache, .base_url = buf};
    return o;
}

static int file_exists(const char *dir, const char *rel)
{
    char p[4096];
    struct stat st;
    if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, rel) >= sizeof p)
        fail();
    return stat(p, &st) == 0;
}

/* 1 if `dir` (recursively) holds a name ending in ".part". */
static int has_part_file(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    int found = 0;
    while (!found && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t n = strlen(de->d_name);
        char p[4096];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= sizeof p)
            continue;
        found = (n > 5 && strcmp(de->d_name + n - 5, ".part") == 0) || has_part_file(p);
    }
    closedir(d);
    return found;
}

/* ---- fetch over loopback http ---- */

static void test_fetch_then_reuse(void **state)
{
    (void)state;
    char cache[1024], base[512], *dir = NULL;
    new_cache(cache, sizeof cache);
    struct ruv__embed_fetch_opts o = opts_for(cache, http_url, base, sizeof base, "ok");
    struct ruv__embed_fetch_stats st;
    int before = count_requests(server_log, "ok");
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_OK);
    assert_int_equal(st.downloaded, entry.n_files);
    assert_int_equal(st.hashed, 0);
    assert_int_equal(count_requests(server_log, "ok"), before + (int)entry.n_files);
    char want[4096];
    snprintf(want, sizeof want, "%s/fake-model/%s", cache, entry.revision);
    assert_string_equal(dir, want);
    for (size_t i = 0; i < entry.n_files; i++) {
        char p[4096], hex[65];
        uint64_t size;
        snprintf(p, sizeof p, "%s/%s", dir, files[i].path);
        assert_int_equal(ruv__embed_sha256_file(p, hex, &size), RUV_OK);
        assert_string_equal(hex, files[i].sha256);
        assert_int_equal(size, files[i].size);
    }
    assert_true(file_exists(dir, "verified"));
    assert_false(has_part_file(cache));
    free(dir);

    /* Second open: size and mtime only; no request, nothing hashed, even offline. */
    o.offline = 1;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_OK);
    assert_int_equal(st.reused, entry.n_files);
    assert_int_equal(st.hashed + st.downloaded, 0);
    assert_int_equal(count_requests(server_log, "ok"), before + (int)entry.n_files);
    free(dir);
}

static void test_offline_empty_cache_is_miss(void **state)
{
    (void)state;
    char cache[1024], base[512], *dir = (char *)"x";
    new_cache(cache, sizeof cache);
    struct ruv__embed_fetch_opts o = opts_for(cache, http_url, base, sizeof base, "ok");
    o.offline = 1;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, NULL), RUV_E_MISS);
    assert_null(dir);
    assert_non_null(strstr(ruv__detail_get(), "not in the cache"));
}

/* Fetches with the server in `mode` into a new cache; expects `status`, a
 * detail holding each of the NULL-terminated `needles`, and no file or part
 * file of the first (failing) file left behind. */
static void expect_failure(const char *mode, const struct ruv__embed_net_opts *net, int status, ...)
{
    char cache[1024], base[512], *dir = NULL;
    new_cache(cache, sizeof cache);
    struct ruv__embed_fetch_opts o = opts_for(cache, http_url, base, sizeof base, mode);
    if (net)
        o.net = *net;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, NULL), status);
    assert_null(dir);
    const char *detail = ruv__detail_get();
    if (getenv("RUV_TEST_VERBOSE"))
        fprintf(stderr, "%s: %s\n", mode, detail);
    va_list ap;
    va_start(ap, status);
    for (const char *s; (s = va_arg(ap, const char *));)
        if (!strstr(detail, s)) {
            fprintf(stderr, "detail lacks '%s': %s\n", s, detail);
            fail();
        }
    va_end(ap);
    char rev[4096];
    snprintf(rev, sizeof rev, "%s/fake-model/%s", cache, entry.revision);
    assert_false(file_exists(rev, files[0].path));
    assert_false(has_part_file(cache));
}

static void test_http_404(void **state)
{
    (void)state;
    expect_failure("missing", NULL, RUV_E_REMOTE, "curl error 22", "HTTP 404", "/missing/test/fake-model/resolve/",
                   files[0].path, NULL);
}

static void test_bad_digest(void **state)
{
    (void)state;
    expect_failure("corrupt", NULL, RUV_E_INTEGRITY, files[0].sha256, "SHA-256 is ", NULL);
}

static void test_truncated_body(void **state)
{
    (void)state;
    expect_failure("short", NULL, RUV_E_PROTOCOL, "curl error 18", "/short/", NULL);
}

static void test_dropped_connection(void **state)
{
    (void)state;
    expect_failure("drop", NULL, RUV_E_PROTOCOL, "curl error 52", "/drop/", NULL);
}

static void test_overlong_body(void **state)
{
    (void)state;
    expect_failure("long", NULL, RUV_E_PROTOCOL, "more than the expected", NULL);
}

static void test_stalled_server(void **state)
{
    (void)state;
    struct ruv__embed_net_opts net = {.low_speed_bytes = 1000, .low_speed_time_s = 1};
    expect_failure("stall", &net, RUV_E_TIMEOUT, "curl error 28", "/stall/", NULL);
}

static void test_redirect_limit(void **state)
{
    (void)state;
    int before = count_requests(server_log, "loop");
    expect_failure("loop", NULL, RUV_E_PROTOCOL, "curl error 47", NULL);
    /* The first request and five redirects, then curl stops. */
    assert_int_equal(count_requests(server_log, "loop") - before, 6);
}

static void test_one_redirect_is_followed(void **state)
{
    (void)state;
    char cache[1024], base[512], *dir = NULL;
    new_cache(cache, sizeof cache);
    struct ruv__embed_fetch_opts o = opts_for(cache, http_url, base, sizeof base, "hop");
    struct ruv__embed_fetch_stats st;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_OK);
    assert_int_equal(st.downloaded, entry.n_files);
    free(dir);
}

static void test_refused_urls(void **state)
{
    (void)state;
    assert_true(ruv__embed_url_allowed("https://huggingface.co/x"));
    assert_true(ruv__embed_url_allowed("http://127.0.0.1:8080/x"));
    assert_true(ruv__embed_url_allowed("http://[::1]:8080/x"));
    assert_false(ruv__embed_url_allowed("http://example.com/x"));
    assert_false(ruv__embed_url_allowed("http://127.0.0.2/x"));
    assert_false(ruv__embed_url_allowed("ftp://127.0.0.1/x"));
    assert_false(ruv__embed_url_allowed("file:///etc/passwd"));
    assert_false(ruv__embed_url_allowed("not a url"));
    char cache[1024], *dir = NULL;
    new_cache(cache, sizeof cache);
    struct ruv__embed_fetch_opts o = {.cache_dir = cache, .base_url = "http://example.com/models"};
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, NULL), RUV_E_INVAL);
    assert_non_null(strstr(ruv__detail_get(), "refusing URL http://example.com/models/"));
}

struct progress_log {
    int calls, cancel_after;
    uint64_t last_done, last_total;
};

static int on_progress(void *ctx, const char *file, uint64_t done, uint64_t total)
{
    struct progress_log *p = ctx;
    assert_non_null(file);
    assert_true(done <= total);
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    return p->cancel_after && p->calls >= p->cancel_after;
}

static void test_progress_and_cancel(void **state)
{
    (void)state;
    char cache[1024], base[512], *dir = NULL;
    new_cache(cache, sizeof cache);
    struct progress_log log = {0};
    struct ruv__embed_fetch_opts o = opts_for(cache, http_url, base, sizeof base, "ok");
    o.net.progress = on_progress;
    o.net.progress_ctx = &log;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, NULL), RUV_OK);
    assert_true(log.calls >= (int)entry.n_files);
    free(dir);

    new_cache(cache, sizeof cache);
    struct progress_log stop = {.cancel_after = 1};
    o.net.progress_ctx = &stop;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, NULL), RUV_E_CANCELED);
    assert_false(has_part_file(cache));
}

/* ---- a cached file that changed ---- */

static void flip_first_byte(const char *path)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    int c = fgetc(f);
    assert_int_not_equal(c, EOF);
    fseek(f, 0, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
}

static void set_mtime(const char *path, time_t sec)
{
    struct timespec ts[2] = {{sec, 0}, {sec, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_changed_cached_file(void **state)
{
    (void)state;
    char cache[1024], base[512], *dir = NULL, path[4096];
    new_cache(cache, sizeof cache);
    struct ruv__embed_fetch_opts o = opts_for(cache, http_url, base, sizeof base, "ok");
    struct ruv__embed_fetch_stats st;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_OK);
    snprintf(path, sizeof path, "%s/%s", dir, files[0].path);
    free(dir);

    /* Only the mtime moved: hashed again, accepted, nothing downloaded. */
    set_mtime(path, 1000000000);
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_OK);
    free(dir);
    assert_int_equal(st.hashed, 1);
    assert_int_equal(st.downloaded, 0);
    assert_int_equal(st.reused, entry.n_files - 1);

    /* Same size, other bytes: offline, the error names both digests. */
    flip_first_byte(path);
    set_mtime(path, 1000000100);
    char got[65];
    uint64_t size;
    assert_int_equal(ruv__embed_sha256_file(path, got, &size), RUV_OK);
    o.offline = 1;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_E_INTEGRITY);
    assert_non_null(strstr(ruv__detail_get(), got));
    assert_non_null(strstr(ruv__detail_get(), files[0].sha256));
    assert_int_equal(st.hashed, 1);

    /* Online: hashed, then downloaded again; the next open trusts it. */
    o.offline = 0;
    int before = count_requests(server_log, "ok");
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_OK);
    free(dir);
    assert_int_equal(st.hashed, 1);
    assert_int_equal(st.downloaded, 1);
    assert_int_equal(count_requests(server_log, "ok"), before + 1);
    assert_int_equal(ruv__embed_sha256_file(path, got, &size), RUV_OK);
    assert_string_equal(got, files[0].sha256);
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_OK);
    free(dir);
    assert_int_equal(st.reused, entry.n_files);

    /* A garbled manifest only costs a re-hash of everything. */
    snprintf(path, sizeof path, "%s/fake-model/%s/verified", cache, entry.revision);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{not json", f);
    fclose(f);
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_OK);
    free(dir);
    assert_int_equal(st.hashed, entry.n_files);
    assert_int_equal(st.downloaded, 0);
}

/* A file built from the model (the ONNX graph) is recorded once and kept. */
static void test_derived_file(void **state)
{
    (void)state;
    char cache[1024], base[512], *dir = NULL, path[4096], sub[4096], hex[65], want[65];
    new_cache(cache, sizeof cache);
    struct ruv__embed_fetch_opts o = opts_for(cache, http_url, base, sizeof base, "ok");
    struct ruv__embed_fetch_stats st;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_OK);
    assert_int_equal(ruv__embed_cache_check_derived(dir, "onnx/model.onnx", hex), RUV_E_MISS);
    snprintf(sub, sizeof sub, "%s/onnx", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/onnx/model.onnx", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("not really a graph", f);
    fclose(f);
    uint64_t size;
    assert_int_equal(ruv__embed_sha256_file(path, want, &size), RUV_OK);
    assert_int_equal(ruv__embed_cache_add_derived(dir, "onnx/model.onnx", hex), RUV_OK);
    assert_string_equal(hex, want);
    memset(hex, 0, sizeof hex);
    assert_int_equal(ruv__embed_cache_check_derived(dir, "onnx/model.onnx", hex), RUV_OK);
    assert_string_equal(hex, want);

    /* Fetching again neither hashes the model nor forgets the record. */
    o.offline = 1;
    char *dir2 = NULL;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir2, &st), RUV_OK);
    free(dir2);
    assert_int_equal(st.reused, entry.n_files);
    assert_int_equal(st.hashed, 0);
    assert_int_equal(ruv__embed_cache_check_derived(dir, "onnx/model.onnx", NULL), RUV_OK);

    /* Touched: reported, and the next fetch drops the stale record. */
    set_mtime(path, 1000000000);
    assert_int_equal(ruv__embed_cache_check_derived(dir, "onnx/model.onnx", NULL), RUV_E_INTEGRITY);
    assert_non_null(strstr(ruv__detail_get(), want));
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir2, &st), RUV_OK);
    free(dir2);
    assert_int_equal(ruv__embed_cache_check_derived(dir, "onnx/model.onnx", NULL), RUV_E_MISS);

    assert_int_equal(ruv__embed_cache_add_derived(dir, "../escape", NULL), RUV_E_INVAL);
    assert_int_equal(ruv__embed_cache_add_derived(dir, "verified", NULL), RUV_E_INVAL);
    assert_int_equal(ruv__embed_cache_add_derived(dir, "absent.onnx", NULL), RUV_E_IO);
    assert_int_equal(ruv__embed_cache_check_derived("norevision", "x", NULL), RUV_E_INVAL);
    free(dir);
}

static void test_local_directory_as_is(void **state)
{
    (void)state;
    char *dir = NULL;
    const struct ruv__embed_entry *e = (void *)1;
    int before = count_requests(server_log, "ok");
    struct ruv__embed_fetch_stats st;
    assert_int_equal(ruv__embed_model_resolve(model_src, NULL, &dir, &e, &st), RUV_OK);
    assert_string_equal(dir, model_src);
    assert_null(e);
    assert_int_equal(st.hashed + st.downloaded + st.reused, 0);
    assert_int_equal(count_requests(server_log, "ok"), before);
    free(dir);
    assert_int_equal(ruv__embed_model_resolve("no-such-model", NULL, &dir, &e, NULL), RUV_E_NOTFOUND);
    assert_non_null(strstr(ruv__detail_get(), "all-MiniLM-L6-v2"));
}

/* Two processes fetch into one empty cache at once: the flock makes one
 * download every file and the other find them verified. */
static void test_two_racing_processes(void **state)
{
    (void)state;
    char cache[1024], base[512];
    new_cache(cache, sizeof cache);
    struct ruv__embed_fetch_opts o = opts_for(cache, http_url, base, sizeof base, "ok");
    int before = count_requests(server_log, "ok");
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            char c, *dir = NULL;
            close(go[1]);
            if (read(go[0], &c, 1) != 0) /* EOF: both start together */
                _exit(3);
            struct ruv__embed_fetch_stats st;
            int rc = ruv__embed_model_fetch(&entry, &o, &dir, &st);
            free(dir);
            /* exit 0: downloaded all; 1: reused all; 2: anything else */
            _exit(rc != RUV_OK ? 2 : st.downloaded == entry.n_files ? 0 : st.reused == entry.n_files ? 1 : 2);
        }
    }
    close(go[0]);
    close(go[1]);
    int codes = 0;
    for (int k = 0; k < 2; k++) {
        int ws;
        assert_int_equal(waitpid(kids[k], &ws, 0), kids[k]);
        assert_true(WIFEXITED(ws));
        assert_true(WEXITSTATUS(ws) <= 1);
        codes += WEXITSTATUS(ws);
    }
    assert_int_equal(codes, 1); /* one downloader, one reuser */
    assert_int_equal(count_requests(server_log, "ok"), before + (int)entry.n_files);
}

/* ---- HTTPS with a test CA ---- */

static void test_https_with_test_ca(void **state)
{
    (void)state;
    const char *https = getenv("RUV_TEST_HTTPS_URL"), *ca = getenv("RUV_TEST_CA_FILE");
    if (!https || !ca)
        skip();
    char cache[1024], base[512], *dir = NULL;
    new_cache(cache, sizeof cache);
    struct ruv__embed_fetch_opts o = opts_for(cache, https, base, sizeof base, "ok");
    /* The system store does not know the test CA: refused. */
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, NULL), RUV_E_SECURITY);
    assert_non_null(strstr(ruv__detail_get(), "curl error 60"));
    o.net.ca_file = ca;
    struct ruv__embed_fetch_stats st;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, &st), RUV_OK);
    assert_int_equal(st.downloaded, entry.n_files);
    free(dir);

    /* From https, a redirect to http is refused before any connection
     * (nothing listens on port 1: following it would be curl error 7). */
    new_cache(cache, sizeof cache);
    o = opts_for(cache, https, base, sizeof base, "tohttp");
    o.net.ca_file = ca;
    assert_int_equal(ruv__embed_model_fetch(&entry, &o, &dir, NULL), RUV_E_PROTOCOL);
    assert_non_null(strstr(ruv__detail_get(), "curl error 1 "));
    assert_null(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_then_reuse),
        cmocka_unit_test(test_offline_empty_cache_is_miss),
        cmocka_unit_test(test_http_404),
        cmocka_unit_test(test_bad_digest),
        cmocka_unit_test(test_truncated_body),
        cmocka_unit_test(test_dropped_connection),
        cmocka_unit_test(test_overlong_body),
        cmocka_unit_test(test_stalled_server),
        cmocka_unit_test(test_redirect_limit),
        cmocka_unit_test(test_one_redirect_is_followed),
        cmocka_unit_test(test_refused_urls),
        cmocka_unit_test(test_progress_and_cancel),
        cmocka_unit_test(test_changed_cached_file),
        cmocka_unit_test(test_derived_file),
        cmocka_unit_test(test_local_directory_as_is),
        cmocka_unit_test(test_two_racing_processes),
        cmocka_unit_test(test_https_with_test_ca),
    };
    return cmocka_run_group_tests(tests, setup_all, NULL);
}
