/* plugins/a2a/http.c — libcurl easy handles set up the a2a.md §6 way. */
#include "config.h"
#include "http.h"
#include "clock.h"
#include "detail.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#define HEADER_CAP ((size_t)64 << 10)

int ruv__http_fail(struct ruv_a2a_call_status *st, uint32_t error, int status)
{
    if (st)
        st->error = error;
    return status;
}

void ruv__http_resp_free(struct ruv__http_resp *r)
{
    free(r->body.data);
    free(r->redirect_url);
    memset(r, 0, sizeof *r);
}

int ruv__http_buf_append(struct ruv__http_buf *b, const char *ptr, size_t n)
{
    if (n > b->cap_bytes - b->len) {
        b->over_cap = 1;
        return -1;
    }
    if (b->len + n + 1 > b->alloc) {
        size_t want = b->alloc ? b->alloc : 4096;
        while (want < b->len + n + 1)
            want *= 2;
        char *p = realloc(b->data, want);
        if (!p)
            return -2;
        b->data = p;
        b->alloc = want;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct ruv__http_resp *r = userdata;
    size_t n = size * nmemb;
    return ruv__http_buf_append(&r->body, ptr, n) == 0 ? n : CURL_WRITEFUNC_ERROR;
}

long ruv__http_retry_after(const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n == 0 || n > 64)
        return -1;
    size_t digits = 0;
    long secs = 0;
    while (digits < n && v[digits] >= '0' && v[digits] <= '9') {
        if (secs < 100000000)
            secs = secs * 10 + (v[digits] - '0');
        digits++;
    }
    if (digits == n)
        return secs > 100000000 ? 100000000 : secs;
    /* An HTTP-date has a weekday name first; requiring a letter keeps
     * curl_getdate's leniency (bare numbers, "now") away from garbage. */
    if (!isalpha((unsigned char)v[0]))
        return -1;
    char text[65];
    memcpy(text, v, n);
    text[n] = '\0';
    time_t when = curl_getdate(text, NULL);
    if (when == (time_t)-1)
        return -1;
    time_t now = time(NULL);
    if (when <= now)
        return 0;
    double d = difftime(when, now);
    return d > 100000000.0 ? 100000000L : (long)d;
}

size_t ruv__http_on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct ruv__http_resp *r = userdata;
    size_t n = size * nmemb;
    r->header_bytes += n;
    if (r->header_bytes > HEADER_CAP)
        return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        r->content_type[0] = '\0'; /* a new response (after 100 Continue) */
        r->retry_after_s = -1;
        r->etag[0] = '\0';
        r->max_age_s = -1;
        r->no_store = 0;
        return n;
    }
    static const char etag[] = "etag:", cc[] = "cache-control:";
    if (n > sizeof etag - 1 && strncasecmp(ptr, etag, sizeof etag - 1) == 0) {
        size_t i = sizeof etag - 1, e = n;
        while (i < n && (ptr[i] == ' ' || ptr[i] == '\t'))
            i++;
        while (e > i && (ptr[e - 1] == '\r' || ptr[e - 1] == '\n' || ptr[e - 1] == ' '))
            e--;
        if (e - i < sizeof r->etag) {
            memcpy(r->etag, ptr + i, e - i);
            r->etag[e - i] = '\0';
        }
        return n;
    }
    if (n > sizeof cc - 1 && strncasecmp(ptr, cc, sizeof cc - 1) == 0) {
        char line[512];
        size_t m = n - (sizeof cc - 1) < sizeof line - 1 ? n - (sizeof cc - 1) : sizeof line - 1;
        for (size_t k = 0; k < m; k++)
            line[k] = (char)tolower((unsigned char)ptr[sizeof cc - 1 + k]);
        line[m] = '\0';
        const char *ma = strstr(line, "max-age=");
        if (ma) {
            long v = 0;
            int digits = 0;
            for (ma += 8; *ma >= '0' && *ma <= '9' && v < 100000000; ma++, digits++)
                v = v * 10 + (*ma - '0');
            if (digits)
                r->max_age_s = v;
        }
        if (strstr(line, "no-store") || strstr(line, "no-cache"))
            r->no_store = 1;
        return n;
    }
    static const char retry[] = "retry-after:";
    if (n > sizeof retry - 1 && strncasecmp(ptr, retry, sizeof retry - 1) == 0) {
        r->retry_after_s = ruv__http_retry_after(ptr + sizeof retry - 1, n - (sizeof retry - 1));
        return n;
    }
    static const char name[] = "content-type:";
    if (n > sizeof name - 1 && strncasecmp(ptr, name, sizeof name - 1) == 0) {
        size_t i = sizeof name - 1, o = 0;
        while (i < n && (ptr[i] == ' ' || ptr[i] == '\t'))
            i++;
        while (i < n && o + 1 < sizeof r->content_type && ptr[i] != ';' && ptr[i] != '\r' &&
               ptr[i] != '\n' && ptr[i] != ' ')
            r->content_type[o++] = (char)tolower((unsigned char)ptr[i++]);
        r->content_type[o] = '\0';
    }
    return n;
}

int ruv__http_headers_final(CURL *h, const struct ruv__http_resp *resp, const char *line,
                            size_t n, int *is_sse)
{
    if (!((n == 2 && line[0] == '\r') || (n == 1 && line[0] == '\n')))
        return 0;
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200)
        return 0; /* an interim (1xx) block: the final one follows */
    *is_sse = strcmp(resp->content_type, "text/event-stream") == 0 && code / 100 == 2;
    return 1;
}

static int same_origin(const char *url, const struct ruv__origin *want)
{
    struct ruv__origin o;
    return want->scheme[0] && ruv__origin_of(url, &o) == RUV_OK &&
           strcmp(o.scheme, want->scheme) == 0 && strcmp(o.host, want->host) == 0 &&
           o.port == want->port;
}

struct curl_slist *ruv__http_rpc_headers(const struct ruv__http_cfg *cfg, const char *url, int v1)
{
    struct curl_slist *h = NULL, *t;
    const char *lines[] = {"Content-Type: application/json",
                           "Accept: application/json, text/event-stream",
                           "User-Agent: ruvector-a2a/0.1.0", v1 ? "A2A-Version: 1.0" : NULL,
                           "Expect:"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (!lines[i])
            continue;
        if (!(t = curl_slist_append(h, lines[i]))) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = t;
    }
    /* Authorization goes to the card's origin only (a2a.md §6). */
    if (cfg->authorization && same_origin(url, &cfg->auth_origin)) {
        if (!(t = curl_slist_append(h, cfg->authorization))) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = t;
    }
    return h;
}

struct curl_slist *ruv__http_get_headers(const struct ruv__http_cfg *cfg, const char *url, int v1,
                                         const char *extra_header)
{
    const char *lines[] = {"Accept: application/json", "User-Agent: ruvector-a2a/0.1.0",
                           v1 ? "A2A-Version: 1.0" : NULL, extra_header,
                           cfg->authorization && same_origin(url, &cfg->auth_origin)
                               ? cfg->authorization
                               : NULL};
    struct curl_slist *h = NULL;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (!lines[i])
            continue;
        struct curl_slist *t = curl_slist_append(h, lines[i]);
        if (!t) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = t;
    }
    return h;
}

int ruv__http_take_redirect(CURL *h, struct ruv__http_resp *resp)
{
    free(resp->redirect_url);
    resp->redirect_url = NULL;
    if (resp->status / 100 != 3)
        return RUV_OK;
    char *loc = NULL;
    if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc)
        return RUV_OK;
    if (!(resp->redirect_url = strdup(loc)))
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    return RUV_OK;
}

int ruv__http_easy_setup(CURL *h, const struct ruv__http_cfg *cfg, const char *url,
                         struct ruv__http_resp *resp, size_t max_body, int stream)
{
    resp->body.cap_bytes = max_body;
    CURLcode cc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt(h, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    /* Proxies by API only (a2a.md §6): an empty CURLOPT_PROXY turns off
     * curl's environment lookup (http_proxy, HTTPS_PROXY, ALL_PROXY), and an
     * empty CURLOPT_NOPROXY keeps no_proxy from exempting hosts from a
     * proxy the caller named. */
    SET(CURLOPT_PROXY, cfg->proxy ? cfg->proxy : "");
    SET(CURLOPT_NOPROXY, "");
    /* Compression only when asked for. curl decodes before the write
     * callback, so the body and event caps count decoded bytes and a gzip
     * bomb stops at the cap. */
    if (cfg->compression)
        SET(CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    SET(CURLOPT_SSL_VERIFYPEER, cfg->insecure_tls ? 0L : 1L);
    SET(CURLOPT_SSL_VERIFYHOST, cfg->insecure_tls ? 0L : 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (cfg->ca_file)
        SET(CURLOPT_CAINFO, cfg->ca_file);
    SET(CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
    if (!stream)
        SET(CURLOPT_TIMEOUT_MS, cfg->unary_timeout_ms);
    /* A Content-Length over the cap aborts before the body. Not for
     * streams: newer libcurl applies it to the bytes received too, and a
     * stream has no total limit (its events are capped one by one). */
    if (!stream)
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
    SET(CURLOPT_HEADERFUNCTION, ruv__http_on_header);
    SET(CURLOPT_HEADERDATA, resp);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, resp);
#undef SET
    if (cc != CURLE_OK)
        return ruv__detail_set(cc == CURLE_OUT_OF_MEMORY ? RUV_E_NOMEM : RUV_E_INVAL,
                               "curl setup: %s", curl_easy_strerror(cc));
    return RUV_OK;
}

int ruv__http_curl_failure(CURL *h, CURLcode cc, const struct ruv__http_resp *resp,
                           size_t max_body, struct ruv_a2a_call_status *st)
{
    const char *what = curl_easy_strerror(cc);
    if (resp->body.over_cap || cc == CURLE_FILESIZE_EXCEEDED)
        return ruv__http_fail(st, RUV_A2A_ERR_TOO_LARGE,
                              ruv__detail_set(RUV_E_PROTOCOL,
                                              "response body exceeds the %zu-byte cap", max_body));
    if (resp->header_bytes > HEADER_CAP)
        return ruv__http_fail(st, RUV_A2A_ERR_TOO_LARGE,
                              ruv__detail_set(RUV_E_PROTOCOL,
                                              "response headers exceed the %zu-byte cap",
                                              HEADER_CAP));
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return ruv__http_fail(st, RUV_A2A_ERR_TIMEOUT,
                              ruv__detail_set(RUV_E_TIMEOUT, "deadline passed: %s", what));
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        return ruv__http_fail(st, RUV_A2A_ERR_TLS,
                              ruv__detail_set(RUV_E_SECURITY, "TLS: %s", what));
    case CURLE_OUT_OF_MEMORY:
        return ruv__detail_set(RUV_E_NOMEM, "curl: %s", what);
    case CURLE_UNSUPPORTED_PROTOCOL:
        return ruv__http_fail(st, RUV_A2A_ERR_URL,
                              ruv__detail_set(RUV_E_SECURITY, "URL scheme refused: %s", what));
    default:
        break;
    }
    if (st) {
        curl_off_t sent = 0;
        curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &sent);
        if (sent > 0 || resp->header_bytes > 0)
            st->request_sent = 1;
    }
    return ruv__http_fail(st, RUV_A2A_ERR_TRANSPORT,
                          ruv__detail_set(RUV_E_IO, "transport: %s", what));
}

int ruv__http_perform(const struct ruv__http_cfg *cfg, const char *url, const char *body,
                      size_t body_len, int v1, size_t max_body, const char *extra_header,
                      struct ruv__http_resp *resp, struct ruv_a2a_call_status *st)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    resp->max_age_s = -1;
    CURL *h = curl_easy_init();
    if (!h)
        return ruv__detail_set(RUV_E_NOMEM, "curl_easy_init failed");
    struct curl_slist *headers = NULL;
    int rc = ruv__http_easy_setup(h, cfg, url, resp, max_body, 0);
    if (rc == RUV_OK) {
        if (body) {
            headers = ruv__http_rpc_headers(cfg, url, v1);
            if (!headers)
                rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
            else if (curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
                     curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len) !=
                         CURLE_OK ||
                     curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK)
                rc = ruv__detail_set(RUV_E_INVAL, "curl setup of the POST failed");
        } else {
            headers = ruv__http_get_headers(cfg, url, v1, extra_header);
            if (!headers || curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK)
                rc = ruv__detail_set(RUV_E_NOMEM, "curl setup of the GET failed");
        }
    }
    if (rc == RUV_OK) {
        CURLcode cc = curl_easy_perform(h);
        if (st)
            st->request_sent = 0;
        if (cc != CURLE_OK) {
            rc = ruv__http_curl_failure(h, cc, resp, max_body, st);
        } else {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
            rc = ruv__http_take_redirect(h, resp);
            if (st) {
                st->http_status = (int32_t)resp->status;
                st->request_sent = body != NULL;
            }
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    if (rc != RUV_OK)
        ruv__http_resp_free(resp);
    return rc;
}

/* ---- retries (a2a.md §6) ---- */


/* 250 ms * 2^n, at most 5 s, with +-50 % jitter. */
long ruv__http_backoff_ms(int n)
{
    long base = 250L << n;
    if (base > 5000)
        base = 5000;
    unsigned char r[2] = {0, 0};
    if (RAND_bytes(r, sizeof r) != 1)
        r[0] = r[1] = 0x80;
    unsigned u = (unsigned)r[0] << 8 | r[1]; /* 0..65535 */
    return base / 2 + (long)((unsigned long)base * u / 65536);
}

int ruv__http_retryable_status(long s) { return s == 429 || s == 502 || s == 503 || s == 504; }

long ruv__http_retry_wait(const struct ruv__http_resp *resp, int attempt, int *rc,
                          struct ruv_a2a_call_status *st)
{
    *rc = RUV_OK;
    if (resp->retry_after_s > RUV__HTTP_RETRY_AFTER_MAX_S) {
        *rc = ruv__http_fail(st, RUV_A2A_ERR_HTTP,
                             ruv__detail_set(RUV_E_REMOTE,
                                             "HTTP %ld with Retry-After %ld s, longer than the "
                                             "%d s the client waits",
                                             resp->status, resp->retry_after_s,
                                             RUV__HTTP_RETRY_AFTER_MAX_S));
        return -1;
    }
    if (attempt + 1 >= RUV__HTTP_RETRY_ATTEMPTS)
        return -1;
    return resp->retry_after_s >= 0 ? resp->retry_after_s * 1000 : ruv__http_backoff_ms(attempt);
}

int ruv__http_perform_retrying(const struct ruv__http_cfg *cfg, const char *url, const char *body,
                               size_t body_len, int v1, size_t max_body, int idempotent,
                               const char *extra_header, struct ruv__http_resp *resp,
                               struct ruv_a2a_call_status *st)
{
    for (int attempt = 0;; attempt++) {
        int last = attempt + 1 >= RUV__HTTP_RETRY_ATTEMPTS;
        int rc = ruv__http_perform(cfg, url, body, body_len, v1, max_body, extra_header, resp, st);
        if (rc == RUV_OK) {
            if (!idempotent || !ruv__http_retryable_status(resp->status))
                return RUV_OK;
            long wait = ruv__http_retry_wait(resp, attempt, &rc, st);
            if (rc != RUV_OK)
                ruv__http_resp_free(resp);
            if (wait < 0)
                return rc; /* RUV_OK on the last attempt: the caller reports the status */
            ruv__http_resp_free(resp);
            ruv__sleep_ms(wait);
            continue;
        }
        /* A connection that failed: again when the call is idempotent, or
         * when no byte of it left this host (a2a.md §6: SendMessage is
         * never re-sent blind). */
        int again = st && st->error == RUV_A2A_ERR_TRANSPORT &&
                    (idempotent || !st->request_sent);
        if (!again || last)
            return rc;
        ruv__sleep_ms(ruv__http_backoff_ms(attempt));
    }
}
