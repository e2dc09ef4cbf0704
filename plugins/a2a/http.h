/* plugins/a2a/http.h — libcurl transfers with the a2a.md §6 rules: TLS
 * verified (TLS >= 1.2), http/https only, no environment proxy, no
 * redirects, our own size caps enforced while bytes arrive, connect and
 * total deadlines for unary transfers, an idle deadline for streams. */
#ifndef RUV_A2A_HTTP_H
#define RUV_A2A_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include <ruvector/feature-a2a.h>

#include "origin.h"

/* Transport settings of one client (copied from ruv_a2a_client_options). */
struct ruv__http_cfg {
    int insecure_tls;
    char *ca_file;       /* owned, or NULL */
    char *authorization; /* owned "Authorization: ..." header line, or NULL */
    struct ruv__origin auth_origin; /* the only origin authorization goes to */
    long connect_timeout_ms, unary_timeout_ms, idle_timeout_ms, event_timeout_ms;
    size_t max_body, max_event;
    char *proxy;     /* owned proxy URL (the only proxy used: none from the
                        environment), or NULL: no proxy */
    int compression; /* 1: ask for gzip/deflate; caps apply to decoded bytes */
};

#ifndef CURL_WRITEFUNC_ERROR /* libcurl < 7.87 */
#define CURL_WRITEFUNC_ERROR 0xFFFFFFFF
#endif

/* Growable response buffer with a cap. */
struct ruv__http_buf {
    char *data;
    size_t len, cap_bytes, alloc;
    int over_cap; /* 1 once a write would have passed cap_bytes */
};

/* One response: status, Content-Type (lowercase media type, no parameters)
 * and the body. */
struct ruv__http_resp {
    long status;
    char content_type[128];
    long retry_after_s; /* Retry-After in seconds (a delay, or an HTTP-date made a
                           delay from now, 0 when past); -1 when absent or garbage */
    char etag[256];     /* the ETag header, "" when none (or too long to keep) */
    long max_age_s;     /* Cache-Control max-age; -1 when absent */
    int no_store;       /* Cache-Control no-store or no-cache */
    struct ruv__http_buf body;
    size_t header_bytes;
    char *redirect_url; /* a 3xx's Location resolved against the request URL
                           (owned; NULL when none): followed by hand (a2a.md §6) */
};

void ruv__http_resp_free(struct ruv__http_resp *r);

/* Appends n bytes (kept NUL-terminated): 0, or -1 past cap_bytes (over_cap
 * is set), or -2 out of memory. */
int ruv__http_buf_append(struct ruv__http_buf *b, const char *p, size_t n);

/* CURLOPT_HEADERFUNCTION for userdata = struct ruv__http_resp: the 64 KiB
 * header cap and the Content-Type. */

/* The Retry-After value v (n bytes, no line end) in seconds from now:
 * delay-seconds, or an HTTP-date (RFC 9110 §10.2.3; 0 when it has passed);
 * -1 for anything else. */
long ruv__http_retry_after(const char *v, size_t n);
size_t ruv__http_on_header(char *ptr, size_t size, size_t nmemb, void *userdata);

/* For a stream's header callback, after ruv__http_on_header took the
 * header line (line, n bytes) into resp: 1 when it is the blank line that
 * ends the final (status >= 200) header block of h's answer, *is_sse then 1
 * for a 2xx text/event-stream answer, else 0; 0 for any other line. */
int ruv__http_headers_final(CURL *h, const struct ruv__http_resp *resp, const char *line,
                            size_t n, int *is_sse);

/* Headers of a JSON-RPC POST (a2a.md §2) for protocol "1.0" or "0.3". */
struct curl_slist *ruv__http_rpc_headers(const struct ruv__http_cfg *cfg, const char *url,
                                         int v1);

/* Headers of a GET of url (card, JWKS): Accept JSON, A2A-Version 1.0 when
 * v1, extra_header when non-NULL, and Authorization only when url is on
 * cfg's auth origin (a2a.md §6: it never crosses origins). NULL when out
 * of memory. */
struct curl_slist *ruv__http_get_headers(const struct ruv__http_cfg *cfg, const char *url, int v1,
                                         const char *extra_header);

/* After a finished transfer on h: resp->redirect_url set from curl's
 * CURLINFO_REDIRECT_URL when the status is 3xx (curl resolves a relative
 * Location without following it). RUV_OK or RUV_E_NOMEM. */
int ruv__http_take_redirect(CURL *h, struct ruv__http_resp *resp);

/* Prepares an easy handle for url with cfg's TLS, proxy, protocol and
 * timeout rules and resp's header and body callbacks (body capped at
 * max_body). stream selects no total deadline. RUV_OK, RUV_E_NOMEM. */
int ruv__http_easy_setup(CURL *h, const struct ruv__http_cfg *cfg, const char *url,
                         struct ruv__http_resp *resp, size_t max_body, int stream);

/* GET url (A2A-Version: 1.0 when v1) into resp. POST body when body is
 * non-NULL. extra_header (a whole "Name: value" line, e.g. If-None-Match)
 * is added to a GET when non-NULL. Returns RUV_OK once a complete response arrived (any status);
 * otherwise the status and st->error of the failure (timeout, TLS,
 * transport, cap). */
int ruv__http_perform(const struct ruv__http_cfg *cfg, const char *url, const char *body,
                      size_t body_len, int v1, size_t max_body, const char *extra_header,
                      struct ruv__http_resp *resp, struct ruv_a2a_call_status *st);

/* ruv__http_perform with the retries of a2a.md §6: at most 3 attempts;
 * an idempotent call again after a failed connection or HTTP
 * 429/502/503/504 (Retry-After honoured up to 30 s, longer is RUV_E_REMOTE
 * with st->error HTTP), a non-idempotent one only when no byte of it left
 * this host. Backoff 250 ms * 2^n, at most 5 s, +-50 % jitter. */
int ruv__http_perform_retrying(const struct ruv__http_cfg *cfg, const char *url, const char *body,
                               size_t body_len, int v1, size_t max_body, int idempotent,
                               const char *extra_header, struct ruv__http_resp *resp,
                               struct ruv_a2a_call_status *st);

/* The retry rules of a2a.md §6, shared by the blocking and the I/O-thread
 * paths: attempts in all, the longest Retry-After honoured, the backoff
 * before attempt n + 1 (250 ms * 2^n, at most 5 s, +-50 % jitter) and the
 * statuses an idempotent call retries (429, 502, 503, 504). */
#define RUV__HTTP_RETRY_ATTEMPTS 3
#define RUV__HTTP_RETRY_AFTER_MAX_S 30
long ruv__http_backoff_ms(int n);
int ruv__http_retryable_status(long s);
/* For a response whose status an idempotent call retries, after attempt
 * (from 0): the wait in ms before the next attempt, or -1 for none — the
 * last attempt (*rc RUV_OK: the caller reports the status) or a
 * Retry-After over the limit (*rc RUV_E_REMOTE, st->error HTTP). */
long ruv__http_retry_wait(const struct ruv__http_resp *resp, int attempt, int *rc,
                          struct ruv_a2a_call_status *st);

/* Maps a finished transfer's CURLcode to a status, st->error and detail. */
int ruv__http_curl_failure(CURL *h, CURLcode cc, const struct ruv__http_resp *resp,
                           size_t max_body, struct ruv_a2a_call_status *st);

/* Records an error kind in st (when non-NULL) and returns status. */
int ruv__http_fail(struct ruv_a2a_call_status *st, uint32_t error, int status);

#endif
