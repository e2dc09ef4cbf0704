/* The slice of OpenSSL 3's libcrypto ABI the rulake plugin calls, declared
 * here so that the plugin builds without OpenSSL headers and links no
 * libcrypto (the core wheel must not carry one). The struct tags are
 * OpenSSL's own, so tests/rulake/test_lake_crypto_abi.c can check each
 * pointer type against <openssl/evp.h> when the headers are installed. */
#ifndef RULAKE_CRYPTO_ABI_H
#define RULAKE_CRYPTO_ABI_H

#include <stddef.h>

struct evp_md_st;
struct evp_md_ctx_st;
struct evp_pkey_st;
struct evp_pkey_ctx_st;
struct ossl_lib_ctx_st;
struct engine_st;
struct bio_st;

#define RUV_LAKE_EVP_PKEY_ED25519 1087 /* NID_ED25519, fixed since OpenSSL 1.1.1 */
#define RUV_LAKE_OPENSSL_VERSION 0     /* OpenSSL_version(OPENSSL_VERSION) */

typedef struct evp_md_st *(*ruv__lake_EVP_MD_fetch_fn)(struct ossl_lib_ctx_st *ctx,
                                                        const char *algorithm,
                                                        const char *properties);
typedef void (*ruv__lake_EVP_MD_free_fn)(struct evp_md_st *md);
typedef struct evp_md_ctx_st *(*ruv__lake_EVP_MD_CTX_new_fn)(void);
typedef void (*ruv__lake_EVP_MD_CTX_free_fn)(struct evp_md_ctx_st *ctx);
typedef int (*ruv__lake_EVP_DigestInit_ex_fn)(struct evp_md_ctx_st *ctx, const struct evp_md_st *type,
                                              struct engine_st *impl);
typedef int (*ruv__lake_EVP_DigestUpdate_fn)(struct evp_md_ctx_st *ctx, const void *d, size_t cnt);
typedef int (*ruv__lake_EVP_DigestFinalXOF_fn)(struct evp_md_ctx_st *ctx, unsigned char *md,
                                               size_t len);
typedef struct evp_pkey_st *(*ruv__lake_EVP_PKEY_new_raw_key_fn)(int type, struct engine_st *e,
                                                                  const unsigned char *key,
                                                                  size_t keylen);
typedef int (*ruv__lake_EVP_PKEY_get_raw_public_key_fn)(const struct evp_pkey_st *pkey,
                                                        unsigned char *pub, size_t *len);
typedef void (*ruv__lake_EVP_PKEY_free_fn)(struct evp_pkey_st *pkey);
typedef int (*ruv__lake_EVP_DigestSignVerifyInit_fn)(struct evp_md_ctx_st *ctx,
                                                     struct evp_pkey_ctx_st **pctx,
                                                     const struct evp_md_st *type,
                                                     struct engine_st *e, struct evp_pkey_st *pkey);
typedef int (*ruv__lake_EVP_DigestVerify_fn)(struct evp_md_ctx_st *ctx, const unsigned char *sig,
                                             size_t siglen, const unsigned char *tbs,
                                             size_t tbslen);
typedef int (*ruv__lake_EVP_DigestSign_fn)(struct evp_md_ctx_st *ctx, unsigned char *sig,
                                           size_t *siglen, const unsigned char *tbs, size_t tbslen);
typedef const char *(*ruv__lake_OpenSSL_version_fn)(int type);
typedef unsigned long (*ruv__lake_OpenSSL_version_num_fn)(void);
typedef unsigned long (*ruv__lake_ERR_get_error_fn)(void);
typedef struct bio_st *(*ruv__lake_BIO_new_mem_buf_fn)(const void *buf, int len);
typedef int (*ruv__lake_BIO_free_fn)(struct bio_st *a);
typedef int(ruv__lake_pem_password_cb)(char *buf, int size, int rwflag, void *userdata);
typedef struct evp_pkey_st *(*ruv__lake_PEM_read_bio_key_fn)(struct bio_st *bp,
                                                             struct evp_pkey_st **x,
                                                             ruv__lake_pem_password_cb *cb,
                                                             void *u);
typedef int (*ruv__lake_EVP_PKEY_get_base_id_fn)(const struct evp_pkey_st *pkey);
typedef const char *(*ruv__lake_EVP_PKEY_get0_type_name_fn)(const struct evp_pkey_st *key);
typedef void (*ruv__lake_ERR_error_string_n_fn)(unsigned long e, char *buf, size_t len);

#endif
