/* libcrypto found at run time (contract in crypto.h). dlopen, not libltdl:
 * libcrypto is a system library found by name, not a ruvector plugin, and
 * RTLD_LOCAL keeps its symbols from interposing on the host's. It is never
 * dlclose'd: OpenSSL pins itself (atexit(OPENSSL_cleanup)) anyway. */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "crypto_abi.h"
#include "lake_error.h"

#if defined(__APPLE__)
#define DEFAULT_LIBCRYPTO "libcrypto.3.dylib"
#else
#define DEFAULT_LIBCRYPTO "libcrypto.so.3"
#endif

struct libcrypto {
    ruv__lake_EVP_MD_fetch_fn md_fetch;
    ruv__lake_EVP_MD_free_fn md_free;
    ruv__lake_EVP_MD_CTX_new_fn ctx_new;
    ruv__lake_EVP_MD_CTX_free_fn ctx_free;
    ruv__lake_EVP_DigestInit_ex_fn digest_init;
    ruv__lake_EVP_DigestUpdate_fn digest_update;
    ruv__lake_EVP_DigestFinalXOF_fn digest_final_xof;
    ruv__lake_EVP_PKEY_new_raw_key_fn pkey_new_public;
    ruv__lake_EVP_PKEY_new_raw_key_fn pkey_new_private;
    ruv__lake_EVP_PKEY_get_raw_public_key_fn pkey_get_public;
    ruv__lake_EVP_PKEY_free_fn pkey_free;
    ruv__lake_EVP_DigestSignVerifyInit_fn verify_init;
    ruv__lake_EVP_DigestVerify_fn verify;
    ruv__lake_EVP_DigestSignVerifyInit_fn sign_init;
    ruv__lake_EVP_DigestSign_fn sign;
    ruv__lake_OpenSSL_version_fn version;
    ruv__lake_OpenSSL_version_num_fn version_num;
    ruv__lake_ERR_get_error_fn err_get;
    ruv__lake_ERR_error_string_n_fn err_string;
    ruv__lake_BIO_new_mem_buf_fn bio_mem;
    ruv__lake_BIO_free_fn bio_free;
    ruv__lake_PEM_read_bio_key_fn pem_public;
    ruv__lake_PEM_read_bio_key_fn pem_private;
    ruv__lake_EVP_PKEY_get_raw_public_key_fn pkey_get_private;
    ruv__lake_EVP_PKEY_get_base_id_fn pkey_base_id;
    ruv__lake_EVP_PKEY_get0_type_name_fn pkey_type_name;
    struct evp_md_st *shake256; /* fetched once; EVP_MD objects are shareable */
};

#define REPORT_SIZE 1024

static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;
static struct libcrypto lib;                   /* written under load_mu, before publishing */
static _Atomic(const struct libcrypto *) live; /* non-NULL once lib is complete */
static char report[REPORT_SIZE] = "not loaded";
static char loaded_path[REPORT_SIZE], loaded_version[128]; /* set once, before publishing */

/* The symbol list drives both loading and messages; offsets keep it one table. */
#define SYMBOLS(X)                                                         \
    X(md_fetch, "EVP_MD_fetch")                                            \
    X(md_free, "EVP_MD_free")                                              \
    X(ctx_new, "EVP_MD_CTX_new")                                           \
    X(ctx_free, "EVP_MD_CTX_free")                                         \
    X(digest_init, "EVP_DigestInit_ex")                                    \
    X(digest_update, "EVP_DigestUpdate")                                   \
    X(digest_final_xof, "EVP_DigestFinalXOF")                              \
    X(pkey_new_public, "EVP_PKEY_new_raw_public_key")                      \
    X(pkey_new_private, "EVP_PKEY_new_raw_private_key")                    \
    X(pkey_get_public, "EVP_PKEY_get_raw_public_key")                      \
    X(pkey_free, "EVP_PKEY_free")                                          \
    X(verify_init, "EVP_DigestVerifyInit")                                 \
    X(verify, "EVP_DigestVerify")                                          \
    X(sign_init, "EVP_DigestSignInit")                                     \
    X(sign, "EVP_DigestSign")                                              \
    X(version, "OpenSSL_version")                                          \
    X(version_num, "OpenSSL_version_num")                                  \
    X(err_get, "ERR_get_error")                                            \
    X(err_string, "ERR_error_string_n")                                    \
    X(bio_mem, "BIO_new_mem_buf")                                          \
    X(bio_free, "BIO_free")                                                \
    X(pem_public, "PEM_read_bio_PUBKEY")                                   \
    X(pem_private, "PEM_read_bio_PrivateKey")                              \
    X(pkey_get_private, "EVP_PKEY_get_raw_private_key")                    \
    X(pkey_base_id, "EVP_PKEY_get_base_id")                                \
    X(pkey_type_name, "EVP_PKEY_get0_type_name")

/* Fails with the load error; also keeps it in the report. */
static int load_failed(const char *fmt, const char *a, const char *b)
{
    char why[REPORT_SIZE - 16];
    snprintf(why, sizeof why, fmt, a, b);
    snprintf(report, sizeof report, "not loaded: %s", why);
    return ruv__detail_set(RUV_E_UNSUPPORTED,
                           "OpenSSL 3 libcrypto is needed for SHAKE-256 witnesses and Ed25519: %s",
                           why);
}

static int load_locked(const char *path)
{
    const char *name = path ? path : DEFAULT_LIBCRYPTO;
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *err = dlerror();
        return load_failed("cannot open %s (%s)", name, err ? err : "unknown error");
    }
    struct libcrypto l;
    memset(&l, 0, sizeof l);
    void *p;
#define X(field, sym)                                                               \
    p = dlsym(h, sym);                                                              \
    if (!p) {                                                                       \
        dlclose(h);                                                                 \
        return load_failed("%s has no %s (OpenSSL 3 required)", name, sym);         \
    }                                                                               \
    memcpy(&l.field, &p, sizeof l.field); /* POSIX: object → function pointer */
    SYMBOLS(X)
#undef X
    if (l.version_num() < 0x30000000UL) {
        char v[128];
        snprintf(v, sizeof v, "%s", l.version(RUV_LAKE_OPENSSL_VERSION));
        dlclose(h);
        return load_failed("%s is %s, not OpenSSL 3", name, v);
    }
    l.shake256 = l.md_fetch(NULL, "SHAKE256", NULL);
    if (!l.shake256) {
        char e[256] = "no detail";
        unsigned long code = l.err_get();
        if (code)
            l.err_string(code, e, sizeof e);
        dlclose(h);
        return load_failed("%s: EVP_MD_fetch(SHAKE256) failed: %s", name, e);
    }

    /* The path that was really opened, even when a bare name was given. */
    Dl_info info;
    const char *where = name;
    void *any;
    memcpy(&any, &l.md_fetch, sizeof any);
    if (dladdr(any, &info) && info.dli_fname)
        where = info.dli_fname;
    snprintf(report, sizeof report, "%s (%s)", where, l.version(RUV_LAKE_OPENSSL_VERSION));
    snprintf(loaded_path, sizeof loaded_path, "%s", where);
    snprintf(loaded_version, sizeof loaded_version, "%s", l.version(RUV_LAKE_OPENSSL_VERSION));
    lib = l;
    atomic_store_explicit(&live, &lib, memory_order_release);
    return RUV_OK;
}

int ruv__lake_crypto_load(const char *path)
{
    if (atomic_load_explicit(&live, memory_order_acquire))
        return RUV_OK;
    pthread_mutex_lock(&load_mu);
    int st = atomic_load_explicit(&live, memory_order_acquire) ? RUV_OK : load_locked(path);
    pthread_mutex_unlock(&load_mu);
    return st;
}

const char *ruv__lake_crypto_report(void) { return report; }

const char *ruv__lake_crypto_path(void)
{
    return atomic_load_explicit(&live, memory_order_acquire) ? loaded_path : NULL;
}

const char *ruv__lake_crypto_version(void)
{
    return atomic_load_explicit(&live, memory_order_acquire) ? loaded_version : NULL;
}

static const struct libcrypto *get(int *st)
{
    const struct libcrypto *l = atomic_load_explicit(&live, memory_order_acquire);
    if (l) {
        *st = RUV_OK;
        return l;
    }
    *st = ruv__lake_crypto_load(NULL);
    return *st == RUV_OK ? atomic_load_explicit(&live, memory_order_acquire) : NULL;
}

/* The OpenSSL error queue is per thread; drain it into the detail so one
 * failure does not leak into the next caller's message. */
static int openssl_failed(const struct libcrypto *l, int status, const char *what)
{
    char e[256] = "no detail";
    unsigned long code = l->err_get(), next;
    if (code)
        l->err_string(code, e, sizeof e);
    while ((next = l->err_get()) != 0) {
    }
    return ruv__detail_set(status, "OpenSSL %s failed: %s", what, e);
}

struct ruv__lake_shake {
    const struct libcrypto *l;
    struct evp_md_ctx_st *ctx;
};

int ruv__lake_shake_new(struct ruv__lake_shake **out)
{
    *out = NULL;
    int st;
    const struct libcrypto *l = get(&st);
    if (!l)
        return st;
    struct ruv__lake_shake *h = malloc(sizeof *h);
    if (!h)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory for a SHAKE-256 context");
    h->l = l;
    h->ctx = l->ctx_new();
    if (!h->ctx) {
        free(h);
        return openssl_failed(l, RUV_E_NOMEM, "EVP_MD_CTX_new");
    }
    if (l->digest_init(h->ctx, l->shake256, NULL) != 1) {
        l->ctx_free(h->ctx);
        free(h);
        return openssl_failed(l, RUV_E_UNSUPPORTED, "EVP_DigestInit_ex(SHAKE256)");
    }
    *out = h;
    return RUV_OK;
}

int ruv__lake_shake_update(struct ruv__lake_shake *h, const void *p, size_t n)
{
    if (!h)
        return ruv__detail_set(RUV_E_INVAL, "SHAKE-256 update without a context");
    if (n == 0)
        return RUV_OK;
    if (h->l->digest_update(h->ctx, p, n) != 1)
        return openssl_failed(h->l, RUV_E_UNSUPPORTED, "EVP_DigestUpdate");
    return RUV_OK;
}

int ruv__lake_shake_final(struct ruv__lake_shake *h, uint8_t *out, size_t outlen)
{
    if (!h)
        return ruv__detail_set(RUV_E_INVAL, "SHAKE-256 final without a context");
    int st = RUV_OK;
    if (h->l->digest_final_xof(h->ctx, out, outlen) != 1)
        st = openssl_failed(h->l, RUV_E_UNSUPPORTED, "EVP_DigestFinalXOF");
    ruv__lake_shake_free(h);
    return st;
}

void ruv__lake_shake_free(struct ruv__lake_shake *h)
{
    if (!h)
        return;
    h->l->ctx_free(h->ctx);
    free(h);
}

int ruv__lake_shake256(const struct ruv__lake_span *spans, size_t nspans, uint8_t *out,
                       size_t outlen)
{
    struct ruv__lake_shake *h;
    int st = ruv__lake_shake_new(&h);
    for (size_t i = 0; st == RUV_OK && i < nspans; i++)
        st = ruv__lake_shake_update(h, spans[i].p, spans[i].n);
    if (st != RUV_OK) {
        ruv__lake_shake_free(h);
        return st;
    }
    return ruv__lake_shake_final(h, out, outlen);
}

/* One sign or verify through EVP_DigestSign/Verify (Ed25519 is one-shot:
 * the digest argument must be NULL). */
static int ed25519(const uint8_t key[32], int private_key, const void *msg, size_t len,
                   uint8_t sig[64])
{
    int st;
    const struct libcrypto *l = get(&st);
    if (!l)
        return st;
    struct evp_pkey_st *pkey = private_key
                                   ? l->pkey_new_private(RUV_LAKE_EVP_PKEY_ED25519, NULL, key, 32)
                                   : l->pkey_new_public(RUV_LAKE_EVP_PKEY_ED25519, NULL, key, 32);
    if (!pkey)
        return openssl_failed(l, private_key ? RUV_E_INVAL : RUV_E_INTEGRITY,
                              "Ed25519 key import");
    struct evp_md_ctx_st *ctx = l->ctx_new();
    if (!ctx) {
        l->pkey_free(pkey);
        return openssl_failed(l, RUV_E_NOMEM, "EVP_MD_CTX_new");
    }
    if (private_key) {
        size_t siglen = 64;
        if (l->sign_init(ctx, NULL, NULL, NULL, pkey) != 1 ||
            l->sign(ctx, sig, &siglen, msg, len) != 1 || siglen != 64)
            st = openssl_failed(l, RUV_E_UNSUPPORTED, "Ed25519 sign");
    } else {
        if (l->verify_init(ctx, NULL, NULL, NULL, pkey) != 1)
            st = openssl_failed(l, RUV_E_UNSUPPORTED, "Ed25519 verify init");
        else if (l->verify(ctx, sig, 64, msg, len) != 1) {
            while (l->err_get() != 0) {
            }
            st = ruv__detail_set(RUV_E_INTEGRITY, "Ed25519 signature does not verify");
        }
    }
    l->ctx_free(ctx);
    l->pkey_free(pkey);
    return st;
}

int ruv__lake_ed25519_verify(const uint8_t pub[32], const void *msg, size_t len,
                             const uint8_t sig[64])
{
    uint8_t s[64];
    memcpy(s, sig, sizeof s);
    return ed25519(pub, 0, msg, len, s);
}

int ruv__lake_ed25519_sign(const uint8_t priv[32], const void *msg, size_t len, uint8_t sig[64])
{
    return ed25519(priv, 1, msg, len, sig);
}

int ruv__lake_ed25519_public(const uint8_t priv[32], uint8_t pub[32])
{
    int st;
    const struct libcrypto *l = get(&st);
    if (!l)
        return st;
    struct evp_pkey_st *pkey = l->pkey_new_private(RUV_LAKE_EVP_PKEY_ED25519, NULL, priv, 32);
    if (!pkey)
        return openssl_failed(l, RUV_E_INVAL, "Ed25519 private key import");
    size_t n = 32;
    if (l->pkey_get_public(pkey, pub, &n) != 1 || n != 32)
        st = openssl_failed(l, RUV_E_UNSUPPORTED, "EVP_PKEY_get_raw_public_key");
    l->pkey_free(pkey);
    return st;
}

/* ---- PEM keys ---- */

/* The label of the first "-----BEGIN <label>-----" line, or "" when the
 * text has none. */
static void pem_label(const char *pem, size_t len, char label[64])
{
    static const char begin[] = "-----BEGIN ";
    const size_t nb = sizeof begin - 1;
    label[0] = '\0';
    for (size_t i = 0; i + nb <= len; i++) {
        if (memcmp(pem + i, begin, nb) != 0)
            continue;
        size_t j = i + nb, n = 0;
        while (j < len && pem[j] != '-' && pem[j] != '\n' && n < 63)
            label[n++] = pem[j++];
        label[n] = '\0';
        return;
    }
}

/* What is wrong with a PEM block of this label for this use, or NULL. */
static const char *label_problem(const char *label, int private_key)
{
    if (!label[0])
        return "not a PEM key (no -----BEGIN line)";
    if (strcmp(label, private_key ? "PRIVATE KEY" : "PUBLIC KEY") == 0)
        return NULL;
    if (strcmp(label, "ENCRYPTED PRIVATE KEY") == 0)
        return private_key ? "an encrypted private key: decrypt it first (openssl pkey -in "
                             "key.pem -out plain.pem)"
                           : "a private key (encrypted) where a public key (-----BEGIN PUBLIC "
                             "KEY-----) is expected";
    if (strcmp(label, "RSA PRIVATE KEY") == 0 || strcmp(label, "RSA PUBLIC KEY") == 0)
        return "an RSA key, not Ed25519";
    if (strcmp(label, "EC PRIVATE KEY") == 0 || strcmp(label, "DSA PRIVATE KEY") == 0)
        return "an EC or DSA key, not Ed25519";
    if (strcmp(label, "OPENSSH PRIVATE KEY") == 0)
        return "an OpenSSH-format private key; give the PKCS#8 PEM (-----BEGIN PRIVATE "
               "KEY-----, e.g. from openssl genpkey -algorithm ed25519)";
    if (!private_key && strcmp(label, "PRIVATE KEY") == 0)
        return "a private key where a public key (-----BEGIN PUBLIC KEY-----) is expected";
    if (private_key && strcmp(label, "PUBLIC KEY") == 0)
        return "a public key where the private (signing) key (-----BEGIN PRIVATE KEY-----) is "
               "expected";
    return private_key ? "a PEM block that is not a private key"
                       : "a PEM block that is not a public key";
}

/* Never prompts: an encrypted key fails instead of reading a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

int ruv__lake_ed25519_from_pem(const char *pem, size_t len, int private_key, uint8_t raw[32])
{
    const char *what = private_key ? "signing key" : "public key";
    if (!pem || !raw)
        return ruv__detail_set(RUV_E_INVAL, "%s: PEM text or output is NULL", what);
    if (len > 64 * 1024)
        return ruv__detail_set(RUV_E_INVAL, "%s: %zu bytes is too long for a PEM key", what, len);
    char label[64];
    pem_label(pem, len, label);
    const char *bad = label_problem(label, private_key);
    if (bad)
        return label[0] ? ruv__detail_set(RUV_E_INVAL, "%s: PEM '%s': %s", what, label, bad)
                        : ruv__detail_set(RUV_E_INVAL, "%s: %s", what, bad);
    int st;
    const struct libcrypto *l = get(&st);
    if (!l)
        return st;
    struct bio_st *bio = l->bio_mem(pem, (int)len);
    if (!bio)
        return openssl_failed(l, RUV_E_NOMEM, "BIO_new_mem_buf");
    struct evp_pkey_st *pkey = private_key ? l->pem_private(bio, NULL, no_passphrase, NULL)
                                           : l->pem_public(bio, NULL, no_passphrase, NULL);
    l->bio_free(bio);
    if (!pkey) {
        st = openssl_failed(l, RUV_E_INVAL, private_key ? "PEM_read_bio_PrivateKey"
                                                        : "PEM_read_bio_PUBKEY");
        return ruv__detail_prefix(st, "%s: PEM '%s' is malformed", what, label);
    }
    if (l->pkey_base_id(pkey) != RUV_LAKE_EVP_PKEY_ED25519) {
        const char *type = l->pkey_type_name(pkey);
        st = ruv__detail_set(RUV_E_INVAL, "%s: the PEM holds a%s %s key, not Ed25519", what,
                             type && type[0] && strchr("AEFHILMNORSX", type[0]) ? "n" : "", /* an RSA */
                             type ? type : "non-Ed25519");
        l->pkey_free(pkey);
        return st;
    }
    uint8_t out[32];
    size_t n = sizeof out;
    if ((private_key ? l->pkey_get_private(pkey, out, &n) : l->pkey_get_public(pkey, out, &n)) != 1
        || n != 32)
        st = openssl_failed(l, RUV_E_UNSUPPORTED, "EVP_PKEY_get_raw_*_key");
    else
        memcpy(raw, out, 32);
    volatile uint8_t *secret = out;
    for (size_t i = 0; i < sizeof out; i++)
        secret[i] = 0;
    l->pkey_free(pkey);
    return st;
}
