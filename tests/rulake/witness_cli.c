/* Reads one request per line on stdin and prints one lowercase-hex answer
 * per line, so that witness_hashlib.py can compare the C witnesses with
 * Python's hashlib on many inputs. Byte strings are written "x<hex>" ("x"
 * is empty) and absent fields "_". Requests:
 *   v1 <data_ref> <dim> <seed> <rerank> n <u64> | o <bytes>
 *   digest <dim> <rows>        rows: (u64le id ‖ dim × f32le)*, any order
 *   v2 <v1 hex> <params> <digest hex>
 *   params <metric> <bits> <nlist>
 *   meta <fv> <ev> <6 fields> <index bytes> <shake hex or _>
 *   keyid <bytes>
 *   readruvec <dir> <name>      the content digest of a ruvec1/ruvec2 file read by C
 *   writeruvec <dir> <name> <dim> <rows>     C writes ruvec2; prints the header digest
 *   readsidecar <dir>           reads and verifies table.rulake.json; prints v2 (v1 if none)
 * Errors print "error: <detail>". */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "lake_error.h"
#include "ruvec.h"
#include "sidecar.h"
#include "witness.h"

#define MAX_TOKENS 16
#define ANSWER_MAX 128 /* a hex digest or a parameter string */

static uint8_t *bytes_of(const char *tok, size_t *len)
{
    if (tok[0] != 'x')
        return NULL;
    size_t n = strlen(tok + 1) / 2;
    uint8_t *b = malloc(n + 1);
    if (b && ruv__lake_unhex(tok + 1, b, n) != 0) {
        free(b);
        return NULL;
    }
    if (b)
        b[n] = 0;
    *len = n;
    return b;
}

/* Splits n rows of (u64le id ‖ dim × f32le) into ids and vectors. */
static void unpack_rows(const uint8_t *raw, uint64_t n, uint32_t dim, uint64_t *ids, float *vec)
{
    size_t row = 8 + 4 * (size_t)dim;
    for (uint64_t i = 0; i < n; i++) {
        ids[i] = ruv__lake_get_u64le(raw + i * row);
        for (uint32_t c = 0; c < dim; c++) {
            uint32_t u = ruv__lake_get_u32le(raw + i * row + 8 + 4 * c);
            memcpy(&vec[i * dim + c], &u, 4);
        }
    }
}

static int digest(char **t, int nt, uint8_t out[32])
{
    if (nt != 3)
        return ruv__detail_set(RUV_E_INVAL, "digest takes 2 arguments");
    uint32_t dim = (uint32_t)strtoul(t[1], NULL, 10);
    size_t len;
    uint8_t *raw = bytes_of(t[2], &len);
    size_t row = 8 + 4 * (size_t)dim;
    if (!raw || dim == 0 || len % row)
        return ruv__detail_set(RUV_E_INVAL, "bad rows");
    uint64_t n = len / row;
    uint64_t *ids = malloc((n + 1) * 8), *order = NULL;
    float *vec = malloc((n * dim + 1) * 4);
    unpack_rows(raw, n, dim, ids, vec);
    int st = ruv__lake_sort_order(ids, n, &order);
    if (st == RUV_OK)
        st = ruv__lake_content_digest(ids, vec, order, n, dim, out);
    free(raw);
    free(ids);
    free(order);
    free(vec);
    return st;
}

static int files(char **t, int nt, uint8_t out[32])
{
    int dfd = open(t[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ruv__detail_set(RUV_E_IO, "cannot open %s", t[1]);
    int st;
    if (strcmp(t[0], "readruvec") == 0 && nt == 3) {
        struct ruv__lake_ruvec_info info;
        struct ruv__lake_ruvec_rows rows;
        st = ruv__lake_ruvec_read_at(dfd, t[2], &info, &rows);
        if (st == RUV_OK && info.has_digest)
            memcpy(out, info.content_digest, 32);
        else if (st == RUV_OK)
            st = ruv__lake_content_digest(rows.ids, rows.vectors, NULL, rows.n, rows.dim, out);
        ruv__lake_ruvec_rows_free(&rows);
    } else if (strcmp(t[0], "writeruvec") == 0 && nt == 5) {
        uint32_t dim = (uint32_t)strtoul(t[3], NULL, 10);
        size_t len;
        uint8_t *raw = bytes_of(t[4], &len);
        size_t row = 8 + 4 * (size_t)dim;
        st = raw && dim && len % row == 0 ? RUV_OK : ruv__detail_set(RUV_E_INVAL, "bad rows");
        uint64_t n = st == RUV_OK ? len / row : 0;
        uint64_t *ids = malloc((n + 1) * 8);
        float *vec = malloc((n * dim + 1) * 4);
        unpack_rows(raw, n, dim, ids, vec);
        struct ruv__lake_ruvec_info info;
        if (st == RUV_OK)
            st = ruv__lake_ruvec2_write_at(dfd, t[2], ids, vec, n, dim, &info);
        if (st == RUV_OK)
            memcpy(out, info.content_digest, 32);
        free(raw);
        free(ids);
        free(vec);
    } else if (strcmp(t[0], "readsidecar") == 0 && nt == 2) {
        struct ruv__lake_sidecar *sc = malloc(sizeof *sc);
        st = sc ? ruv__lake_sidecar_read_at(dfd, RUV_LAKE_SIDECAR_NAME, sc) : RUV_E_NOMEM;
        if (st == RUV_OK)
            st = ruv__lake_sidecar_verify(sc, NULL, 0, t[1]);
        if (st == RUV_OK)
            memcpy(out, sc->has_ext ? sc->witness_v2 : sc->rvf_witness, 32);
        free(sc);
    } else {
        st = ruv__detail_set(RUV_E_INVAL, "bad %s request", t[0]);
    }
    close(dfd);
    return st;
}

static int answer(char **t, int nt, char *hex)
{
    uint8_t out[32];
    int st = RUV_E_INVAL;
    if (strcmp(t[0], "v1") == 0 && nt == 7) {
        size_t rlen, glen = 0;
        uint8_t *ref = bytes_of(t[1], &rlen), *g = NULL;
        struct ruv__lake_gen gen = {0};
        if (strcmp(t[5], "n") == 0) {
            gen.num = strtoull(t[6], NULL, 10);
        } else {
            g = bytes_of(t[6], &glen);
            gen.opaque = 1;
            gen.str = (const char *)g;
            gen.len = glen;
        }
        st = ref ? ruv__lake_witness_v1((const char *)ref, rlen, strtoull(t[2], NULL, 10),
                                        strtoull(t[3], NULL, 10), strtoull(t[4], NULL, 10), &gen,
                                        out)
                 : ruv__detail_set(RUV_E_INVAL, "bad data_ref");
        free(ref);
        free(g);
    } else if (strcmp(t[0], "digest") == 0) {
        st = digest(t, nt, out);
    } else if (strncmp(t[0], "read", 4) == 0 || strcmp(t[0], "writeruvec") == 0) {
        st = nt >= 2 ? files(t, nt, out) : ruv__detail_set(RUV_E_INVAL, "no directory");
    } else if (strcmp(t[0], "v2") == 0 && nt == 4) {
        uint8_t v1[32], d[32];
        if (ruv__lake_unhex(t[1], v1, 32) || ruv__lake_unhex(t[3], d, 32))
            return ruv__detail_set(RUV_E_INVAL, "bad hex");
        st = ruv__lake_witness_v2(v1, t[2], strlen(t[2]), d, out);
    } else if (strcmp(t[0], "params") == 0 && nt == 4) {
        char p[RUV_LAKE_PARAMS_MAX];
        st = ruv__lake_index_params(p, sizeof p, t[1], (unsigned)strtoul(t[2], NULL, 10),
                                    strtoull(t[3], NULL, 10));
        if (st == RUV_OK)
            snprintf(hex, ANSWER_MAX, "%s", p);
        return st;
    } else if (strcmp(t[0], "meta") == 0 && nt == 11) {
        uint8_t *f[6] = {0}, sh[32];
        size_t len;
        for (int i = 0; i < 6; i++)
            f[i] = strcmp(t[3 + i], "_") == 0 ? NULL : bytes_of(t[3 + i], &len);
        struct ruv__lake_meta m = {
            .format_version = (uint32_t)strtoul(t[1], NULL, 10),
            .ext_version = (uint32_t)strtoul(t[2], NULL, 10),
            .backend = (char *)f[0], .collection = (char *)f[1], .pii_policy = (char *)f[2],
            .lineage_id = (char *)f[3], .memory_class = (char *)f[4], .index_file = (char *)f[5],
            .index_bytes = strtoull(t[9], NULL, 10),
            .index_shake = strcmp(t[10], "_") == 0 || ruv__lake_unhex(t[10], sh, 32) ? NULL : sh,
        };
        st = ruv__lake_meta_digest(&m, out);
        for (int i = 0; i < 6; i++)
            free(f[i]);
    } else if (strcmp(t[0], "keyid") == 0 && nt == 2) {
        size_t len;
        uint8_t *pub = bytes_of(t[1], &len);
        if (!pub || len != 32) {
            free(pub);
            return ruv__detail_set(RUV_E_INVAL, "bad key");
        }
        st = ruv__lake_key_id(pub, hex);
        free(pub);
        return st;
    } else {
        return ruv__detail_set(RUV_E_INVAL, "unknown request '%s' with %d tokens", t[0], nt);
    }
    if (st == RUV_OK)
        ruv__lake_hex(out, 32, hex);
    return st;
}

int main(void)
{
    size_t cap = 0;
    char *line = NULL;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        char *t[MAX_TOKENS], *save = NULL;
        int nt = 0;
        for (char *p = strtok_r(line, " \n", &save); p && nt < MAX_TOKENS;
             p = strtok_r(NULL, " \n", &save))
            t[nt++] = p;
        char hex[ANSWER_MAX] = "";
        if (nt == 0)
            continue;
        if (answer(t, nt, hex) == RUV_OK)
            printf("%s\n", hex);
        else
            printf("error: %s\n", ruv__detail_get());
        fflush(stdout);
    }
    free(line);
    return 0;
}
