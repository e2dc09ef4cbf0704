/* plugins/a2a/origin.c — URL origin checks through libcurl's URL API. */
#include "config.h"
#include "origin.h"
#include "detail.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

int ruv__origin_of(const char *url, struct ruv__origin *out)
{
    if (url == NULL || out == NULL)
        return ruv__detail_set(RUV_E_INVAL, "url: NULL argument");
    memset(out, 0, sizeof *out);
    CURLU *u = curl_url();
    if (u == NULL)
        return ruv__detail_set(RUV_E_NOMEM, "url: out of memory");
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = RUV_OK;
    /* No guessing of a missing scheme: only absolute URLs are accepted. */
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "url \"%.80s\": %s", url, curl_url_strerror(uc));
        goto done;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "url \"%.80s\": no scheme, host or port", url);
        goto done;
    }
    lower(scheme);
    lower(host);
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "url \"%.80s\": scheme %s is not http or https",
                           url, scheme);
        goto done;
    }
    if (strlen(host) >= sizeof out->host) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "url \"%.80s\": host name too long", url);
        goto done;
    }
    strcpy(out->scheme, scheme);
    strcpy(out->host, host);
    out->port = (unsigned)strtoul(port, NULL, 10);
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

int ruv__origin_is_loopback(const struct ruv__origin *o)
{
    if (strcmp(o->host, "localhost") == 0 || strcmp(o->host, "[::1]") == 0)
        return 1;
    struct in_addr a;
    /* libcurl writes IPv4 hosts in dotted-quad form ("127.1" becomes 127.0.0.1). */
    return inet_pton(AF_INET, o->host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static int transport_allowed(const struct ruv__origin *o, int allow_http)
{
    if (strcmp(o->scheme, "https") == 0 || allow_http || ruv__origin_is_loopback(o))
        return RUV_OK;
    return ruv__detail_set(RUV_E_SECURITY,
                         "url: plain http to %.64s refused (https, or http only to loopback)",
                         o->host);
}

int ruv__origin_check_transport(const char *url, int allow_http)
{
    struct ruv__origin o;
    int rc = ruv__origin_of(url, &o);
    if (rc != RUV_OK)
        return rc;
    return transport_allowed(&o, allow_http);
}

static int same_origin(const struct ruv__origin *a, const struct ruv__origin *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 && a->port == b->port;
}

int ruv__origin_check_jku(const char *card_url, const char *jku, const char *const *trusted,
                          size_t n)
{
    struct ruv__origin card, keys;
    int rc = ruv__origin_of(jku, &keys);
    if (rc == RUV_OK)
        rc = transport_allowed(&keys, 0);
    if (rc != RUV_OK)
        return ruv__detail_prefix(rc, "jku");
    if ((rc = ruv__origin_of(card_url, &card)) != RUV_OK)
        return ruv__detail_prefix(rc, "card url");
    if (same_origin(&card, &keys))
        return RUV_OK;
    for (size_t i = 0; i < n; i++) {
        struct ruv__origin t;
        if (trusted[i] != NULL && ruv__origin_of(trusted[i], &t) == RUV_OK && same_origin(&t, &keys))
            return RUV_OK;
    }
    return ruv__detail_set(RUV_E_SECURITY,
                         "jku: %s://%.64s:%u is neither the card's origin nor a trusted one",
                         keys.scheme, keys.host, keys.port);
}
