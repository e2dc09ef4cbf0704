/* tok_error.h — the tokenizer's error detail: the plugins' shared
 * thread-local detail (plugins/common/detail.h); the plugin's ops hand it to
 * host->set_error. */
#ifndef RUV_EMBED_TOK_ERROR_H
#define RUV_EMBED_TOK_ERROR_H

#include "../common/detail.h"

#endif
