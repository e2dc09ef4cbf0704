/* download.h — one model file over HTTPS with libcurl (embed.md §6.3,
 * plugin-internal).
 *
 * The body streams into "<dest>.part" while SHA-256 (OpenSSL EVP) and a
 * byte count run over it; the part file is fsync'd and renamed to <dest>
 * only when both match what the registry expects, and removed on any
 * failure. The caller holds the model's lock (model_cache.c), so no other
 * process writes the same part file. */
#ifndef RUV_EMBED_DOWNLOAD_H
#define RUV_EMBED_DOWNLOAD_H

#include <stdint.h>

/* Called as bytes arrive: `file` is the relative path being fetched, `done`
 * the bytes written so far and `total` the expected size. Return non-zero
 * to cancel (the download then fails with RUV_E_CANCELED). */
typedef int (*ruv__embed_progress_fn)(void *ctx, const char *file, uint64_t done, uint64_t total);

struct ruv__embed_net_opts {
    const char *ca_file;          /* PEM bundle to trust instead of the system's; NULL: system */
    long connect_timeout_s;       /* 0: 30 */
    long low_speed_bytes;         /* abort below this many bytes/s ... 0: 1024 */
    long low_speed_time_s;        /* ... sustained this long; 0: 60 */
    ruv__embed_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

/* Fetches `url` into `dest` (an absolute path whose folder exists). `label`
 * names the file in errors and progress. The URL must be https://, or
 * http:// to a loopback host (127.0.0.1, ::1, localhost; for tests); peers
 * are verified, at most 5 redirects are followed (to HTTPS only, or for a
 * loopback http:// URL to http or https), HTTP errors fail, and there is no
 * total timeout. Returns RUV_OK, or with the detail naming the curl code,
 * its error buffer, the URL and the file:
 *   RUV_E_INVAL      a URL that is not https:// (or loopback http://)
 *   RUV_E_REMOTE     the server answered with an HTTP error (404, ...)
 *   RUV_E_TIMEOUT    connect timeout, or the transfer stalled below the low-speed limit
 *   RUV_E_SECURITY   TLS or peer verification failed
 *   RUV_E_PROTOCOL   too many redirects, a redirect to a refused scheme, a
 *                    short or over-long body, or a broken response
 *   RUV_E_INTEGRITY  the body's SHA-256 is not expected_sha256 (both named)
 *   RUV_E_CANCELED   the progress callback asked to stop
 *   RUV_E_IO         a local file operation, or the connection, failed
 *   RUV_E_UNSUPPORTED libcurl could not be initialised */
int ruv__embed_download(const char *url, const char *dest, const char *label, uint64_t expected_size,
                        const char *expected_sha256, const struct ruv__embed_net_opts *opts);

/* 1 if `url` may be fetched: https://, or http:// with a loopback host. */
int ruv__embed_url_allowed(const char *url);

#endif
