/* tok_golden — compares the tokenizer's ids with golden files written by
 * gen/gen_golden.py from Hugging Face `tokenizers` (run by tok-golden.sh).
 *
 * Usage: tok_golden vocab.txt|tokenizer.json GOLDEN...
 * A golden file starts with "# key=value ..." lines (max_length,
 * split_special, lossy) and then holds one text per line: its UTF-8 bytes in
 * hex, a tab, and the reference's ids. Every text must give exactly those
 * ids; the first mismatches are printed. Exit 0 when all agree. */
#define _POSIX_C_SOURCE 200809L /* getline */
#include "../tokenizer.h"

#include <ruvector/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

enum { MAX_SHOWN = 8 };

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return 0;
}

static void print_ids(const char *label, const int64_t *ids, size_t n)
{
    printf("    %s:", label);
    for (size_t i = 0; i < n; i++)
        printf(" %lld", (long long)ids[i]);
    printf("\n");
}

/* Returns the number of mismatches, or -1 when the file cannot be used. */
static long check_file(const char *tok_path, const char *golden)
{
    FILE *f = fopen(golden, "r");
    if (!f) {
        perror(golden);
        return -1;
    }
    struct ruv__tok_opts opts = {0, 0};
    struct ruv__tok *tok = NULL;
    char *line = NULL;
    size_t linecap = 0, texts = 0, cap = 0;
    long bad = 0;
    unsigned char *text = NULL;
    int64_t *want = NULL, *got = NULL;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) > 0) {
        if (line[0] == '#') {
            const char *p = strstr(line, "max_length=");
            if (p)
                opts.max_length = strtoul(p + 11, NULL, 10);
            if (strstr(line, "split_special=1"))
                opts.flags |= RUV__TOK_SPLIT_SPECIAL;
            if (strstr(line, "lossy=1"))
                opts.flags |= RUV__TOK_LOSSY_UTF8;
            continue;
        }
        if (!tok && ruv__tok_open(tok_path, &opts, &tok) != RUV_OK) {
            fprintf(stderr, "%s: %s\n", tok_path, ruv__detail_get());
            bad = -1;
            break;
        }
        if ((size_t)len > cap) {
            cap = (size_t)len * 2;
            unsigned char *t2 = realloc(text, cap);
            int64_t *w2 = t2 ? realloc(want, cap * sizeof *want) : NULL;
            int64_t *g2 = w2 ? realloc(got, cap * sizeof *got) : NULL;
            if (t2)
                text = t2;
            if (w2)
                want = w2;
            if (!g2) {
                fprintf(stderr, "out of memory\n");
                bad = -1;
                break;
            }
            got = g2;
        }
        char *tab = strchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "%s: line without a tab after %zu texts\n", golden, texts);
            bad = -1;
            break;
        }
        size_t tlen = 0;
        for (char *p = line; p + 1 < tab; p += 2)
            text[tlen++] = (unsigned char)(hexval(p[0]) * 16 + hexval(p[1]));
        size_t nwant = 0;
        for (char *p = tab + 1, *end; *p && *p != '\n'; p = end) {
            want[nwant++] = strtoll(p, &end, 10);
            if (end == p)
                break;
        }
        size_t ngot = 0;
        int st = ruv__tok_encode(tok, (const char *)text, tlen, got, cap, &ngot);
        texts++;
        if (st != RUV_OK || ngot != nwant || memcmp(got, want, nwant * sizeof *got) != 0) {
            if (bad++ < MAX_SHOWN) {
                printf("  MISMATCH %s text %zu (%.*s)\n", golden, texts, (int)(tab - line), line);
                if (st != RUV_OK)
                    printf("    status %d: %s\n", st, ruv__detail_get());
                print_ids("want", want, nwant);
                print_ids("got ", got, ngot < cap ? ngot : cap);
            }
        }
    }
    if (bad >= 0)
        printf("%s: %zu texts, %ld mismatches (max_length %zu%s%s)\n", golden, texts, bad,
               opts.max_length, opts.flags & RUV__TOK_SPLIT_SPECIAL ? ", specials as text" : "",
               opts.flags & RUV__TOK_LOSSY_UTF8 ? ", lossy UTF-8" : "");
    if (bad == 0 && texts == 0) {
        fprintf(stderr, "%s: no texts\n", golden);
        bad = -1;
    }
    ruv__tok_free(tok);
    free(line);
    free(text);
    free(want);
    free(got);
    fclose(f);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s vocab.txt|tokenizer.json GOLDEN...\n", argv[0]);
        return 2;
    }
    int status = 0;
    for (int i = 2; i < argc; i++)
        if (check_file(argv[1], argv[i]) != 0)
            status = 1;
    return status;
}
