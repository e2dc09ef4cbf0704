/* plugins/a2a/selftest.h — the crypto vectors of a2a.md §4 run offline, so a
 * broken or mismatched libcrypto fails the plugin at load (self_test). */
#ifndef RUV_A2A_SELFTEST_H
#define RUV_A2A_SELFTEST_H

/* Runs V1 (Ed25519 seed 07x32 → public key → AgentID), V3 (the Ed25519
 * signature of the V2 card, signed here and verified, and V2 canonicalizes to
 * itself) and J1 (the @a2a-js/sdk-signed v1.0 card with the identity
 * extension verifies; the same card with one byte changed does not).
 * RUV_OK, or RUV_E_SELFTEST with the detail naming the vector and step. */
int ruv__a2a_selftest_vectors(void);

#endif
