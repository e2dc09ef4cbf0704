/* normalizer.c — BertNormalizer per code point. */
#include "normalizer.h"

size_t ruv__norm_char(const struct ruv__norm_cfg *cfg, uint32_t cp, uint32_t *out, bool *barrier)
{
    *barrier = false;
    unsigned f = ruv__uni_flags(cp);
    if (cfg->clean_text) {
        if (f & RUV__UNI_DELETE)
            return 0;
        if (f & RUV__UNI_SPACE) {
            cp = ' ';
            f = ruv__uni_flags(cp);
        }
    }
    uint32_t seq[3];
    size_t nseq = 0;
    if (cfg->handle_chinese_chars && (f & RUV__UNI_CJK)) {
        seq[nseq++] = ' ';
        seq[nseq++] = cp;
        seq[nseq++] = ' ';
    } else {
        seq[nseq++] = cp;
    }
    size_t n = 0;
    for (size_t i = 0; i < nseq; i++) {
        uint32_t parts[RUV__UNI_MAX_DECOMP];
        size_t nparts = 1;
        parts[0] = seq[i];
        if (cfg->strip_accents) {
            unsigned fi = seq[i] == cp ? f : ruv__uni_flags(seq[i]); /* f is cp's already */
            nparts = ruv__uni_strip(seq[i], fi, parts);
            if (nparts == 0 && (fi & RUV__UNI_BARRIER))
                *barrier = true;
        }
        for (size_t k = 0; k < nparts; k++) {
            if (cfg->lowercase)
                n += ruv__uni_lower(parts[k], out + n);
            else
                out[n++] = parts[k];
        }
    }
    return n;
}
