/* tok_error.h — error detail of the tokenizer (plugin-internal).
 * The engine's ruv__set_error is out of a plugin's reach, so the tokenizer
 * keeps its own thread-local detail; the plugin's ops hand it to
 * host->set_error. */
#ifndef RUV_EMBED_TOK_ERROR_H
#define RUV_EMBED_TOK_ERROR_H

/* Records the detail (printf format) for this thread and returns status, so
 * that callers write `return ruv__tok_set_error(RUV_E_INVAL, "...");`. */
int ruv__tok_set_error(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Puts "<prefix>: " before the current detail and returns status. */
int ruv__tok_wrap_error(int status, const char *prefix);

/* The detail of the last failing tokenizer call on this thread; "" if none.
 * Borrowed: valid until the next tokenizer call on this thread. */
const char *ruv__tok_last_error(void);

#endif
