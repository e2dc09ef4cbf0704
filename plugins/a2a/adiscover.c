/* plugins/a2a/adiscover.c — card discovery on the I/O thread (ops V4):
 * the GETs discover.c asks for (card, agent.json fallback, redirects,
 * JWKS) run as one op of the client's queue, with the retries of a2a.md §6,
 * so that an asynchronous connect adds no thread. The I/O thread works on
 * a copy of the client's transport settings and never touches the client;
 * the finished discovery travels in the op's event and poll, on the
 * caller's thread, lands it in the client. */
#include "config.h"
#include "io.h"
#include "client.h"
#include "clock.h"
#include "detail.h"
#include "discover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ruv__adisc {
    struct ruv__discover *d;
    struct ruv__http_cfg http; /* a deep copy: the client may close meanwhile */
};

void ruv__adisc_free(struct ruv__adisc *a)
{
    if (!a)
        return;
    ruv__discover_free(a->d);
    free(a->http.ca_file);
    free(a->http.authorization);
    free(a->http.proxy);
    free(a);
}

static int copy_cfg(struct ruv__http_cfg *dst, const struct ruv__http_cfg *src)
{
    *dst = *src;
    dst->ca_file = NULL;
    dst->authorization = NULL;
    dst->proxy = NULL;
    if ((src->ca_file && !(dst->ca_file = strdup(src->ca_file))) ||
        (src->authorization && !(dst->authorization = strdup(src->authorization))) ||
        (src->proxy && !(dst->proxy = strdup(src->proxy))))
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    return RUV_OK;
}

/* The easy handle of op's next GET (a fresh handle state, the same
 * connection cache). */
static int build_get(struct ruv__op *op, const struct ruv__discover_get *get)
{
    struct ruv__adisc *a = op->discover;
    if (op->h)
        curl_easy_reset(op->h);
    else if (!(op->h = curl_easy_init()))
        return ruv__detail_set(RUV_E_NOMEM, "curl_easy_init failed");
    curl_slist_free_all(op->headers);
    if (!(op->headers = ruv__http_get_headers(&a->http, get->url, 1, get->extra_header)))
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    ruv__http_resp_free(&op->resp);
    op->resp.retry_after_s = -1;
    op->resp.max_age_s = -1;
    op->attempt = 0;
    int rc = ruv__http_easy_setup(op->h, &a->http, get->url, &op->resp, get->cap, 0);
    if (rc == RUV_OK && curl_easy_setopt(op->h, CURLOPT_HTTPHEADER, op->headers) != CURLE_OK)
        rc = ruv__detail_set(RUV_E_INVAL, "curl setup of the GET failed");
    return rc;
}

/* The op's event once discovery is over: the discovery rides along. */
static struct ruv__ev_node *result_node(struct ruv__op *op)
{
    struct ruv__ev_node *n = ruv__async_node(op, RUV_A2A_EV_RESULT, RUV_OK, RUV_A2A_ERR_NONE, "",
                                             NULL);
    if (n) {
        n->discover = op->discover->d;
        op->discover->d = NULL;
    }
    return n;
}

int ruv__adiscover_submit(struct ruv_a2a_client *c, const char *base_url,
                          const struct ruv_a2a_client_options *o, struct ruv__card_cache *cache,
                          uint64_t *req, struct ruv_a2a_call_status *st)
{
    (void)st;
    int rc = ruv__async_ready(c);
    if (rc != RUV_OK)
        return rc;
    struct ruv__op *op = calloc(1, sizeof *op);
    if (!op || !(op->discover = calloc(1, sizeof *op->discover))) {
        free(op);
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    }
    op->method = 0; /* a connect, not an enum ruv_a2a_method */
    op->idempotent = 1;
    op->v1 = 1;
    rc = copy_cfg(&op->discover->http, &c->http);
    if (rc == RUV_OK)
        rc = ruv__discover_new(base_url, o, cache, &op->discover->d);
    /* Everything else, a cache lookup and verification included, is the
     * I/O thread's (ruv__adiscover_start): the caller only queues. */
    if (rc == RUV_OK)
        rc = ruv__async_hand_over(c, op, req);
    if (rc != RUV_OK)
        ruv__op_free(op);
    return rc;
}

int ruv__adiscover_start(struct ruv__op *op, struct ruv__ev_node **node)
{
    *node = NULL;
    struct ruv__discover_get get;
    if (!ruv__discover_next(op->discover->d, &get)) { /* a fresh cache entry settled it */
        *node = result_node(op);
        return 0;
    }
    int rc = build_get(op, &get);
    if (rc != RUV_OK) {
        *node = ruv__async_event(op, rc, RUV_A2A_ERR_NONE, ruv__detail_get());
        return 0;
    }
    return 1;
}

int ruv__adiscover_done(struct ruv__op *op, CURLcode cc, struct ruv__ev_node **node)
{
    *node = NULL;
    struct ruv_a2a_call_status st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int last = op->attempt + 1 >= RUV__HTTP_RETRY_ATTEMPTS;
    long wait_ms = -1;
    int rc = RUV_OK;
    int64_t now = ruv__clock_ms();
    if (cc == CURLE_OK) {
        curl_easy_getinfo(op->h, CURLINFO_RESPONSE_CODE, &op->resp.status);
        st.http_status = (int32_t)op->resp.status;
        rc = ruv__http_take_redirect(op->h, &op->resp);
        if (rc == RUV_OK && ruv__http_retryable_status(op->resp.status)) {
            wait_ms = ruv__http_retry_wait(&op->resp, op->attempt, &rc, &st);
        }
    } else {
        rc = ruv__http_curl_failure(op->h, cc, &op->resp, op->resp.body.cap_bytes, &st);
        if (st.error == RUV_A2A_ERR_TRANSPORT && !last)
            wait_ms = ruv__http_backoff_ms(op->attempt); /* GETs are idempotent */
    }
    if (wait_ms >= 0) {
        size_t cap = op->resp.body.cap_bytes;
        ruv__http_resp_free(&op->resp);
        op->resp.retry_after_s = -1;
        op->resp.max_age_s = -1;
        op->resp.body.cap_bytes = cap;
        op->attempt++;
        op->retry_at_ms = now + (wait_ms > 0 ? wait_ms : 1);
        return 1;
    }
    struct ruv__discover *d = op->discover->d;
    ruv__discover_feed(d, rc, &op->resp, &st); /* takes the response */
    struct ruv__discover_get get;
    if (ruv__discover_next(d, &get)) {
        rc = build_get(op, &get);
        if (rc == RUV_OK) {
            op->retry_at_ms = now > 0 ? now : 1; /* at once: the loop starts it */
            return 1;
        }
        *node = ruv__async_event(op, rc, RUV_A2A_ERR_NONE, ruv__detail_get());
        return 0;
    }
    *node = result_node(op);
    return 0;
}

void ruv__adiscover_land(struct ruv_a2a_client *c, struct ruv__ev_node *node)
{
    struct ruv_a2a_call_status st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int rc = ruv__client_discovered(c, node->discover, &st);
    ruv__discover_free(node->discover);
    node->discover = NULL;
    node->ev.status = rc;
    node->ev.error = st.error;
    node->ev.http_status = st.http_status;
    snprintf(node->detail, sizeof node->detail, "%s", rc == RUV_OK ? "" : ruv__detail_get());
}
