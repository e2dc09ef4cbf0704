/* wordpiece.c — greedy longest-match WordPiece (huggingface/tokenizers:
 * src/models/wordpiece/mod.rs semantics). */
#include "wordpiece.h"
#include "utf8.h"

size_t ruv__wordpiece_word(const struct ruv__wordpiece *wp, const struct ruv__word *word, int64_t *out)
{
    size_t nchars = word->n;
    if (nchars == 0)
        return 0;
    if (nchars > wp->max_word_chars) { /* counted in characters after normalization */
        out[0] = wp->unk_id;
        return 1;
    }
    /* UTF-8 bytes of the word and the byte offset of each character, so the
     * match shrinks by whole characters. */
    char bytes[RUV__WORD_MAX * 4];
    size_t off[RUV__WORD_MAX + 1];
    size_t len = 0;
    for (size_t i = 0; i < nchars; i++) {
        off[i] = len;
        len += ruv__utf8_encode(word->cps[i], (unsigned char *)bytes + len);
    }
    off[nchars] = len;

    size_t npieces = 0, start = 0;
    while (start < nchars) {
        int cont = start > 0;
        size_t max_len = ruv__vocab_max_len(wp->vocab, cont);
        size_t end = nchars;
        while (end > start && off[end] - off[start] > max_len) /* no token is that long */
            end--;
        int64_t id = -1;
        for (; end > start; end--) {
            id = ruv__vocab_find(wp->vocab, bytes + off[start], off[end] - off[start], cont);
            if (id >= 0)
                break;
        }
        if (id < 0) {
            out[0] = wp->unk_id;
            return 1;
        }
        out[npieces++] = id;
        start = end;
    }
    return npieces;
}
