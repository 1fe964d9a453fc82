/* Flag lists, STORE and APPEND arguments. */
#include "proto/imap_store.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	unsigned bit;
} system_flags[] = {
	{ "\\Seen", IMAP_FLAG_SEEN }, { "\\Answered", IMAP_FLAG_ANSWERED },
	{ "\\Flagged", IMAP_FLAG_FLAGGED }, { "\\Deleted", IMAP_FLAG_DELETED },
	{ "\\Draft", IMAP_FLAG_DRAFT }, { "\\Recent", IMAP_FLAG_RECENT },
};

const char *imap_flag_name(unsigned flag)
{
	for (size_t i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]); i++) {
		if (system_flags[i].bit == flag)
			return system_flags[i].name;
	}
	return NULL;
}

bool imap_keyword_is_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

/* Adds one flag atom to f (keywords go to kw, which has room). */
static int flag_add(const struct imap_arg *arg, struct imap_flags *f, const char **kw,
		    const char **error_r)
{
	/* NIL is an atom and so a valid keyword here (RFC 3501 9: flag-keyword) */
	const char *s = imap_arg_atom(arg);

	if (s == NULL) {
		*error_r = "Invalid flag";
		return -1;
	}
	if (s[0] == '\\') {
		for (size_t i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]); i++) {
			if (strcasecmp(s, system_flags[i].name) == 0) {
				if (system_flags[i].bit == IMAP_FLAG_RECENT) {
					*error_r = "\\Recent can not be set";
					return -1;
				}
				f->system |= system_flags[i].bit;
				return 0;
			}
		}
		*error_r = "Unknown system flag";
		return -1;
	}
	if (!imap_keyword_is_valid(s, arg->len)) {
		*error_r = "Invalid keyword";
		return -1;
	}
	for (size_t i = 0; i < f->nkeywords; i++) {
		if (strcasecmp(kw[i], s) == 0)
			return 0;
	}
	kw[f->nkeywords++] = s;
	return 0;
}

int imap_flags_parse_args(const struct imap_arg *args, size_t count, struct imap_arena *a,
			  struct imap_flags *flags_r, const char **error_r)
{
	const char **kw = imap_arena_alloc(a, (count + 1) * sizeof(*kw));

	memset(flags_r, 0, sizeof(*flags_r));
	if (kw == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		if (flag_add(&args[i], flags_r, kw, error_r) < 0)
			return -1;
	}
	flags_r->keywords = kw;
	return 0;
}

int imap_flags_parse(const struct imap_arg *arg, struct imap_arena *a,
		     struct imap_flags *flags_r, const char **error_r)
{
	if (arg == NULL || arg->type != IMAP_ARG_LIST) {
		memset(flags_r, 0, sizeof(*flags_r));
		*error_r = "Flags must be a list";
		return -1;
	}
	return imap_flags_parse_args(arg->list, arg->count, a, flags_r, error_r);
}

int imap_store_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		     struct imap_store *store_r, const char **error_r)
{
	const char *att;
	size_t i = 0;

	memset(store_r, 0, sizeof(*store_r));
	if (count > 0 && args[0].type == IMAP_ARG_LIST) {
		const struct imap_arg *m = &args[0];

		if (m->count != 2 || !imap_arg_is_atom(&m->list[0], "UNCHANGEDSINCE") ||
		    imap_arg_modseq(&m->list[1], true, &store_r->unchangedsince) < 0) {
			*error_r = "Invalid STORE modifier";
			return -1;
		}
		store_r->has_unchangedsince = true;
		i = 1;
	}
	att = i < count ? imap_arg_atom(&args[i]) : NULL;
	if (att == NULL) {
		*error_r = "Missing STORE data item";
		return -1;
	}
	store_r->op = att[0] == '+' ? IMAP_STORE_ADD : att[0] == '-' ? IMAP_STORE_REMOVE :
		IMAP_STORE_SET;
	if (store_r->op != IMAP_STORE_SET)
		att++;
	if (strcasecmp(att, "FLAGS.SILENT") == 0) {
		store_r->silent = true;
	} else if (strcasecmp(att, "FLAGS") != 0) {
		*error_r = "Invalid STORE data item";
		return -1;
	}
	i++;
	if (i == count) {
		*error_r = "Missing flags";
		return -1;
	}
	if (args[i].type == IMAP_ARG_LIST) {
		if (i + 1 != count) {
			*error_r = "Too many STORE arguments";
			return -1;
		}
		return imap_flags_parse(&args[i], a, &store_r->flags, error_r);
	}
	return imap_flags_parse_args(args + i, count - i, a, &store_r->flags, error_r);
}

static int append_msg_parse(const struct imap_arg *args, size_t count, size_t *i,
			    struct imap_arena *a, struct imap_append_msg *m, const char **error_r)
{
	if (*i < count && args[*i].type == IMAP_ARG_LIST) {
		if (imap_flags_parse(&args[*i], a, &m->flags, error_r) < 0)
			return -1;
		(*i)++;
	}
	if (*i < count && args[*i].type == IMAP_ARG_STRING) {
		if (imap_datetime_parse(args[*i].str, args[*i].len, &m->date) < 0) {
			*error_r = "Invalid date-time";
			return -1;
		}
		m->has_date = true;
		(*i)++;
	}
	if (*i + 1 < count && imap_arg_is_atom(&args[*i], "UTF8")) {
		const struct imap_arg *l = &args[*i + 1];

		if (l->type != IMAP_ARG_LIST || l->count != 1 ||
		    l->list[0].type != IMAP_ARG_LITERAL || !l->list[0].literal8) {
			*error_r = "UTF8 needs (~{n} literal8)";
			return -1;
		}
		m->literal = &l->list[0];
		m->utf8 = true;
		*i += 2;
		return 0;
	}
	if (*i >= count || args[*i].type != IMAP_ARG_LITERAL) {
		*error_r = "Missing message literal";
		return -1;
	}
	m->literal = &args[(*i)++];
	return 0;
}

int imap_append_parse(const struct imap_arg *args, size_t count, bool multi,
		      struct imap_arena *a, struct imap_append *append_r, const char **error_r)
{
	struct imap_append_msg *msgs;
	size_t i = 1, n = 0;

	memset(append_r, 0, sizeof(*append_r));
	if (count < 2 || (append_r->mailbox = imap_arg_astring(&args[0])) == NULL) {
		*error_r = "Missing APPEND arguments";
		return -1;
	}
	msgs = imap_arena_alloc(a, count * sizeof(*msgs));
	if (msgs == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	while (i < count) {
		if (n > 0 && !multi) {
			*error_r = "Too many APPEND arguments";
			return -1;
		}
		if (append_msg_parse(args, count, &i, a, &msgs[n++], error_r) < 0)
			return -1;
	}
	append_r->msgs = msgs;
	append_r->count = n;
	return 0;
}
