/* plugins/a2a/policy.c — pre-flight checks (a2a.md §5), in its fixed order
 * minus the parts not built yet (global budget first, concurrency last). */
#include "config.h"
#include "policy.h"
#include "budget.h"
#include "concurrency.h"
#include "detail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PRICING_URI "urn:ruvector:a2a:pricing:v1"
#define DEFAULT_MAX_DEPTH 8

static int refuse(struct ruv_a2a_call_status *st, uint32_t why)
{
    if (st)
        st->error = why;
    return RUV_E_POLICY;
}

static int card_has_skill(json_t *card, const char *skill)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(card, "skills"), i, s)
    {
        const char *id = json_string_value(json_object_get(s, "id"));
        if (id && strcmp(id, skill) == 0)
            return 1;
    }
    return 0;
}

/* The pricing extension's figure for skill (a decimal string), or NULL. */
static const char *pricing(json_t *card, const char *skill, const char *field)
{
    if (!skill)
        return NULL;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(json_object_get(card, "capabilities"), "extensions"), i, e)
    {
        const char *uri = json_string_value(json_object_get(e, "uri"));
        if (uri && strcmp(uri, PRICING_URI) == 0)
            return json_string_value(
                json_object_get(json_object_get(json_object_get(e, "params"), skill), field));
    }
    return NULL;
}

static int parse_decimal(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || v < 0)
        return 0;
    *out = v;
    return 1;
}

/* UTF-8 bytes of the text parts of params.message. */
static size_t input_bytes(json_t *params)
{
    size_t n = 0, i;
    json_t *p;
    json_array_foreach(json_object_get(json_object_get(params, "message"), "parts"), i, p)
    {
        json_t *t = json_object_get(p, "text");
        if (json_is_string(t))
            n += json_string_length(t);
        else if (json_object_get(p, "data")) {
            char *d = json_dumps(json_object_get(p, "data"), JSON_COMPACT | JSON_ENCODE_ANY);
            n += d ? strlen(d) : 0;
            free(d);
        }
    }
    return n;
}

int ruv__policy_check(const struct ruv_a2a_policy *p, json_t *card, const char *peer_id,
                      const char *peer_url, json_t *params, void **slot,
                      struct ruv__budget_wait *bw,
                      struct ruv_a2a_call_status *st)
{
    *slot = NULL;
    if (!p)
        return RUV_OK;
    if (p->struct_size < sizeof *p || p->reserved || p->reserved2)
        return ruv__detail_set(RUV_E_INVAL, "policy: struct_size %u is below %zu or reserved "
                                            "is not 0",
                               (unsigned)p->struct_size, sizeof *p);
    if ((p->n_allowed_skills && !p->allowed_skills) ||
        (p->n_visited_agents && !p->visited_agents))
        return ruv__detail_set(RUV_E_INVAL, "policy: a count without its array");

    /* The budget's verdict comes first (a2a.md §5 order); it is charged only
     * after every other check passed. Its estimate is the one below, so the
     * precheck uses no figures (a full window refuses whatever the send). */
    struct ruv_a2a_budget *budget = p->budget;
    if (budget) {
        int rc = ruv__budget_precheck(budget, 0, 0, st);
        if (rc != RUV_OK)
            return rc;
    }

    /* Recursion. */
    int max_depth = p->max_call_depth > 0 ? p->max_call_depth : DEFAULT_MAX_DEPTH;
    if (p->depth > max_depth) {
        ruv__detail_set(RUV_E_POLICY, "recursion limit: call depth %d exceeds max_call_depth %d",
                        (int)p->depth, max_depth);
        return refuse(st, RUV_A2A_ERR_RECURSION);
    }
    for (size_t i = 0; peer_id && peer_id[0] && i < p->n_visited_agents; i++)
        if (p->visited_agents[i] && strcasecmp(p->visited_agents[i], peer_id) == 0) {
            ruv__detail_set(RUV_E_POLICY,
                            "recursion limit: agent %s is already on the call path", peer_id);
            return refuse(st, RUV_A2A_ERR_RECURSION);
        }

    /* Skill. */
    if (p->skill) {
        if (!card_has_skill(card, p->skill)) {
            ruv__detail_set(RUV_E_POLICY, "skill \"%s\" is not among the peer card's skills",
                            p->skill);
            return refuse(st, RUV_A2A_ERR_POLICY);
        }
        int allowed = p->n_allowed_skills == 0;
        for (size_t i = 0; !allowed && i < p->n_allowed_skills; i++)
            allowed = p->allowed_skills[i] && strcmp(p->allowed_skills[i], p->skill) == 0;
        if (!allowed) {
            ruv__detail_set(RUV_E_POLICY, "skill \"%s\" is not in policy.allowed_skills",
                            p->skill);
            return refuse(st, RUV_A2A_ERR_POLICY);
        }
    }

    /* Estimates against the caps. */
    double tokens, cost = -1;
    const char *tfig = pricing(card, p->skill, "tokensPerCall");
    const char *cfig = pricing(card, p->skill, "usdPerCall");
    if (p->estimated_tokens >= 0)
        tokens = (double)p->estimated_tokens;
    else if (!(tfig && parse_decimal(tfig, &tokens)))
        tokens = ceil((double)input_bytes(params) / 4.0);
    if (p->estimated_cost_usd >= 0)
        cost = p->estimated_cost_usd;
    else if (cfig && !parse_decimal(cfig, &cost))
        cost = -1;
    if (p->max_tokens >= 0 && tokens > (double)p->max_tokens) {
        ruv__detail_set(RUV_E_POLICY, "max_tokens: estimate %.0f exceeds the limit %lld", tokens,
                        (long long)p->max_tokens);
        return refuse(st, RUV_A2A_ERR_POLICY);
    }
    if (p->max_cost_usd >= 0) {
        if (cost < 0) {
            ruv__detail_set(RUV_E_POLICY,
                            "max_cost_usd: no cost estimate (neither the task nor the peer's "
                            "pricing gives one), so the cap cannot be checked");
            return refuse(st, RUV_A2A_ERR_POLICY);
        }
        if (cost > p->max_cost_usd + 1e-9) {
            ruv__detail_set(RUV_E_POLICY, "max_cost_usd: estimate %g exceeds the limit %g",
                            cost, p->max_cost_usd);
            return refuse(st, RUV_A2A_ERR_POLICY);
        }
    }
    /* Concurrency, then the budget is charged (an unknown cost counts as
     * $0); a budget refusal gives the slot back. */
    if (p->max_concurrency) {
        const char *peer = peer_id && peer_id[0] ? peer_id : peer_url;
        int rc = ruv__concurrency_acquire(peer ? peer : "", p->skill ? p->skill : "",
                                          p->max_concurrency, slot, st);
        if (rc != RUV_OK)
            return rc;
    }
    if (budget) {
        int rc = bw ? ruv__budget_admit_or_queue(budget, cost < 0 ? 0 : cost, (int64_t)tokens,
                                                 bw, st)
                    : ruv__budget_admit(budget, cost < 0 ? 0 : cost, (int64_t)tokens, st);
        if (rc != RUV_OK) {
            ruv__concurrency_release(*slot);
            *slot = NULL;
            return rc;
        }
    }
    return RUV_OK;
}
