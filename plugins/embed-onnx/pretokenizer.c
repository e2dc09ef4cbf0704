/* pretokenizer.c — BertPreTokenizer classes and the word buffer. */
#include "pretokenizer.h"
#include "unicode.h"

enum ruv__pt_class ruv__pt_classify(uint32_t cp)
{
    unsigned f = ruv__uni_flags(cp);
    if (f & RUV__UNI_PT_SPACE)
        return RUV__PT_SPACE;
    if (f & RUV__UNI_PT_PUNCT)
        return RUV__PT_PUNCT;
    return RUV__PT_WORD;
}

void ruv__word_push(struct ruv__word *w, uint32_t cp, bool reorder)
{
    size_t at = w->n++;
    if (at >= RUV__WORD_MAX)
        return;
    unsigned c = reorder && cp >= 0x300 ? ruv__uni_ccc(cp) : 0;
    if (c == 0) {
        w->cps[at] = cp;
        if (reorder)
            w->run_start = at + 1;
        return;
    }
    /* Stable insertion: only past characters of a strictly higher class. */
    while (at > w->run_start && ruv__uni_ccc(w->cps[at - 1]) > c) {
        w->cps[at] = w->cps[at - 1];
        at--;
    }
    w->cps[at] = cp;
}
