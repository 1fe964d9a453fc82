/* SEARCH programs: a recursive descent over the argument tree. */
#include "proto/imap_search.h"

#include <string.h>
#include <strings.h>

#define SEARCH_MAX_DEPTH 100

enum search_argkind { K_NONE, K_STRING, K_HEADER, K_KEYWORD, K_DATE, K_NUMBER, K_UIDSET,
		      K_NOT, K_OR, K_MODSEQ };

static const struct {
	const char *name;
	enum imap_search_type type;
	enum search_argkind kind;
} search_keys[] = {
	{ "ALL", IMAP_SEARCH_ALL, K_NONE }, { "ANSWERED", IMAP_SEARCH_ANSWERED, K_NONE },
	{ "BCC", IMAP_SEARCH_BCC, K_STRING }, { "BEFORE", IMAP_SEARCH_BEFORE, K_DATE },
	{ "BODY", IMAP_SEARCH_BODY, K_STRING }, { "CC", IMAP_SEARCH_CC, K_STRING },
	{ "DELETED", IMAP_SEARCH_DELETED, K_NONE }, { "DRAFT", IMAP_SEARCH_DRAFT, K_NONE },
	{ "FLAGGED", IMAP_SEARCH_FLAGGED, K_NONE }, { "FROM", IMAP_SEARCH_FROM, K_STRING },
	{ "HEADER", IMAP_SEARCH_HEADER, K_HEADER },
	{ "KEYWORD", IMAP_SEARCH_KEYWORD, K_KEYWORD },
	{ "LARGER", IMAP_SEARCH_LARGER, K_NUMBER }, { "NEW", IMAP_SEARCH_NEW, K_NONE },
	{ "NOT", IMAP_SEARCH_NOT, K_NOT }, { "OLD", IMAP_SEARCH_OLD, K_NONE },
	{ "ON", IMAP_SEARCH_ON, K_DATE }, { "OR", IMAP_SEARCH_OR, K_OR },
	{ "RECENT", IMAP_SEARCH_RECENT, K_NONE }, { "SEEN", IMAP_SEARCH_SEEN, K_NONE },
	{ "SENTBEFORE", IMAP_SEARCH_SENTBEFORE, K_DATE },
	{ "SENTON", IMAP_SEARCH_SENTON, K_DATE },
	{ "SENTSINCE", IMAP_SEARCH_SENTSINCE, K_DATE },
	{ "SINCE", IMAP_SEARCH_SINCE, K_DATE }, { "SMALLER", IMAP_SEARCH_SMALLER, K_NUMBER },
	{ "SUBJECT", IMAP_SEARCH_SUBJECT, K_STRING }, { "TEXT", IMAP_SEARCH_TEXT, K_STRING },
	{ "TO", IMAP_SEARCH_TO, K_STRING }, { "UID", IMAP_SEARCH_UID, K_UIDSET },
	{ "UNANSWERED", IMAP_SEARCH_UNANSWERED, K_NONE },
	{ "UNDELETED", IMAP_SEARCH_UNDELETED, K_NONE },
	{ "UNDRAFT", IMAP_SEARCH_UNDRAFT, K_NONE },
	{ "UNFLAGGED", IMAP_SEARCH_UNFLAGGED, K_NONE },
	{ "UNKEYWORD", IMAP_SEARCH_UNKEYWORD, K_KEYWORD },
	{ "UNSEEN", IMAP_SEARCH_UNSEEN, K_NONE }, { "MODSEQ", IMAP_SEARCH_MODSEQ, K_MODSEQ },
};

struct search_ctx {
	struct imap_arena *a;
	struct imap_search *s;
	const char *error;
};

static int search_keys_parse(struct search_ctx *c, const struct imap_arg *args, size_t count,
			     struct imap_search_key *and_r, unsigned depth);
static int search_key_parse(struct search_ctx *c, const struct imap_arg *args, size_t count,
			    size_t *i, struct imap_search_key *key, unsigned depth);

static int search_fail(struct search_ctx *c, const char *msg)
{
	if (c->error == NULL)
		c->error = msg;
	return -1;
}

static const struct imap_arg *next_arg(const struct imap_arg *args, size_t count, size_t *i)
{
	return *i < count ? &args[(*i)++] : NULL;
}

static int search_string(struct search_ctx *c, const struct imap_arg *arg, const char **s_r,
			 size_t *len_r)
{
	const char *s = imap_arg_astring(arg);

	if (s == NULL)
		return search_fail(c, "Missing or invalid search string");
	*s_r = s;
	if (len_r != NULL)
		*len_r = arg->len;
	return 0;
}

static int search_keyword(struct search_ctx *c, const struct imap_arg *arg, const char **s_r)
{
	const char *s = imap_arg_atom(arg);

	if (s == NULL || strpbrk(s, "\\]%*") != NULL)
		return search_fail(c, "Invalid keyword");
	*s_r = s;
	return 0;
}

static int search_modseq(struct search_ctx *c, const struct imap_arg *args, size_t count,
			 size_t *i, struct imap_search_key *key)
{
	const struct imap_arg *arg = next_arg(args, count, i);

	if (arg != NULL && arg->type == IMAP_ARG_STRING) {
		const struct imap_arg *type = next_arg(args, count, i);

		key->entry_name = arg->str;
		if (imap_arg_is_atom(type, "PRIV"))
			key->entry_type = IMAP_SEARCH_ENTRY_PRIV;
		else if (imap_arg_is_atom(type, "SHARED"))
			key->entry_type = IMAP_SEARCH_ENTRY_SHARED;
		else if (imap_arg_is_atom(type, "ALL"))
			key->entry_type = IMAP_SEARCH_ENTRY_ALL;
		else
			return search_fail(c, "Invalid MODSEQ entry type");
		arg = next_arg(args, count, i);
	}
	if (imap_arg_modseq(arg, true, &key->number) < 0)
		return search_fail(c, "Invalid MODSEQ value");
	c->s->uses_modseq = true;
	return 0;
}

/* The argument(s) of a named key. */
static int search_key_args(struct search_ctx *c, enum search_argkind kind,
			   const struct imap_arg *args, size_t count, size_t *i,
			   struct imap_search_key *key, unsigned depth)
{
	const struct imap_arg *arg;
	struct imap_search_key *kids;
	const char *s;

	switch (kind) {
	case K_NONE:
		return 0;
	case K_STRING:
		return search_string(c, next_arg(args, count, i), &key->str, &key->str_len);
	case K_HEADER:
		if (search_string(c, next_arg(args, count, i), &key->header, NULL) < 0)
			return -1;
		return search_string(c, next_arg(args, count, i), &key->str, &key->str_len);
	case K_KEYWORD:
		return search_keyword(c, next_arg(args, count, i), &key->str);
	case K_DATE:
		arg = next_arg(args, count, i);
		s = imap_arg_astring(arg);
		if (s == NULL || imap_date_parse(s, arg->len, &key->date) < 0)
			return search_fail(c, "Invalid search date");
		return 0;
	case K_NUMBER:
		arg = next_arg(args, count, i);
		s = imap_arg_atom(arg);
		if (s == NULL || imap_parse_uint64(s, arg->len, INT64_MAX, &key->number) < 0)
			return search_fail(c, "Invalid search number");
		return 0;
	case K_UIDSET:
		if (imap_seqset_parse_arg(next_arg(args, count, i), true, c->a, &key->seqset,
					  &s) < 0)
			return search_fail(c, s);
		return 0;
	case K_MODSEQ:
		return search_modseq(c, args, count, i, key);
	case K_NOT:
	case K_OR:
		key->count = kind == K_NOT ? 1 : 2;
		kids = imap_arena_alloc(c->a, key->count * sizeof(*kids));
		if (kids == NULL)
			return search_fail(c, "Out of memory");
		key->children = kids;
		for (size_t k = 0; k < key->count; k++) {
			if (search_key_parse(c, args, count, i, &kids[k], depth + 1) < 0)
				return -1;
		}
		return 0;
	}
	return search_fail(c, "Internal error");
}

static int search_key_parse(struct search_ctx *c, const struct imap_arg *args, size_t count,
			    size_t *i, struct imap_search_key *key, unsigned depth)
{
	const struct imap_arg *arg = next_arg(args, count, i);
	const char *atom, *err;

	memset(key, 0, sizeof(*key));
	if (depth > SEARCH_MAX_DEPTH)
		return search_fail(c, "Search program too deeply nested");
	if (arg == NULL)
		return search_fail(c, "Missing search key");
	if (arg->type == IMAP_ARG_LIST) {
		if (arg->count == 0)
			return search_fail(c, "Empty search key list");
		return search_keys_parse(c, arg->list, arg->count, key, depth + 1);
	}
	atom = imap_arg_atom(arg);
	if (atom == NULL)
		return search_fail(c, "Invalid search key");
	for (size_t k = 0; k < sizeof(search_keys) / sizeof(search_keys[0]); k++) {
		if (strcasecmp(atom, search_keys[k].name) == 0) {
			key->type = search_keys[k].type;
			return search_key_args(c, search_keys[k].kind, args, count, i, key, depth);
		}
	}
	if (imap_seqset_parse(atom, arg->len, true, c->a, &key->seqset, &err) < 0)
		return search_fail(c, "Unknown search key");
	key->type = IMAP_SEARCH_SEQSET;
	return 0;
}

/* Parses count arguments as keys into an AND node. */
static int search_keys_parse(struct search_ctx *c, const struct imap_arg *args, size_t count,
			     struct imap_search_key *and_r, unsigned depth)
{
	struct imap_search_key *kids = imap_arena_alloc(c->a, count * sizeof(*kids));
	size_t i = 0, n = 0;

	memset(and_r, 0, sizeof(*and_r));
	if (kids == NULL)
		return search_fail(c, "Out of memory");
	while (i < count) {
		if (search_key_parse(c, args, count, &i, &kids[n++], depth) < 0)
			return -1;
	}
	and_r->type = IMAP_SEARCH_AND;
	and_r->children = kids;
	and_r->count = n;
	return 0;
}

static int search_return_parse(struct search_ctx *c, const struct imap_arg *list)
{
	static const struct { const char *name; unsigned bit; } opts[] = {
		{ "MIN", IMAP_SEARCH_RETURN_MIN }, { "MAX", IMAP_SEARCH_RETURN_MAX },
		{ "ALL", IMAP_SEARCH_RETURN_ALL }, { "COUNT", IMAP_SEARCH_RETURN_COUNT },
		{ "SAVE", IMAP_SEARCH_RETURN_SAVE },
	};

	if (list == NULL || list->type != IMAP_ARG_LIST)
		return search_fail(c, "RETURN needs a list");
	c->s->has_return = true;
	for (size_t i = 0; i < list->count; i++) {
		size_t k;

		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			if (imap_arg_is_atom(&list->list[i], opts[k].name))
				break;
		}
		if (k == sizeof(opts) / sizeof(opts[0]))
			return search_fail(c, "Unknown RETURN option");
		c->s->return_opts |= opts[k].bit;
	}
	if (list->count == 0)
		c->s->return_opts = IMAP_SEARCH_RETURN_ALL;
	return 0;
}

int imap_search_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		      struct imap_search *search_r, const char **error_r)
{
	struct search_ctx c = { .a = a, .s = search_r };
	size_t i = 0;

	memset(search_r, 0, sizeof(*search_r));
	if (count > 0 && imap_arg_is_atom(&args[0], "RETURN")) {
		if (search_return_parse(&c, count > 1 ? &args[1] : NULL) < 0)
			goto fail;
		i = 2;
	}
	if (i < count && imap_arg_is_atom(&args[i], "CHARSET")) {
		if (i + 1 >= count || (search_r->charset = imap_arg_astring(&args[i + 1])) == NULL) {
			search_fail(&c, "CHARSET needs a name");
			goto fail;
		}
		i += 2;
	}
	if (i >= count) {
		search_fail(&c, "Missing search keys");
		goto fail;
	}
	if (search_keys_parse(&c, args + i, count - i, &search_r->root, 0) < 0)
		goto fail;
	return 0;
fail:
	*error_r = c.error;
	return -1;
}
