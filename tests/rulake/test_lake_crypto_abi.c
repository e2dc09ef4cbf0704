/* Checks plugins/rulake/crypto_abi.h against the real <openssl/evp.h> at
 * compile time: each pointer type we dlsym into must be the type of the
 * OpenSSL function. Nothing is linked (typeof does not evaluate), so the
 * program only proves it compiled; its run is a formality. Built only when
 * the OpenSSL headers are installed. */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "crypto_abi.h"

#define SAME(fn, type) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&fn), type), #fn " vs " #type)

SAME(EVP_MD_fetch, ruv__lake_EVP_MD_fetch_fn);
SAME(EVP_MD_free, ruv__lake_EVP_MD_free_fn);
SAME(EVP_MD_CTX_new, ruv__lake_EVP_MD_CTX_new_fn);
SAME(EVP_MD_CTX_free, ruv__lake_EVP_MD_CTX_free_fn);
SAME(EVP_DigestInit_ex, ruv__lake_EVP_DigestInit_ex_fn);
SAME(EVP_DigestUpdate, ruv__lake_EVP_DigestUpdate_fn);
SAME(EVP_DigestFinalXOF, ruv__lake_EVP_DigestFinalXOF_fn);
SAME(EVP_PKEY_new_raw_public_key, ruv__lake_EVP_PKEY_new_raw_key_fn);
SAME(EVP_PKEY_new_raw_private_key, ruv__lake_EVP_PKEY_new_raw_key_fn);
SAME(EVP_PKEY_get_raw_public_key, ruv__lake_EVP_PKEY_get_raw_public_key_fn);
SAME(EVP_PKEY_free, ruv__lake_EVP_PKEY_free_fn);
SAME(EVP_DigestVerifyInit, ruv__lake_EVP_DigestSignVerifyInit_fn);
SAME(EVP_DigestVerify, ruv__lake_EVP_DigestVerify_fn);
SAME(EVP_DigestSignInit, ruv__lake_EVP_DigestSignVerifyInit_fn);
SAME(EVP_DigestSign, ruv__lake_EVP_DigestSign_fn);
SAME(OpenSSL_version, ruv__lake_OpenSSL_version_fn);
SAME(OpenSSL_version_num, ruv__lake_OpenSSL_version_num_fn);
SAME(ERR_get_error, ruv__lake_ERR_get_error_fn);
SAME(ERR_error_string_n, ruv__lake_ERR_error_string_n_fn);
SAME(BIO_new_mem_buf, ruv__lake_BIO_new_mem_buf_fn);
SAME(BIO_free, ruv__lake_BIO_free_fn);
SAME(PEM_read_bio_PUBKEY, ruv__lake_PEM_read_bio_key_fn);
SAME(PEM_read_bio_PrivateKey, ruv__lake_PEM_read_bio_key_fn);
SAME(EVP_PKEY_get_raw_private_key, ruv__lake_EVP_PKEY_get_raw_public_key_fn);
SAME(EVP_PKEY_get_base_id, ruv__lake_EVP_PKEY_get_base_id_fn);
SAME(EVP_PKEY_get0_type_name, ruv__lake_EVP_PKEY_get0_type_name_fn);
_Static_assert(EVP_PKEY_ED25519 == RUV_LAKE_EVP_PKEY_ED25519, "NID_ED25519");
_Static_assert(OPENSSL_VERSION == RUV_LAKE_OPENSSL_VERSION, "OPENSSL_VERSION");

int main(void) { return 0; }
