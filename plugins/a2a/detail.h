/* plugins/a2a/detail.h — the a2a modules' error detail: the plugins' shared
 * thread-local detail (plugins/common/detail.h). Besides the generic codes,
 * the a2a modules return RUV_E_SECURITY (a signature, key, identity, pin or
 * URL-origin check failed) and RUV_E_PROTOCOL (malformed bytes: JSON, SSE,
 * base64url, JWS header, card fields). */
#ifndef RUV_A2A_DETAIL_H
#define RUV_A2A_DETAIL_H

#include "../common/detail.h"

#endif
