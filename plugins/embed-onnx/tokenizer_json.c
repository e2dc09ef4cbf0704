/* tokenizer_json.c — a tokenizer from a Hugging Face tokenizer.json
 * (embed.md §4.2), read with jansson. Only the BERT components are known;
 * anything else is refused by name rather than tokenized differently. */
#include "tok_internal.h"

#include <jansson.h>
#include <ruvector/error.h>
#include <string.h>

static int bad(const char *fmt, const char *what)
{
    return ruv__detail_set(RUV_E_INVAL, fmt, what);
}

static const char *type_of(json_t *obj)
{
    json_t *t = json_object_get(obj, "type");
    return json_is_string(t) ? json_string_value(t) : NULL;
}

/* A boolean member; missing means dflt. */
static int get_bool(json_t *obj, const char *key, bool dflt, bool *out, const char *where)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = dflt;
        return RUV_OK;
    }
    if (!json_is_boolean(v))
        return ruv__detail_set(RUV_E_INVAL, "tokenizer.json: %s.%s is not a boolean", where, key);
    *out = json_is_true(v);
    return RUV_OK;
}

static int read_normalizer(struct ruv__tok *tok, json_t *n)
{
    if (!n || json_is_null(n)) {
        tok->norm = (struct ruv__norm_cfg){false, false, false, false};
        return RUV_OK;
    }
    const char *t = type_of(n);
    if (!t || strcmp(t, "BertNormalizer") != 0)
        return bad("tokenizer.json: normalizer '%s' is not supported (only BertNormalizer)",
                   t ? t : "(no type)");
    int st;
    if ((st = get_bool(n, "clean_text", true, &tok->norm.clean_text, "normalizer")) ||
        (st = get_bool(n, "handle_chinese_chars", true, &tok->norm.handle_chinese_chars, "normalizer")) ||
        (st = get_bool(n, "lowercase", true, &tok->norm.lowercase, "normalizer")))
        return st;
    json_t *sa = json_object_get(n, "strip_accents"); /* null follows lowercase */
    if (!sa || json_is_null(sa))
        tok->norm.strip_accents = tok->norm.lowercase;
    else if (json_is_boolean(sa))
        tok->norm.strip_accents = json_is_true(sa);
    else
        return bad("tokenizer.json: normalizer.%s is not a boolean or null", "strip_accents");
    return RUV_OK;
}

static int read_model(struct ruv__tok *tok, json_t *m)
{
    const char *t = m ? type_of(m) : NULL;
    if (!t || strcmp(t, "WordPiece") != 0)
        return bad("tokenizer.json: model '%s' is not supported (only WordPiece)", t ? t : "(none)");
    json_t *mc = json_object_get(m, "max_input_chars_per_word");
    if (mc) {
        if (!json_is_integer(mc) || json_integer_value(mc) < 0 || json_integer_value(mc) > RUV__WORD_MAX)
            return bad("tokenizer.json: model.%s must be an integer from 0 to 1024",
                       "max_input_chars_per_word");
        tok->wp.max_word_chars = (size_t)json_integer_value(mc);
    }
    json_t *vocab = json_object_get(m, "vocab");
    if (!json_is_object(vocab))
        return bad("tokenizer.json: model.%s is not an object", "vocab");
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        json_int_t id = json_is_integer(val) ? json_integer_value(val) : -1;
        if (id < 0 || id >= (json_int_t)RUV__VOCAB_MAX_ID)
            return ruv__detail_set(RUV_E_INVAL, "tokenizer.json: vocab id of '%.64s' is not an integer "
                                      "from 0 to %u", key, RUV__VOCAB_MAX_ID - 1);
        int st = ruv__vocab_add(tok->vocab, key, strlen(key), (uint32_t)id);
        if (st != RUV_OK)
            return ruv__detail_prefix(st, "tokenizer.json");
    }
    json_t *unk = json_object_get(m, "unk_token");
    if (!json_is_string(unk))
        return bad("tokenizer.json: model.%s is not a string", "unk_token");
    tok->wp.unk_id = ruv__vocab_find(tok->vocab, json_string_value(unk), strlen(json_string_value(unk)), 0);
    if (tok->wp.unk_id < 0)
        return bad("tokenizer.json: unk_token '%.64s' is not in the vocabulary", json_string_value(unk));
    return RUV_OK;
}

/* The prefix for continuation pieces must be known before the vocabulary. */
static const char *subword_prefix(json_t *m)
{
    json_t *p = m ? json_object_get(m, "continuing_subword_prefix") : NULL;
    return json_is_string(p) ? json_string_value(p) : "##";
}

static int special_id(struct ruv__tok *tok, json_t *specials, const char *name, int64_t *id)
{
    json_t *s = json_object_get(specials, name);
    json_t *ids = s ? json_object_get(s, "ids") : NULL;
    if (!json_is_array(ids) || json_array_size(ids) != 1 || !json_is_integer(json_array_get(ids, 0)))
        return bad("tokenizer.json: post_processor special token '%.64s' needs exactly one id", name);
    *id = json_integer_value(json_array_get(ids, 0));
    (void)tok;
    return RUV_OK;
}

static int push_special(struct ruv__tok *tok, bool after, int64_t id)
{
    size_t *n = after ? &tok->nsuffix : &tok->nprefix;
    if (*n == RUV__TOK_MAX_TEMPLATE)
        return bad("tokenizer.json: %s", "post_processor has too many special tokens");
    (after ? tok->suffix_ids : tok->prefix_ids)[(*n)++] = id;
    return RUV_OK;
}

static int read_template(struct ruv__tok *tok, json_t *p)
{
    json_t *single = json_object_get(p, "single"), *specials = json_object_get(p, "special_tokens");
    if (!json_is_array(single) || !json_is_object(specials))
        return bad("tokenizer.json: %s", "TemplateProcessing needs 'single' and 'special_tokens'");
    bool seen_a = false;
    size_t i;
    json_t *piece;
    json_array_foreach(single, i, piece) {
        json_t *sp = json_object_get(piece, "SpecialToken"), *seq = json_object_get(piece, "Sequence");
        if (sp && json_is_string(json_object_get(sp, "id"))) {
            int64_t id = -1;
            int st = special_id(tok, specials, json_string_value(json_object_get(sp, "id")), &id);
            if (st == RUV_OK)
                st = push_special(tok, seen_a, id);
            if (st != RUV_OK)
                return st;
        } else if (seq && json_is_string(json_object_get(seq, "id")) &&
                   strcmp(json_string_value(json_object_get(seq, "id")), "A") == 0 && !seen_a) {
            seen_a = true;
        } else {
            return bad("tokenizer.json: %s", "TemplateProcessing 'single' must be specials, $A once, specials");
        }
    }
    if (!seen_a)
        return bad("tokenizer.json: %s", "TemplateProcessing 'single' has no $A");
    return RUV_OK;
}

static int read_pair(json_t *p, const char *key, int64_t *id)
{
    json_t *a = json_object_get(p, key);
    if (!json_is_array(a) || json_array_size(a) != 2 || !json_is_integer(json_array_get(a, 1)))
        return bad("tokenizer.json: BertProcessing.%s must be [token, id]", key);
    *id = json_integer_value(json_array_get(a, 1));
    return RUV_OK;
}

static int read_post_processor(struct ruv__tok *tok, json_t *p)
{
    if (!p || json_is_null(p))
        return RUV_OK;
    const char *t = type_of(p);
    if (t && strcmp(t, "TemplateProcessing") == 0)
        return read_template(tok, p);
    if (t && strcmp(t, "BertProcessing") == 0) {
        int64_t cls, sep;
        int st = read_pair(p, "cls", &cls);
        if (st == RUV_OK)
            st = read_pair(p, "sep", &sep);
        if (st == RUV_OK)
            st = push_special(tok, false, cls);
        if (st == RUV_OK)
            st = push_special(tok, true, sep);
        return st;
    }
    return bad("tokenizer.json: post_processor '%s' is not supported", t ? t : "(no type)");
}

static int read_added(struct ruv__tok *tok, json_t *added)
{
    if (!added || json_is_null(added))
        return RUV_OK;
    if (!json_is_array(added))
        return bad("tokenizer.json: %s is not an array", "added_tokens");
    size_t i;
    json_t *a;
    json_array_foreach(added, i, a) {
        json_t *content = json_object_get(a, "content"), *id = json_object_get(a, "id");
        if (!json_is_string(content) || !json_is_integer(id) || json_integer_value(id) < 0)
            return bad("tokenizer.json: %s needs a content string and an id", "an added token");
        const char *c = json_string_value(content);
        bool special = false, normalized = false, flag = false;
        int st;
        if ((st = get_bool(a, "special", false, &special, "added_tokens")) ||
            (st = get_bool(a, "normalized", !special, &normalized, "added_tokens")))
            return st;
        if (normalized)
            return bad("tokenizer.json: added token '%.64s' is normalized: not supported", c);
        static const char *const unsupported[] = {"lstrip", "rstrip", "single_word"};
        for (size_t k = 0; k < 3; k++) {
            if ((st = get_bool(a, unsupported[k], false, &flag, "added_tokens")))
                return st;
            if (flag)
                return ruv__detail_set(RUV_E_INVAL, "tokenizer.json: added token '%.64s' sets %s: "
                                          "not supported", c, unsupported[k]);
        }
        if ((st = ruv__tok_add_added(tok, c, json_string_length(content), json_integer_value(id), special)))
            return st;
    }
    return RUV_OK;
}

int ruv__tok_new_json(const char *buf, size_t len, const struct ruv__tok_opts *opts,
                      struct ruv__tok **out)
{
    if (!out)
        return ruv__detail_set(RUV_E_INVAL, "tokenizer.json: NULL argument");
    *out = NULL;
    if (!buf && len)
        return ruv__detail_set(RUV_E_INVAL, "tokenizer.json: NULL argument");
    json_error_t jerr;
    json_t *root = json_loadb(buf ? buf : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ruv__detail_set(RUV_E_INVAL, "tokenizer.json: line %d column %d: %s", jerr.line,
                                  jerr.column, jerr.text);
    struct ruv__tok *tok = NULL;
    int st = RUV_OK;
    const char *pt = NULL;
    if (!json_is_object(root)) {
        st = bad("tokenizer.json: %s", "the top level is not an object");
    } else {
        json_t *ptj = json_object_get(root, "pre_tokenizer");
        pt = ptj ? type_of(ptj) : NULL;
        if (!pt || strcmp(pt, "BertPreTokenizer") != 0)
            st = bad("tokenizer.json: pre_tokenizer '%s' is not supported (only BertPreTokenizer)",
                     pt ? pt : "(none)");
    }
    json_t *model = st == RUV_OK ? json_object_get(root, "model") : NULL;
    if (st == RUV_OK)
        st = ruv__tok_alloc(opts, subword_prefix(model), &tok);
    if (st == RUV_OK)
        st = read_normalizer(tok, json_object_get(root, "normalizer"));
    if (st == RUV_OK)
        st = read_model(tok, model);
    if (st == RUV_OK)
        st = read_post_processor(tok, json_object_get(root, "post_processor"));
    if (st == RUV_OK)
        st = read_added(tok, json_object_get(root, "added_tokens"));
    if (st == RUV_OK)
        st = ruv__tok_finish(tok);
    json_decref(root);
    if (st != RUV_OK) {
        ruv__tok_free(tok);
        return st;
    }
    *out = tok;
    return RUV_OK;
}

int ruv__tok_open_json(const char *path, const struct ruv__tok_opts *opts, struct ruv__tok **out)
{
    return ruv__tok_open_file(path, "tokenizer.json", ruv__tok_new_json, opts, out);
}
