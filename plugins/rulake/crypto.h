/* SHAKE-256 and Ed25519 for the rulake plugin, through OpenSSL 3's libcrypto
 * opened at run time (dlopen, never linked; see crypto_abi.h). Every function
 * loads libcrypto on first use and fails with RUV_E_UNSUPPORTED and a
 * sentence naming the library when it cannot be found. All functions are
 * thread-safe. */
#ifndef RULAKE_CRYPTO_H
#define RULAKE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Opens libcrypto once per process. path NULL tries the system's OpenSSL 3
 * (libcrypto.so.3, libcrypto.3.dylib on macOS); a path opens exactly that
 * file. A failure is not remembered: a later call tries again (possibly
 * with another path). Once a library is loaded, it stays loaded and later
 * paths are ignored. Returns RUV_OK, RUV_E_UNSUPPORTED (not found, not
 * OpenSSL 3, a symbol or SHAKE256 missing) with the detail set. */
int ruv__lake_crypto_load(const char *path);

/* One line for show_runtime(): "<path> (OpenSSL 3.0.x ...)" once loaded,
 * else "not loaded: <why>" or "not loaded". Borrowed static storage, stable
 * once loaded; copy it if another thread may be loading. */
const char *ruv__lake_crypto_report(void);

/* The file really opened (dladdr) and OpenSSL_version(OPENSSL_VERSION) of
 * the loaded library; NULL until one is loaded. Static storage, stable
 * once loaded. */
const char *ruv__lake_crypto_path(void);
const char *ruv__lake_crypto_version(void);

/* SHAKE-256 over a list of byte ranges, outlen bytes out. */
struct ruv__lake_span {
    const void *p;
    size_t n;
};
int ruv__lake_shake256(const struct ruv__lake_span *spans, size_t nspans, uint8_t *out,
                       size_t outlen);

/* Streaming SHAKE-256: new, any number of updates, final (which frees).
 * free alone abandons a hash. A NULL ctx makes update/final fail safely. */
struct ruv__lake_shake;
int ruv__lake_shake_new(struct ruv__lake_shake **out);
int ruv__lake_shake_update(struct ruv__lake_shake *h, const void *p, size_t n);
int ruv__lake_shake_final(struct ruv__lake_shake *h, uint8_t *out, size_t outlen);
void ruv__lake_shake_free(struct ruv__lake_shake *h);

/* Pure Ed25519 (RFC 8032). Keys are raw 32 bytes, signatures 64 bytes.
 * verify returns RUV_OK, RUV_E_INTEGRITY for a bad signature (or a
 * public key OpenSSL rejects), or a load error. */
int ruv__lake_ed25519_verify(const uint8_t pub[32], const void *msg, size_t len,
                             const uint8_t sig[64]);
int ruv__lake_ed25519_sign(const uint8_t priv[32], const void *msg, size_t len, uint8_t sig[64]);
int ruv__lake_ed25519_public(const uint8_t priv[32], uint8_t pub[32]);

/* The raw Ed25519 key in a PEM text: a PUBLIC KEY block (private_key 0)
 * or an unencrypted PKCS#8 PRIVATE KEY block (1), through libcrypto's PEM
 * readers (never prompting for a passphrase). RUV_E_INVAL names what is
 * wrong (not PEM, private where public is expected or the reverse,
 * encrypted, RSA or another type, malformed); raw written only on RUV_OK. */
int ruv__lake_ed25519_from_pem(const char *pem, size_t len, int private_key, uint8_t raw[32]);

#endif
