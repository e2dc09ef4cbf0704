/* plugins/a2a/policy_keep.c — deep copies of send policies (policy_keep.h). */
#include "config.h"
#include "policy_keep.h"
#include "detail.h"

#include <stdlib.h>
#include <string.h>

struct ruv__kept_policy {
    struct ruv_a2a_policy p;
    char *skill;
    char **allowed, **visited;
    size_t n_allowed, n_visited;
};

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void ruv__kept_policy_free(struct ruv__kept_policy *k)
{
    if (!k)
        return;
    free(k->skill);
    free_strings(k->allowed, k->n_allowed);
    free_strings(k->visited, k->n_visited);
    free(k);
}

/* n strings of src into *dst (NULL entries stay NULL); RUV_OK or RUV_E_NOMEM. */
static int copy_strings(const char *const *src, size_t n, char ***dst, size_t *copied)
{
    *dst = NULL;
    *copied = 0;
    if (!src || n == 0)
        return RUV_OK;
    if (!(*dst = calloc(n, sizeof **dst)))
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++, (*copied)++)
        if (src[i] && !((*dst)[i] = strdup(src[i])))
            return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    return RUV_OK;
}

int ruv__policy_keep(const struct ruv_a2a_policy *p, struct ruv__kept_policy **out)
{
    *out = NULL;
    if (!p)
        return RUV_OK;
    if (p->struct_size < sizeof *p)
        return ruv__detail_set(RUV_E_INVAL, "policy: struct_size %u is below %zu",
                               (unsigned)p->struct_size, sizeof *p);
    struct ruv__kept_policy *k = calloc(1, sizeof *k);
    if (!k)
        return ruv__detail_set(RUV_E_NOMEM, "out of memory");
    k->p = *p;
    int rc = RUV_OK;
    if (p->skill && !(k->skill = strdup(p->skill)))
        rc = ruv__detail_set(RUV_E_NOMEM, "out of memory");
    if (rc == RUV_OK)
        rc = copy_strings(p->allowed_skills, p->n_allowed_skills, &k->allowed, &k->n_allowed);
    if (rc == RUV_OK)
        rc = copy_strings(p->visited_agents, p->n_visited_agents, &k->visited, &k->n_visited);
    if (rc != RUV_OK) {
        ruv__kept_policy_free(k);
        return rc;
    }
    k->p.skill = k->skill;
    k->p.allowed_skills = p->allowed_skills ? (const char *const *)k->allowed : NULL;
    k->p.visited_agents = p->visited_agents ? (const char *const *)k->visited : NULL;
    *out = k;
    return RUV_OK;
}

const struct ruv_a2a_policy *ruv__kept_policy(const struct ruv__kept_policy *k)
{
    return k ? &k->p : NULL;
}
