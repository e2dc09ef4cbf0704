/* ruvector/error.h — status codes and error details. */
#ifndef RUVECTOR_ERROR_H
#define RUVECTOR_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible public function returns one of these. Values never change;
 * new codes are only appended (more negative). */
typedef enum ruv_status {
    RUV_OK = 0,
    RUV_E_INVAL = -1,       /* an argument is invalid (NULL, out of range, malformed) */
    RUV_E_NOMEM = -2,       /* an allocation failed */
    RUV_E_NOTFOUND = -3,    /* a named thing (kernel, plugin, id, file) does not exist */
    RUV_E_UNSUPPORTED = -4, /* valid request this CPU/build cannot serve */
    RUV_E_ABI = -5,         /* plugin built for another plugin ABI */
    RUV_E_PLUGIN = -6,      /* plugin malformed: missing symbol, bad descriptor, failed init */
    RUV_E_SELFTEST = -7,    /* plugin disagrees with the scalar reference or its own self-test */
    RUV_E_IO = -8,          /* an operating-system I/O call failed */
    RUV_E_STATE = -9,       /* the object is in the wrong state for this call */
    RUV_E_DIM = -10,        /* vector dimension does not match the index */
    RUV_E_EMPTY = -11,      /* operation needs a non-empty index */
    RUV_E_CORRUPT = -12,    /* a file or buffer failed validation (magic, size, checksum) */
    /* Reserved by the feature plugins (ruLake, the A2A client, the Embedder);
     * generic, so any plugin may return them. */
    RUV_E_INTEGRITY = -13,  /* a witness, content digest or signature does not match */
    RUV_E_BACKEND = -14,    /* a data backend failed; the detail names backend and collection */
    RUV_E_MISS = -15,       /* not in the cache, and the call forbade fetching it */
    RUV_E_CANCELED = -16,   /* the caller canceled the operation */
    RUV_E_SECURITY = -17,   /* a peer failed verification (card signature, TLS, pinning) */
    RUV_E_POLICY = -18,     /* refused by the caller's policy or budget before anything was sent */
    RUV_E_PROTOCOL = -19,   /* a peer broke the protocol (malformed or unexpected message) */
    RUV_E_REMOTE = -20,     /* a peer reported an error of its own */
    RUV_E_TIMEOUT = -21     /* a deadline passed */
} ruv_status;

/* The most negative status code in this header; codes only ever grow down. */
#define RUV_STATUS_MIN RUV_E_TIMEOUT

/* Symbolic name, e.g. "RUV_E_ABI". Static string; "RUV_E_UNKNOWN" for values
 * that are not codes. */
const char *ruv_status_name(int status);

/* Short description, e.g. "plugin ABI mismatch". Static string. */
const char *ruv_status_str(int status);

/* Thread-local detail text for the last failing call on this thread, e.g.
 * "kernel 'avx512' needs AVX512F AVX512VPOPCNTDQ; CPU has AVX2 FMA ...".
 * Meaningful only right after a call returned non-OK (like errno). The
 * pointer is valid until the next ruvector call on the same thread. Never NULL. */
const char *ruv_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
