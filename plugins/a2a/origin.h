/* plugins/a2a/origin.h — which URLs the client may fetch keys and cards from
 * (a2a.md §4 key resolution 3, §6 TLS): https anywhere, plain http only to a
 * loopback host unless allowed, and a card's jku only on the card's own
 * origin or a trusted one. URLs are parsed by libcurl's URL API, the parser
 * the transfers themselves use, so the check and the fetch agree. */
#ifndef RUV_A2A_ORIGIN_H
#define RUV_A2A_ORIGIN_H

#include <stddef.h>

/* Scheme, lowercase host and port (the scheme's default when absent) of an
 * absolute http(s) URL. */
struct ruv__origin {
    char scheme[8];  /* "http" or "https" */
    char host[256];  /* IPv6 literals keep their brackets: "[::1]" */
    unsigned port;
};

/* Parses url. RUV_E_PROTOCOL if it is not an absolute http or https URL
 * (detail says why), RUV_E_NOMEM. */
int ruv__origin_of(const char *url, struct ruv__origin *out);

/* 1 if o's host is loopback: localhost, 127.0.0.0/8 or [::1]. */
int ruv__origin_is_loopback(const struct ruv__origin *o);

/* RUV_OK if url may be used: https, or http to loopback, or http anywhere
 * when allow_http is set. Else RUV_E_SECURITY naming the host. */
int ruv__origin_check_transport(const char *url, int allow_http);

/* RUV_OK if a card served from card_url may take its JWKS from jku: jku passes
 * ruv__origin_check_transport(jku, 0), and its origin equals the card's or
 * one of trusted[0..n) (each an origin or any URL on it). Else
 * RUV_E_SECURITY or RUV_E_PROTOCOL with the reason. */
int ruv__origin_check_jku(const char *card_url, const char *jku, const char *const *trusted,
                          size_t n);

#endif
