/* The rulake feature plugin (RUV_FEATURE_LAKE): descriptor, init/fini,
 * self-test, report, and the first slots of struct ruv_lake_ops
 * (include/ruvector/feature-lake.h). It never links libruvector: the engine
 * reaches it through RUV_PLUGIN_DEFINE, and it reaches the engine through
 * the host table (set_error, config_get, file, last_error). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <ruvector/error.h>
#include <ruvector/feature-lake.h>
#include <ruvector/plugin.h>

#include "bytes.h"
#include "crypto.h"
#include "lake_backends.h"
#include "lake_error.h"
#include "lake_internal.h"
#include "lake_write.h"
#include "ruvec.h"
#include "sidecar.h"
#include "witness.h"

struct lake_state {
    const struct ruv_host *host;
};

/* The plugin's globals (the error forward, the durable-write host) are
 * per process while each engine has its own host table; only the engine's
 * static services are kept, copied, so that one engine's close never
 * leaves a dangling table behind for another engine's writes. */
static pthread_mutex_t users_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned users;
static struct ruv_host shared_host;

static int lake_init(const struct ruv_host *host, void **state)
{
    if (host->struct_size < RUV_HOST_SIZE_V2 || !host->file || !host->last_error)
        return host->set_error(RUV_E_UNSUPPORTED,
                               "rulake needs host table version 2 (an engine of 0.2 or later)");
    /* Set before any call that can fail, so the detail reaches the loader;
     * written only while no engine uses the plugin (every engine's
     * set_error is the same function), so no op can read it mid-write. */
    pthread_mutex_lock(&users_mu);
    if (users == 0)
        ruv__detail_forward = host->set_error;
    pthread_mutex_unlock(&users_mu);
    const char *path = host->config_get(host, "libcrypto");
    int st = ruv__lake_crypto_load(path && *path ? path : NULL);
    /* The loader keeps 255 bytes of the reason: where the path came from
     * goes first. */
    if (st != RUV_OK && path && *path)
        return host->set_error(RUV_E_UNSUPPORTED, "libcrypto from RUVECTOR_LIBCRYPTO or the "
                                                  "rulake option libcrypto: %s",
                               ruv__detail_get());
    if (st != RUV_OK)
        return host->set_error(RUV_E_UNSUPPORTED, "%s", ruv__detail_get());
    if (path && *path && strcmp(path, ruv__lake_crypto_path()) != 0)
        host->log(host, RUV_LOG_INFO, "libcrypto=%s: %s was loaded first and stays in use", path,
                  ruv__lake_crypto_path());
    struct lake_state *s = malloc(sizeof *s);
    if (!s)
        return host->set_error(RUV_E_NOMEM, "rulake: out of memory");
    s->host = host;
    pthread_mutex_lock(&users_mu);
    if (users++ == 0) {
        memset(&shared_host, 0, sizeof shared_host);
        shared_host.struct_size = (uint32_t)RUV_HOST_SIZE_V2;
        shared_host.set_error = host->set_error;
        shared_host.last_error = host->last_error;
        shared_host.file = host->file;
        ruv__lake_write_use_host(&shared_host);
    }
    pthread_mutex_unlock(&users_mu);
    *state = s;
    return RUV_OK;
}

static void lake_fini(void *state)
{
    pthread_mutex_lock(&users_mu);
    if (users > 0 && --users == 0)
        ruv__lake_write_use_host(NULL);
    pthread_mutex_unlock(&users_mu);
    free(state);
}

/* ---- ops ---- */

static int witness_fields(const struct ruv_lake_witness_in *w, struct ruv__lake_gen *g)
{
    if (!w || w->struct_size < sizeof *w)
        return ruv__detail_set(RUV_E_INVAL, "witness input is NULL or older than this plugin");
    if (!w->data_ref && w->data_ref_len)
        return ruv__detail_set(RUV_E_INVAL, "data_ref is NULL with length %zu", w->data_ref_len);
    if (w->data_ref_len > RUV_LAKE_STRING_MAX)
        return ruv__detail_set(RUV_E_INVAL, "data_ref is %zu bytes, over %u", w->data_ref_len,
                               RUV_LAKE_STRING_MAX);
    if (w->gen_is_opaque > 1)
        return ruv__detail_set(RUV_E_INVAL, "gen_is_opaque is %u, not 0 or 1", w->gen_is_opaque);
    if (w->gen_is_opaque && !w->gen_opaque && w->gen_len)
        return ruv__detail_set(RUV_E_INVAL, "gen_opaque is NULL with length %zu", w->gen_len);
    if (w->gen_is_opaque && w->gen_len > RUV_LAKE_OPAQUE_GEN_MAX)
        return ruv__detail_set(RUV_E_INVAL, "opaque generation is %zu bytes, over %u", w->gen_len,
                               RUV_LAKE_OPAQUE_GEN_MAX);
    *g = (struct ruv__lake_gen){(int)w->gen_is_opaque, w->gen_num, w->gen_opaque, w->gen_len};
    return RUV_OK;
}

static int op_witness_v1(void *state, const struct ruv_lake_witness_in *w, char hex[65])
{
    (void)state;
    struct ruv__lake_gen g;
    uint8_t raw[32];
    int st = witness_fields(w, &g);
    if (st == RUV_OK && !hex)
        st = ruv__detail_set(RUV_E_INVAL, "witness_v1: hex is NULL");
    if (st == RUV_OK)
        st = ruv__lake_witness_v1(w->data_ref ? w->data_ref : "", w->data_ref_len, w->dim,
                                  w->rotation_seed, w->rerank_factor, &g, raw);
    if (st == RUV_OK)
        ruv__lake_hex(raw, 32, hex);
    return st;
}

static int op_witness_v2(void *state, const struct ruv_lake_witness_in *w,
                         const struct ruv_lake_index_params *p, const uint64_t *ids,
                         const float *vectors, uint64_t n, char hex[65], char *digest_hex)
{
    (void)state;
    struct ruv__lake_gen g;
    int st = witness_fields(w, &g);
    if (st != RUV_OK)
        return st;
    if (!p || p->struct_size < sizeof *p || !p->metric)
        return ruv__detail_set(RUV_E_INVAL, "index params are NULL, older than this plugin or "
                                            "without a metric");
    if (!hex)
        return ruv__detail_set(RUV_E_INVAL, "witness_v2: hex is NULL");
    if (w->dim < 1 || w->dim > UINT32_MAX)
        return ruv__detail_set(RUV_E_INVAL, "dim %llu is outside 1..2^32-1",
                               (unsigned long long)w->dim);
    if (n > 0 && (!ids || !vectors))
        return ruv__detail_set(RUV_E_INVAL, "%llu rows but ids or vectors is NULL",
                               (unsigned long long)n);
    if (n > SIZE_MAX / 16 || (n > 0 && w->dim > SIZE_MAX / 4 / n))
        return ruv__detail_set(RUV_E_INVAL, "%llu rows of dim %llu do not fit in memory",
                               (unsigned long long)n, (unsigned long long)w->dim);
    char params[RUV_LAKE_PARAMS_MAX];
    if ((st = ruv__lake_index_params(params, sizeof params, p->metric, p->bits, p->nlist)) !=
        RUV_OK)
        return st;
    uint64_t *order = NULL;
    uint8_t v1[32], digest[32], v2[32];
    if ((st = ruv__lake_sort_order(ids, n, &order)) != RUV_OK)
        return st;
    st = ruv__lake_content_digest(ids, vectors, order, n, (uint32_t)w->dim, digest);
    free(order);
    if (st == RUV_OK)
        st = ruv__lake_witness_v1(w->data_ref ? w->data_ref : "", w->data_ref_len, w->dim,
                                  w->rotation_seed, w->rerank_factor, &g, v1);
    if (st == RUV_OK)
        st = ruv__lake_witness_v2(v1, params, strlen(params), digest, v2);
    if (st != RUV_OK)
        return st;
    ruv__lake_hex(v2, 32, hex);
    if (digest_hex)
        ruv__lake_hex(digest, 32, digest_hex);
    return RUV_OK;
}

static int op_sidecar_verify(void *state, const char *dir, const uint8_t (*keys)[32],
                             size_t nkeys, char *v1_hex, char *v2_hex)
{
    (void)state;
    if (!dir || (nkeys && !keys))
        return ruv__detail_set(RUV_E_INVAL, "sidecar_verify: dir or keys is NULL");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        return ruv__detail_set(e == ENOENT ? RUV_E_NOTFOUND : RUV_E_IO,
                               "bundle directory %s: %s", dir, strerror(e));
    }
    struct ruv__lake_sidecar *sc = malloc(sizeof *sc); /* about 37 KiB: not on the stack */
    int st = sc ? RUV_OK : ruv__detail_set(RUV_E_NOMEM, "out of memory for a sidecar");
    if (st == RUV_OK && (st = ruv__lake_sidecar_read_at(dfd, RUV_LAKE_SIDECAR_NAME, sc)) != RUV_OK)
        st = ruv__detail_prefix(st, "%s", dir);
    close(dfd);
    char where[4200];
    snprintf(where, sizeof where, "%s/%s", dir, RUV_LAKE_SIDECAR_NAME);
    if (st == RUV_OK)
        st = ruv__lake_sidecar_verify(sc, keys, nkeys, where);
    if (st == RUV_OK) {
        if (v1_hex)
            ruv__lake_hex(sc->rvf_witness, 32, v1_hex);
        if (v2_hex) {
            if (sc->has_ext)
                ruv__lake_hex(sc->witness_v2, 32, v2_hex);
            else
                v2_hex[0] = '\0';
        }
    }
    free(sc);
    return st;
}

/* Version 2: the lake (lake.c and its siblings) and the built-in backends. */

static int op_config_init(void *state, struct ruv_lake_config *cfg)
{
    return ruv__lake_config_init(((struct lake_state *)state)->host, cfg);
}

static int op_open(void *state, const struct ruv_lake_config *cfg, struct ruv_lake **out)
{
    return ruv__lake_open(((struct lake_state *)state)->host, cfg, out);
}

static int op_local_new(void *state, const char *name, struct ruv_lake_local **out)
{
    return ruv__lake_local_new(name, ((struct lake_state *)state)->host, out);
}

static int op_fs_new(void *state, const char *name, const char *root, struct ruv_lake_fs **out)
{
    (void)state;
    return ruv__lake_fs_new(name, root, out);
}

/* The lake's calls, each inside ruv__lake_enter/leave so that close waits
 * for those in progress. */
#define LAKE_CALL(name, impl, params, args)                                                    \
    static int name params                                                                     \
    {                                                                                          \
        int st_ = ruv__lake_enter(lake);                                                       \
        if (st_ != RUV_OK)                                                                     \
            return st_;                                                                        \
        st_ = impl args;                                                                       \
        ruv__lake_leave(lake);                                                                 \
        return st_;                                                                            \
    }
LAKE_CALL(op_register, ruv__lake_register,
          (struct ruv_lake * lake, const struct ruv_lake_backend *b), (lake, b))
LAKE_CALL(op_search, ruv__lake_search, (struct ruv_lake * lake, const struct ruv_lake_query *q),
          (lake, q))
LAKE_CALL(op_invalidate, ruv__lake_invalidate,
          (struct ruv_lake * lake, const struct ruv_lake_target *k, int *was), (lake, k, was))
LAKE_CALL(op_witness_of, ruv__lake_witness_of,
          (struct ruv_lake * lake, const struct ruv_lake_target *k, int v, char hex[65]),
          (lake, k, v, hex))
LAKE_CALL(op_stats, ruv__lake_stats,
          (struct ruv_lake * lake, const struct ruv_lake_target *f, struct ruv_lake_stats *out),
          (lake, f, out))
LAKE_CALL(op_save, ruv__lake_save_cache,
          (struct ruv_lake * lake, const struct ruv_lake_target *k, const char *dir, char w2[65]),
          (lake, k, dir, w2))
LAKE_CALL(op_warm, ruv__lake_warm,
          (struct ruv_lake * lake, const struct ruv_lake_target *k, const char *dir, uint64_t *n),
          (lake, k, dir, n))
LAKE_CALL(op_refresh, ruv__lake_refresh,
          (struct ruv_lake * lake, const struct ruv_lake_target *k, const char *dir, int *res),
          (lake, k, dir, res))
LAKE_CALL(op_submit, ruv__lake_submit,
          (struct ruv_lake * lake, const struct ruv_lake_query *q, void (*done)(void *, int),
           void *ctx, uint64_t *ticket),
          (lake, q, done, ctx, ticket))
LAKE_CALL(op_cancel, ruv__lake_cancel, (struct ruv_lake * lake, uint64_t ticket), (lake, ticket))
LAKE_CALL(op_publish, ruv__lake_publish,
          (struct ruv_lake * lake, const struct ruv_lake_target *k, const char *dir, char w2[65]),
          (lake, k, dir, w2))
LAKE_CALL(op_submit_supplied, ruv__lake_submit_supplied,
          (struct ruv_lake * lake, const struct ruv_lake_query *q, struct ruv_lake_supply *sup,
           void (*done)(void *, int), void *ctx, uint64_t *ticket),
          (lake, q, sup, done, ctx, ticket))

static int op_key_from_pem(void *state, const char *pem, size_t len, int private_key,
                           uint8_t raw[32])
{
    (void)state;
    return ruv__lake_ed25519_from_pem(pem, len, private_key, raw);
}

static const struct ruv_lake_ops lake_ops = {
    .struct_size = sizeof(struct ruv_lake_ops),
    .witness_v1 = op_witness_v1,
    .witness_v2 = op_witness_v2,
    .sidecar_verify = op_sidecar_verify,
    .config_init = op_config_init,
    .open = op_open,
    .close = ruv__lake_close,
    .register_backend = op_register,
    .search = op_search,
    .invalidate = op_invalidate,
    .witness_of = op_witness_of,
    .stats = op_stats,
    .local_new = op_local_new,
    .local_upsert = ruv__lake_local_upsert,
    .local_put_collection = ruv__lake_local_put_collection,
    .local_delete = ruv__lake_local_delete,
    .local_drop_collection = ruv__lake_local_drop,
    .local_backend = ruv__lake_local_backend,
    .local_release = ruv__lake_local_release,
    .fs_new = op_fs_new,
    .fs_register = ruv__lake_fs_register,
    .fs_write = ruv__lake_fs_write,
    .fs_backend = ruv__lake_fs_backend,
    .fs_release = ruv__lake_fs_release,
    .save_cache_to_dir = op_save,
    .warm_from_dir = op_warm,
    .refresh_from_bundle_dir = op_refresh,
    .submit = op_submit,
    .cancel = op_cancel,
    .publish_bundle = op_publish,
    .submit_supplied = op_submit_supplied,
    .key_from_pem = op_key_from_pem,
};

/* ---- self-test: the six v1 vectors of rulake.md §6.1 and its v2 ---- */

static int lake_self_test(void *state)
{
    const struct ruv_host *host = ((struct lake_state *)state)->host;
    static const struct {
        const char *ref;
        uint64_t dim, seed, rerank;
        struct ruv__lake_gen gen;
        const char *hex;
    } v1[] = {
        {"gs://bucket/x.parquet", 128, 42, 20, {0, 7, NULL, 0},
         "7eac1775d1f76a4db88672655fc64977287ec60eda47c6df3a19bacfd0c038cd"},
        {"x", 1, 0, 1, {0, 7, NULL, 0},
         "1cc8073588bc0c76ef87dd44d7be3440e306a089ca313ba05c2db6710205983b"},
        {"x", 1, 0, 1, {1, 0, "\x07\0\0\0\0\0\0\0", 8},
         "a19518def03e50a5dd1c34204cf5ac2df34051041a358044c078f790cf0a3afc"},
        {"iceberg://catalog/db/table", 384, 0xdeadbeef, 5, {1, 0, "01JCX7NK6G5R9G1YZ7QH", 20},
         "6b1a75410b684054ec05c6c717a4e75204419722d5ce64e37ac1a2703c8e940b"},
        {"local://b/c", 8, 42, 20, {0, 1, NULL, 0},
         "aaa52194b87ddea9b60b1df3c8cf6c39b489a6b172454c7ece8a66fffe61816f"},
        {"", 1, 0, 0, {1, 0, "", 0},
         "8d70cab4edfff48f1375c75a33aa4a59f2f425967eea865ce209222fc1e59c1c"},
    };
    uint8_t raw[32];
    char hex[65];
    for (size_t i = 0; i < sizeof v1 / sizeof v1[0]; i++) {
        int st = ruv__lake_witness_v1(v1[i].ref, strlen(v1[i].ref), v1[i].dim, v1[i].seed,
                                      v1[i].rerank, &v1[i].gen, raw);
        if (st != RUV_OK)
            return host->set_error(RUV_E_SELFTEST, "rulake witness v1 vector %zu: %s", i + 1,
                                   ruv__detail_get());
        ruv__lake_hex(raw, 32, hex);
        if (strcmp(hex, v1[i].hex) != 0)
            return host->set_error(RUV_E_SELFTEST, "rulake witness v1 vector %zu is %s, not %s",
                                   i + 1, hex, v1[i].hex);
    }
    /* The v2 of §6.4's four rows, through the same path as the op. */
    static const uint64_t ids[4] = {2000, 7, 99, 42};
    static const float rows[16] = {8, 16, 32, 64, 1, 2, 3, 4, -1, -2, -3, -4,
                                   0.5f, -0.5f, 0.25f, -0.25f};
    static const char ref[] = "local://hot-shard/docs";
    const struct ruv_lake_witness_in w = {.struct_size = sizeof w, .data_ref = ref,
                                          .data_ref_len = sizeof ref - 1, .dim = 4,
                                          .rotation_seed = 42, .rerank_factor = 20, .gen_num = 1};
    const struct ruv_lake_index_params p = {.struct_size = sizeof p, .bits = 1, .metric = "l2"};
    static const char want_v2[] =
        "2f92ba472c8cd0a4dd6274fc67857aa0d567096be766d20148d0ea132dae1076";
    int st = op_witness_v2(state, &w, &p, ids, rows, 4, hex, NULL);
    if (st != RUV_OK)
        return host->set_error(RUV_E_SELFTEST, "rulake witness v2 vector: %s",
                               ruv__detail_get());
    if (strcmp(hex, want_v2) != 0)
        return host->set_error(RUV_E_SELFTEST, "rulake witness v2 vector is %s, not %s", hex,
                               want_v2);
    return RUV_OK;
}

static void lake_report(void *state, void (*emit)(void *ctx, const char *key, const char *value),
                        void *ctx)
{
    (void)state;
    const char *path = ruv__lake_crypto_path(), *version = ruv__lake_crypto_version();
    emit(ctx, "libcrypto", path ? path : ruv__lake_crypto_report());
    emit(ctx, "libcrypto_version", version ? version : "");
    emit(ctx, "witness_versions", "1,2");
    emit(ctx, "jansson", jansson_version_str());
}

static const struct ruv_plugin rulake_desc = {
    .struct_size = sizeof(struct ruv_plugin),
    .abi = RUV_PLUGIN_ABI,
    .name = "rulake",
    .version = PACKAGE_VERSION,
    .kind = RUV_PLUGIN_FEATURE,
    .caps = RUV_CAP_THREADSAFE,
    .init = lake_init,
    .fini = lake_fini,
    .self_test = lake_self_test,
    .ops = &lake_ops,
    .feature = RUV_FEATURE_LAKE,
    .report = lake_report,
};

RUV_PLUGIN_DEFINE(rulake, rulake_desc)
