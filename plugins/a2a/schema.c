/* plugins/a2a/schema.c — agent-card whitelists for v1.0 and v0.3. */
#include "config.h"
#include "schema.h"
#include "detail.h"

#include <stdio.h>
#include <string.h>

enum kind {
    STRING,        /* JSON string */
    BOOL,          /* JSON true/false */
    ANY,           /* protobuf Struct / Value or peer-defined content: kept whole */
    OBJECT,        /* a message: whitelisted by sub */
    STRINGS,       /* array of strings */
    OBJECTS,       /* array of messages, each whitelisted by sub */
    MAP_ANY,       /* object of peer-named entries, values kept whole */
};

struct field {
    const char *name;
    enum kind kind;
    const struct field *sub; /* OBJECT, OBJECTS */
};

#define END {NULL, STRING, NULL}

/* ---- v1.0 (a2a.proto, JSON names) ---- */
static const struct field v1_interface[] = {
    {"url", STRING, NULL}, {"protocolBinding", STRING, NULL}, {"tenant", STRING, NULL},
    {"protocolVersion", STRING, NULL}, END};
static const struct field provider[] = {{"url", STRING, NULL}, {"organization", STRING, NULL}, END};
static const struct field extension[] = {
    {"uri", STRING, NULL}, {"description", STRING, NULL}, {"required", BOOL, NULL},
    {"params", ANY, NULL}, END};
static const struct field v1_capabilities[] = {
    {"streaming", BOOL, NULL}, {"pushNotifications", BOOL, NULL},
    {"extensions", OBJECTS, extension}, {"extendedAgentCard", BOOL, NULL}, END};
static const struct field v1_skill[] = {
    {"id", STRING, NULL}, {"name", STRING, NULL}, {"description", STRING, NULL},
    {"tags", STRINGS, NULL}, {"examples", STRINGS, NULL}, {"inputModes", STRINGS, NULL},
    {"outputModes", STRINGS, NULL}, {"securityRequirements", ANY, NULL}, END};
static const struct field v1_card[] = {
    {"name", STRING, NULL}, {"description", STRING, NULL}, {"version", STRING, NULL},
    {"supportedInterfaces", OBJECTS, v1_interface}, {"provider", OBJECT, provider},
    {"documentationUrl", STRING, NULL}, {"iconUrl", STRING, NULL},
    {"capabilities", OBJECT, v1_capabilities}, {"securitySchemes", MAP_ANY, NULL},
    {"securityRequirements", ANY, NULL}, {"defaultInputModes", STRINGS, NULL},
    {"defaultOutputModes", STRINGS, NULL}, {"skills", OBJECTS, v1_skill}, END};

/* ---- v0.3 (a2a.json v0.3) ---- */
static const struct field v03_interface[] = {{"url", STRING, NULL}, {"transport", STRING, NULL}, END};
static const struct field v03_capabilities[] = {
    {"streaming", BOOL, NULL}, {"pushNotifications", BOOL, NULL},
    {"stateTransitionHistory", BOOL, NULL}, {"extensions", OBJECTS, extension}, END};
static const struct field v03_skill[] = {
    {"id", STRING, NULL}, {"name", STRING, NULL}, {"description", STRING, NULL},
    {"tags", STRINGS, NULL}, {"examples", STRINGS, NULL}, {"inputModes", STRINGS, NULL},
    {"outputModes", STRINGS, NULL}, {"security", ANY, NULL}, END};
static const struct field v03_card[] = {
    {"name", STRING, NULL}, {"description", STRING, NULL}, {"url", STRING, NULL},
    {"iconUrl", STRING, NULL}, {"provider", OBJECT, provider}, {"version", STRING, NULL},
    {"documentationUrl", STRING, NULL}, {"capabilities", OBJECT, v03_capabilities},
    {"securitySchemes", MAP_ANY, NULL}, {"security", ANY, NULL},
    {"defaultInputModes", STRINGS, NULL}, {"defaultOutputModes", STRINGS, NULL},
    {"skills", OBJECTS, v03_skill}, {"supportsAuthenticatedExtendedCard", BOOL, NULL},
    {"protocolVersion", STRING, NULL}, {"preferredTransport", STRING, NULL},
    {"additionalInterfaces", OBJECTS, v03_interface}, END};

enum ruv__card_schema ruv__card_schema_of(const json_t *card)
{
    return json_object_get(card, "supportedInterfaces") != NULL ? RUV__CARD_V1 : RUV__CARD_V03;
}

static const struct field *find(const struct field *f, const char *name)
{
    for (; f->name != NULL; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static int wrong_type(const char *path, const char *name, const char *want)
{
    return ruv__detail_set(RUV_E_PROTOCOL, "card: %s%s%.48s is not %s", path, *path ? "." : "",
                         name, want);
}

static int apply(json_t *obj, const struct field *schema, const char *path);

static int check_member(json_t *v, const struct field *f, const char *path)
{
    char sub[160];
    switch (f->kind) {
    case STRING:
        return json_is_string(v) ? RUV_OK : wrong_type(path, f->name, "a string");
    case BOOL:
        return json_is_boolean(v) ? RUV_OK : wrong_type(path, f->name, "a boolean");
    case ANY:
        return RUV_OK;
    case MAP_ANY:
        return json_is_object(v) ? RUV_OK : wrong_type(path, f->name, "an object");
    case OBJECT:
        if (!json_is_object(v))
            return wrong_type(path, f->name, "an object");
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->name);
        return apply(v, f->sub, sub);
    case STRINGS:
    case OBJECTS:
        if (!json_is_array(v))
            return wrong_type(path, f->name, "an array");
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *e = json_array_get(v, i);
            snprintf(sub, sizeof sub, "%s%s%s[%zu]", path, *path ? "." : "", f->name, i);
            if (f->kind == STRINGS && !json_is_string(e))
                return ruv__detail_set(RUV_E_PROTOCOL, "card: %s is not a string", sub);
            if (f->kind == OBJECTS) {
                if (!json_is_object(e))
                    return ruv__detail_set(RUV_E_PROTOCOL, "card: %s is not an object", sub);
                int rc = apply(e, f->sub, sub);
                if (rc != RUV_OK)
                    return rc;
            }
        }
        return RUV_OK;
    }
    return RUV_OK;
}

static int apply(json_t *obj, const struct field *schema, const char *path)
{
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, key, v) {
        const struct field *f = find(schema, key);
        if (f == NULL) {
            json_object_del(obj, key);
            continue;
        }
        if (json_is_null(v))
            continue; /* null means absent; the empty-value pass drops it */
        int rc = check_member(v, f, path);
        if (rc != RUV_OK)
            return rc;
    }
    return RUV_OK;
}

int ruv__card_whitelist(json_t *card, enum ruv__card_schema schema)
{
    if (!json_is_object(card))
        return ruv__detail_set(RUV_E_PROTOCOL, "card: not a JSON object");
    return apply(card, schema == RUV__CARD_V1 ? v1_card : v03_card, "");
}
