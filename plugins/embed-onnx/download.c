/* download.c — one model file over HTTPS (download.h, embed.md §6.3). */
#include "config.h"
#include "download.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/detail.h"


/* curl_global_init is not ours alone (the a2a plugin calls it too); with a
 * thread-safe libcurl both calls are fine, and the once-guard keeps ours to
 * one. It is never paired with curl_global_cleanup: the plugin stays
 * resident (-z nodelete) and another user may still need libcurl. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static int is_loopback_host(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "localhost") == 0;
}

/* 1 https, 2 loopback http, 0 refused. */
static int url_kind(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int kind = 0;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (strcmp(scheme, "https") == 0)
            kind = 1;
        else if (strcmp(scheme, "http") == 0 && is_loopback_host(host))
            kind = 2;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return kind;
}

int ruv__embed_url_allowed(const char *url) { return url && url_kind(url) != 0; }

struct sink {
    int fd;
    EVP_MD_CTX *md;
    uint64_t got, expected;
    int overflow, io_errno, canceled, md_failed;
    const char *label;
    const struct ruv__embed_net_opts *opts;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    struct sink *s = user;
    size_t n = size * nmemb;
    /* More than the registry's size can never hash right: stop early. */
    if (n > s->expected - s->got) {
        s->overflow = 1;
        return 0;
    }
    if (EVP_DigestUpdate(s->md, data, n) != 1) {
        s->md_failed = 1;
        return 0;
    }
    for (size_t off = 0; off < n;) {
        ssize_t w = write(s->fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->io_errno = w < 0 ? errno : EIO;
            return 0;
        }
        off += (size_t)w;
    }
    s->got += n;
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    struct sink *s = user;
    if (s->opts->progress && s->opts->progress(s->opts->progress_ctx, s->label, s->got, s->expected) != 0) {
        s->canceled = 1;
        return 1;
    }
    return 0;
}

static int status_of(CURLcode cc)
{
    switch (cc) {
    case CURLE_HTTP_RETURNED_ERROR:
        return RUV_E_REMOTE;
    case CURLE_OPERATION_TIMEDOUT:
        return RUV_E_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
        return RUV_E_SECURITY;
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
        return RUV_E_PROTOCOL;
    default:
        return RUV_E_IO;
    }
}

static void hex32(const unsigned char *d, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[64] = '\0';
}

/* fsync of the folder that holds `path`, so the rename survives a crash. */
static int sync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n == 0 || n >= sizeof dir)
        return 0;
    memcpy(dir, path, n);
    dir[n] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Runs the transfer into s; returns the curl code. errbuf gets the detail. */
static CURLcode transfer(CURL *h, const char *url, int kind, struct sink *s, char *errbuf, long *http_code)
{
    const struct ruv__embed_net_opts *o = s->opts;
    CURLcode cc;
#define SET(opt, val)                                                                                         \
    do {                                                                                                       \
        if ((cc = curl_easy_setopt(h, opt, val)) != CURLE_OK)                                                  \
            return cc;                                                                                         \
    } while (0)
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_URL, url);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_FAILONERROR, 1L);
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, 5L);
    /* Loopback http is for tests only; a redirect may then stay on http. */
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string form; the bitmask is deprecated */
    SET(CURLOPT_PROTOCOLS_STR, kind == 2 ? "http,https" : "https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, kind == 2 ? "http,https" : "https");
#else
    SET(CURLOPT_PROTOCOLS, kind == 2 ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS) : (long)CURLPROTO_HTTPS);
    SET(CURLOPT_REDIR_PROTOCOLS, kind == 2 ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS) : (long)CURLPROTO_HTTPS);
#endif
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        SET(CURLOPT_CAINFO, o->ca_file);
    SET(CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s > 0 ? o->connect_timeout_s : 30L);
    SET(CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes > 0 ? o->low_speed_bytes : 1024L);
    SET(CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s > 0 ? o->low_speed_time_s : 60L);
    SET(CURLOPT_USERAGENT, "ruvector-embed/" PACKAGE_VERSION);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, s);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, s);
#undef SET
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http_code);
    return cc;
}

int ruv__embed_download(const char *url, const char *dest, const char *label, uint64_t expected_size,
                        const char *expected_sha256, const struct ruv__embed_net_opts *opts)
{
    static const struct ruv__embed_net_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    if (!url || !dest || !label || !expected_sha256)
        return ruv__detail_set(RUV_E_INVAL, "embed download: NULL argument");
    int kind = url_kind(url);
    if (!kind)
        return ruv__detail_set(RUV_E_INVAL,
                               "embed download: %s: refusing URL %s: only https:// (or http:// to a loopback "
                               "host, for tests) is allowed", label, url);
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return ruv__detail_set(RUV_E_UNSUPPORTED, "embed download: curl_global_init: %s",
                               curl_easy_strerror(curl_init_rc));

    char part[4096];
    if ((size_t)snprintf(part, sizeof part, "%s.part", dest) >= sizeof part)
        return ruv__detail_set(RUV_E_INVAL, "embed download: %s: destination path too long", label);
    struct sink s = {.fd = -1, .expected = expected_size, .label = label, .opts = opts};
    int rc = RUV_OK;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = NULL;
    s.md = EVP_MD_CTX_new();
    if (!s.md || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
        rc = ruv__detail_set(RUV_E_NOMEM, "embed download: %s: cannot start SHA-256", label);
        goto out;
    }
    s.fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s.fd < 0) {
        rc = ruv__detail_set(RUV_E_IO, "embed download: %s: cannot create %s: %s", label, part, strerror(errno));
        goto out;
    }
    h = curl_easy_init();
    if (!h) {
        rc = ruv__detail_set(RUV_E_NOMEM, "embed download: %s: curl_easy_init failed", label);
        goto out;
    }
    long http_code = 0;
    CURLcode cc = transfer(h, url, kind, &s, errbuf, &http_code);
    if (s.canceled) {
        rc = ruv__detail_set(RUV_E_CANCELED, "embed download: %s: canceled by the progress callback (%s)", label,
                             url);
    } else if (s.overflow) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "embed download: %s: %s sent more than the expected %llu bytes",
                             label, url, (unsigned long long)expected_size);
    } else if (s.io_errno) {
        rc = ruv__detail_set(RUV_E_IO, "embed download: %s: writing %s: %s", label, part, strerror(s.io_errno));
    } else if (s.md_failed) {
        rc = ruv__detail_set(RUV_E_NOMEM, "embed download: %s: SHA-256 update failed", label);
    } else if (cc != CURLE_OK) {
        char http[32] = "";
        if (cc == CURLE_HTTP_RETURNED_ERROR && http_code > 0)
            snprintf(http, sizeof http, " (HTTP %ld)", http_code);
        rc = ruv__detail_set(status_of(cc), "embed download: %s: %s: curl error %d (%s)%s: %s", label, url,
                             (int)cc, curl_easy_strerror(cc), http, errbuf[0] ? errbuf : "no detail");
    } else if (s.got != expected_size) {
        rc = ruv__detail_set(RUV_E_PROTOCOL, "embed download: %s: %s: body is %llu bytes, expected %llu", label,
                             url, (unsigned long long)s.got, (unsigned long long)expected_size);
    } else {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int dlen = 0;
        char got[65];
        if (EVP_DigestFinal_ex(s.md, d, &dlen) != 1 || dlen != 32) {
            rc = ruv__detail_set(RUV_E_NOMEM, "embed download: %s: SHA-256 final failed", label);
            goto out;
        }
        hex32(d, got);
        if (strcmp(got, expected_sha256) != 0) {
            rc = ruv__detail_set(RUV_E_INTEGRITY,
                                 "embed download: %s: %s: SHA-256 is %s, the registry expects %s", label, url,
                                 got, expected_sha256);
            goto out;
        }
        if (fsync(s.fd) != 0 || close(s.fd) != 0) {
            s.fd = -1;
            rc = ruv__detail_set(RUV_E_IO, "embed download: %s: fsync %s: %s", label, part, strerror(errno));
            goto out;
        }
        s.fd = -1;
        if (rename(part, dest) != 0) {
            rc = ruv__detail_set(RUV_E_IO, "embed download: %s: rename %s: %s", label, part, strerror(errno));
            goto out;
        }
        if (sync_parent(dest) != 0)
            rc = ruv__detail_set(RUV_E_IO, "embed download: %s: fsync of the folder of %s: %s", label, dest,
                                 strerror(errno));
    }
out:
    if (s.fd >= 0)
        close(s.fd);
    if (rc != RUV_OK)
        unlink(part);
    if (h)
        curl_easy_cleanup(h);
    EVP_MD_CTX_free(s.md);
    return rc;
}
