/* The grammar of each command and test (RFC 5228 and the extensions'):
 * which tags it takes, its positional arguments, tests and block; checked
 * as each is parsed, filling the node's compiled fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sieve/sieve_int.h"

enum sieve_tagid {
	TAG_COMPARATOR = 1, TAG_IS, TAG_CONTAINS, TAG_MATCHES, TAG_REGEX, TAG_VALUE, TAG_COUNT,
	TAG_ALL, TAG_LOCALPART, TAG_DOMAIN, TAG_USER, TAG_DETAIL, TAG_INDEX, TAG_LAST, TAG_RAW,
	TAG_CONTENT, TAG_TEXT, TAG_ZONE, TAG_ORIGINALZONE, TAG_PERCENT, TAG_OVER, TAG_UNDER,
	TAG_COPY, TAG_CREATE, TAG_FLAGS, TAG_DAYS, TAG_SECONDS, TAG_SUBJECT, TAG_FROM,
	TAG_ADDRESSES, TAG_MIME, TAG_HANDLE, TAG_HEADER, TAG_UNIQUEID, TAG_PERSONAL, TAG_GLOBAL,
	TAG_ONCE, TAG_OPTIONAL, TAG_LOWER, TAG_UPPER, TAG_LOWERFIRST, TAG_UPPERFIRST,
	TAG_QUOTEWILDCARD, TAG_QUOTEREGEX, TAG_LENGTH, TAG_COUNT_
};

struct tag_def {
	const char *name;
	char arg;		/* 0, 'S' one string, 'L' string list, 'N' number */
	uint32_t ext;		/* needed extension, 0 for none */
};

static const struct tag_def tags[TAG_COUNT_] = {
	[TAG_COMPARATOR] = { "comparator", 'S', 0 },
	[TAG_IS] = { "is", 0, 0 },
	[TAG_CONTAINS] = { "contains", 0, 0 },
	[TAG_MATCHES] = { "matches", 0, 0 },
	[TAG_REGEX] = { "regex", 0, SIEVE_EXT_REGEX },
	[TAG_VALUE] = { "value", 'S', SIEVE_EXT_RELATIONAL },
	[TAG_COUNT] = { "count", 'S', SIEVE_EXT_RELATIONAL },
	[TAG_ALL] = { "all", 0, 0 },
	[TAG_LOCALPART] = { "localpart", 0, 0 },
	[TAG_DOMAIN] = { "domain", 0, 0 },
	[TAG_USER] = { "user", 0, SIEVE_EXT_SUBADDRESS },
	[TAG_DETAIL] = { "detail", 0, SIEVE_EXT_SUBADDRESS },
	[TAG_INDEX] = { "index", 'N', SIEVE_EXT_INDEX },
	[TAG_LAST] = { "last", 0, 0 },
	[TAG_RAW] = { "raw", 0, 0 },
	[TAG_CONTENT] = { "content", 'L', 0 },
	[TAG_TEXT] = { "text", 0, 0 },
	[TAG_ZONE] = { "zone", 'S', 0 },
	[TAG_ORIGINALZONE] = { "originalzone", 0, 0 },
	[TAG_PERCENT] = { "percent", 0, SIEVE_EXT_SPAMTESTPLUS },
	[TAG_OVER] = { "over", 0, 0 },
	[TAG_UNDER] = { "under", 0, 0 },
	[TAG_COPY] = { "copy", 0, SIEVE_EXT_COPY },
	[TAG_CREATE] = { "create", 0, SIEVE_EXT_MAILBOX },
	[TAG_FLAGS] = { "flags", 'L', SIEVE_EXT_IMAP4FLAGS },
	[TAG_DAYS] = { "days", 'N', 0 },
	[TAG_SECONDS] = { "seconds", 'N', 0 },
	[TAG_SUBJECT] = { "subject", 'S', 0 },
	[TAG_FROM] = { "from", 'S', 0 },
	[TAG_ADDRESSES] = { "addresses", 'L', 0 },
	[TAG_MIME] = { "mime", 0, 0 },
	[TAG_HANDLE] = { "handle", 'S', 0 },
	[TAG_HEADER] = { "header", 'S', 0 },
	[TAG_UNIQUEID] = { "uniqueid", 'S', 0 },
	[TAG_PERSONAL] = { "personal", 0, 0 },
	[TAG_GLOBAL] = { "global", 0, 0 },
	[TAG_ONCE] = { "once", 0, 0 },
	[TAG_OPTIONAL] = { "optional", 0, 0 },
	[TAG_LOWER] = { "lower", 0, 0 },
	[TAG_UPPER] = { "upper", 0, 0 },
	[TAG_LOWERFIRST] = { "lowerfirst", 0, 0 },
	[TAG_UPPERFIRST] = { "upperfirst", 0, 0 },
	[TAG_QUOTEWILDCARD] = { "quotewildcard", 0, 0 },
	[TAG_QUOTEREGEX] = { "quoteregex", 0, SIEVE_EXT_REGEX },
	[TAG_LENGTH] = { "length", 0, 0 },
};

#define T(x) (1ull << (x))
#define MATCHTAGS (T(TAG_COMPARATOR) | T(TAG_IS) | T(TAG_CONTAINS) | T(TAG_MATCHES) | \
		   T(TAG_REGEX) | T(TAG_VALUE) | T(TAG_COUNT))
#define ADDRTAGS (T(TAG_ALL) | T(TAG_LOCALPART) | T(TAG_DOMAIN) | T(TAG_USER) | T(TAG_DETAIL))
#define INDEXTAGS (T(TAG_INDEX) | T(TAG_LAST))

struct cmd_def {
	const char *name;
	int id;
	bool test;
	uint32_t ext;
	uint64_t tags;
	const char *pos;	/* positional: S one string, L list, N number, O optional list first */
	char tests;		/* 0 none, '1' one, 'L' a list */
	char block;		/* 0 none, 'B' required */
};

static const struct cmd_def cmds[] = {
	{ "if", SID_IF, false, 0, 0, "", '1', 'B' },
	{ "elsif", SID_ELSIF, false, 0, 0, "", '1', 'B' },
	{ "else", SID_ELSE, false, 0, 0, "", 0, 'B' },
	{ "stop", SID_STOP, false, 0, 0, "", 0, 0 },
	{ "keep", SID_KEEP, false, 0, T(TAG_FLAGS), "", 0, 0 },
	{ "discard", SID_DISCARD, false, 0, 0, "", 0, 0 },
	{ "fileinto", SID_FILEINTO, false, SIEVE_EXT_FILEINTO,
	  T(TAG_COPY) | T(TAG_FLAGS) | T(TAG_CREATE), "S", 0, 0 },
	{ "redirect", SID_REDIRECT, false, 0, T(TAG_COPY), "S", 0, 0 },
	{ "reject", SID_REJECT, false, SIEVE_EXT_REJECT, 0, "S", 0, 0 },
	{ "ereject", SID_EREJECT, false, SIEVE_EXT_EREJECT, 0, "S", 0, 0 },
	{ "setflag", SID_SETFLAG, false, SIEVE_EXT_IMAP4FLAGS, 0, "OL", 0, 0 },
	{ "addflag", SID_ADDFLAG, false, SIEVE_EXT_IMAP4FLAGS, 0, "OL", 0, 0 },
	{ "removeflag", SID_REMOVEFLAG, false, SIEVE_EXT_IMAP4FLAGS, 0, "OL", 0, 0 },
	{ "set", SID_SET, false, SIEVE_EXT_VARIABLES,
	  T(TAG_LOWER) | T(TAG_UPPER) | T(TAG_LOWERFIRST) | T(TAG_UPPERFIRST) |
	  T(TAG_QUOTEWILDCARD) | T(TAG_QUOTEREGEX) | T(TAG_LENGTH), "SS", 0, 0 },
	{ "vacation", SID_VACATION, false, SIEVE_EXT_VACATION,
	  T(TAG_DAYS) | T(TAG_SECONDS) | T(TAG_SUBJECT) | T(TAG_FROM) | T(TAG_ADDRESSES) |
	  T(TAG_MIME) | T(TAG_HANDLE), "S", 0, 0 },
	{ "include", SID_INCLUDE, false, SIEVE_EXT_INCLUDE,
	  T(TAG_PERSONAL) | T(TAG_GLOBAL) | T(TAG_ONCE) | T(TAG_OPTIONAL), "S", 0, 0 },
	{ "return", SID_RETURN, false, SIEVE_EXT_INCLUDE, 0, "", 0, 0 },
	{ "global", SID_GLOBAL, false, SIEVE_EXT_INCLUDE, 0, "L", 0, 0 },
	{ "true", SID_TRUE, true, 0, 0, "", 0, 0 },
	{ "false", SID_FALSE, true, 0, 0, "", 0, 0 },
	{ "not", SID_NOT, true, 0, 0, "", '1', 0 },
	{ "allof", SID_ALLOF, true, 0, 0, "", 'L', 0 },
	{ "anyof", SID_ANYOF, true, 0, 0, "", 'L', 0 },
	{ "address", SID_ADDRESS, true, 0, MATCHTAGS | ADDRTAGS | INDEXTAGS, "LL", 0, 0 },
	{ "header", SID_HEADER, true, 0, MATCHTAGS | INDEXTAGS, "LL", 0, 0 },
	{ "exists", SID_EXISTS, true, 0, 0, "L", 0, 0 },
	{ "size", SID_SIZE, true, 0, T(TAG_OVER) | T(TAG_UNDER), "N", 0, 0 },
	{ "envelope", SID_ENVELOPE, true, SIEVE_EXT_ENVELOPE, MATCHTAGS | ADDRTAGS, "LL", 0, 0 },
	{ "body", SID_BODY, true, SIEVE_EXT_BODY,
	  MATCHTAGS | T(TAG_RAW) | T(TAG_CONTENT) | T(TAG_TEXT), "L", 0, 0 },
	{ "string", SID_STRING, true, SIEVE_EXT_VARIABLES, MATCHTAGS, "LL", 0, 0 },
	{ "hasflag", SID_HASFLAG, true, SIEVE_EXT_IMAP4FLAGS, MATCHTAGS, "OL", 0, 0 },
	{ "date", SID_DATE, true, SIEVE_EXT_DATE,
	  MATCHTAGS | INDEXTAGS | T(TAG_ZONE) | T(TAG_ORIGINALZONE), "SSL", 0, 0 },
	{ "currentdate", SID_CURRENTDATE, true, SIEVE_EXT_DATE, MATCHTAGS | T(TAG_ZONE), "SL", 0, 0 },
	{ "mailboxexists", SID_MAILBOXEXISTS, true, SIEVE_EXT_MAILBOX, 0, "L", 0, 0 },
	{ "duplicate", SID_DUPLICATE, true, SIEVE_EXT_DUPLICATE,
	  T(TAG_HANDLE) | T(TAG_HEADER) | T(TAG_UNIQUEID) | T(TAG_SECONDS) | T(TAG_LAST), "", 0, 0 },
	{ "spamtest", SID_SPAMTEST, true, SIEVE_EXT_SPAMTEST | SIEVE_EXT_SPAMTESTPLUS,
	  MATCHTAGS | T(TAG_PERCENT), "S", 0, 0 },
	{ "virustest", SID_VIRUSTEST, true, SIEVE_EXT_VIRUSTEST, MATCHTAGS, "S", 0, 0 },
};

static const struct {
	const char *name;
	uint32_t bit;
} exts[] = {
	{ "fileinto", SIEVE_EXT_FILEINTO }, { "reject", SIEVE_EXT_REJECT },
	{ "ereject", SIEVE_EXT_EREJECT }, { "envelope", SIEVE_EXT_ENVELOPE },
	{ "encoded-character", SIEVE_EXT_ENCODED_CHAR }, { "imap4flags", SIEVE_EXT_IMAP4FLAGS },
	{ "copy", SIEVE_EXT_COPY }, { "body", SIEVE_EXT_BODY }, { "variables", SIEVE_EXT_VARIABLES },
	{ "vacation", SIEVE_EXT_VACATION },
	{ "vacation-seconds", SIEVE_EXT_VACATION_SECONDS | SIEVE_EXT_VACATION },
	{ "relational", SIEVE_EXT_RELATIONAL }, { "subaddress", SIEVE_EXT_SUBADDRESS },
	{ "date", SIEVE_EXT_DATE }, { "index", SIEVE_EXT_INDEX }, { "regex", SIEVE_EXT_REGEX },
	{ "mailbox", SIEVE_EXT_MAILBOX }, { "include", SIEVE_EXT_INCLUDE },
	{ "duplicate", SIEVE_EXT_DUPLICATE }, { "spamtest", SIEVE_EXT_SPAMTEST },
	{ "spamtestplus", SIEVE_EXT_SPAMTESTPLUS | SIEVE_EXT_SPAMTEST },
	{ "virustest", SIEVE_EXT_VIRUSTEST },
	{ "comparator-i;octet", SIEVE_EXT_CMP_BASE }, { "comparator-i;ascii-casemap", SIEVE_EXT_CMP_BASE },
	{ "comparator-i;ascii-numeric", SIEVE_EXT_CMP_NUMERIC },
	{ "comparator-i;unicode-casemap", SIEVE_EXT_CMP_UNICODE },
};

const char *sieve_capabilities(void)
{
	return "fileinto reject ereject envelope encoded-character imap4flags copy body "
	       "variables vacation vacation-seconds relational subaddress date index regex "
	       "mailbox include duplicate spamtest spamtestplus virustest comparator-i;octet "
	       "comparator-i;ascii-casemap comparator-i;ascii-numeric comparator-i;unicode-casemap";
}

uint32_t sieve_ext_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcmp(exts[i].name, name) == 0)
			return exts[i].bit;
	return 0;
}

int sieve_lookup(const char *name, bool is_test, uint32_t *ext_r)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].test == is_test && strcasecmp(cmds[i].name, name) == 0) {
			*ext_r = cmds[i].ext;
			return cmds[i].id;
		}
	return 0;
}

int sieve_tag_lookup(const char *name, size_t len)
{
	for (int i = 1; i < TAG_COUNT_; i++)
		if (strlen(tags[i].name) == len && strncasecmp(tags[i].name, name, len) == 0)
			return i;
	return 0;
}

static const struct cmd_def *cmd_find(int id)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].id == id)
			return &cmds[i];
	return NULL;
}

static const char *one_string(struct sieve_parser *p, uint32_t li)
{
	return sieve_str_ptr(p->s, p->s->lists[li].first);
}

static bool list_has_var(struct sieve_parser *p, uint32_t li)
{
	const struct sieve_list *l = &p->s->lists[li];

	for (uint32_t i = 0; i < l->count; i++)
		if (p->s->strs[l->first + i].has_var)
			return true;
	return false;
}

static int set_match(struct sieve_parser *p, struct sieve_node *nd, int tag, const char *rel,
		     unsigned int line, bool *seen)
{
	static const char *const rels[] = { "gt", "ge", "lt", "le", "eq", "ne" };

	if (*seen) {
		sieve_parse_error(p, line, "more than one match type");
		return -1;
	}
	*seen = true;
	switch (tag) {
	case TAG_IS: nd->match = MATCH_IS; return 0;
	case TAG_CONTAINS: nd->match = MATCH_CONTAINS; return 0;
	case TAG_MATCHES: nd->match = MATCH_MATCHES; return 0;
	case TAG_REGEX: nd->match = MATCH_REGEX; return 0;
	default: break;
	}
	nd->match = tag == TAG_VALUE ? MATCH_VALUE : MATCH_COUNT;
	for (unsigned int i = 0; i < 6; i++)
		if (strcasecmp(rel, rels[i]) == 0) {
			nd->rel = (uint8_t)i;
			return 0;
		}
	sieve_parse_error(p, line, "unknown relational operator \"%s\"", rel);
	return -1;
}

static int set_comparator(struct sieve_parser *p, struct sieve_node *nd, const char *name,
			  unsigned int line)
{
	if (strcmp(name, "i;ascii-casemap") == 0)
		nd->cmp = CMP_ASCII;
	else if (strcmp(name, "i;octet") == 0)
		nd->cmp = CMP_OCTET;
	else if (strcmp(name, "i;unicode-casemap") == 0 && (p->s->ext & SIEVE_EXT_CMP_UNICODE))
		nd->cmp = CMP_UNICODE;
	else if (strcmp(name, "i;ascii-numeric") == 0 && (p->s->ext & SIEVE_EXT_CMP_NUMERIC))
		nd->cmp = CMP_NUMERIC;
	else {
		sieve_parse_error(p, line, "unknown comparator \"%s\"", name);
		return -1;
	}
	return 0;
}

static int set_modifier(struct sieve_parser *p, struct sieve_node *nd, int tag, unsigned int line)
{
	static const struct { int tag; uint8_t bit, group; } mods[] = {
		{ TAG_LOWER, MOD_LOWER, MOD_LOWER | MOD_UPPER },
		{ TAG_UPPER, MOD_UPPER, MOD_LOWER | MOD_UPPER },
		{ TAG_LOWERFIRST, MOD_LOWERFIRST, MOD_LOWERFIRST | MOD_UPPERFIRST },
		{ TAG_UPPERFIRST, MOD_UPPERFIRST, MOD_LOWERFIRST | MOD_UPPERFIRST },
		{ TAG_QUOTEWILDCARD, MOD_QUOTEWILD, MOD_QUOTEWILD | MOD_QUOTEREGEX },
		{ TAG_QUOTEREGEX, MOD_QUOTEREGEX, MOD_QUOTEWILD | MOD_QUOTEREGEX },
		{ TAG_LENGTH, MOD_LENGTH, MOD_LENGTH },
	};

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		if (mods[i].tag != tag)
			continue;
		if (nd->mods & mods[i].group) {
			sieve_parse_error(p, line, "modifiers of the same precedence used together");
			return -1;
		}
		nd->mods |= mods[i].bit;
		return 0;
	}
	return -1;
}

static int apply_other_tag(struct sieve_parser *p, struct sieve_node *nd, int tag,
			   const struct sieve_parg *arg, unsigned int line, bool *seen_part);

/* One tag (and its argument) into the node: comparators, match types,
 * address parts, :index and body transforms here, the rest below. */
static int apply_tag(struct sieve_parser *p, struct sieve_node *nd, int tag,
		     const struct sieve_parg *arg, unsigned int line, bool *seen_match,
		     bool *seen_cmp, bool *seen_part)
{
	const char *s = arg != NULL && arg->type == 'L' ? one_string(p, arg->list) : NULL;

	switch (tag) {
	case TAG_COMPARATOR:
		if (*seen_cmp) {
			sieve_parse_error(p, line, "more than one comparator");
			return -1;
		}
		*seen_cmp = true;
		return set_comparator(p, nd, s, line);
	case TAG_IS: case TAG_CONTAINS: case TAG_MATCHES: case TAG_REGEX: case TAG_VALUE:
	case TAG_COUNT:
		return set_match(p, nd, tag, s, line, seen_match);
	case TAG_ALL: case TAG_LOCALPART: case TAG_DOMAIN: case TAG_USER: case TAG_DETAIL:
		if (*seen_part) {
			sieve_parse_error(p, line, "more than one address part");
			return -1;
		}
		*seen_part = true;
		nd->part = tag == TAG_ALL ? PART_ALL : tag == TAG_LOCALPART ? PART_LOCAL :
			   tag == TAG_DOMAIN ? PART_DOMAIN : tag == TAG_USER ? PART_USER : PART_DETAIL;
		return 0;
	case TAG_INDEX:
		if (arg->num == 0 || arg->num > 0x7fffffff) {
			sieve_parse_error(p, line, ":index must be a positive number");
			return -1;
		}
		nd->index = (int32_t)arg->num;
		nd->flags |= NF_HAS_INDEX;
		return 0;
	case TAG_LAST: nd->flags |= NF_LAST; return 0;
	case TAG_RAW: case TAG_TEXT: case TAG_CONTENT:
		if (*seen_part) {
			sieve_parse_error(p, line, "more than one body transform");
			return -1;
		}
		*seen_part = true;
		nd->part = tag == TAG_RAW ? BODY_RAW : tag == TAG_TEXT ? BODY_TEXT : BODY_CONTENT;
		if (tag == TAG_CONTENT)
			nd->sl[SL_TAG] = arg->list;
		return 0;
	default:
		return apply_other_tag(p, nd, tag, arg, line, seen_part);
	}
}

/* The tags of dates, sizes, actions, vacation, include and set. */
static int apply_other_tag(struct sieve_parser *p, struct sieve_node *nd, int tag,
			   const struct sieve_parg *arg, unsigned int line, bool *seen_part)
{
	switch (tag) {
	case TAG_ZONE:
		if (nd->sl[SL_TAG] != 0 || (nd->flags & NF_ORIGZONE))
			goto dup;
		nd->sl[SL_TAG] = arg->list;
		return 0;
	case TAG_ORIGINALZONE:
		if (nd->sl[SL_TAG] != 0)
			goto dup;
		nd->flags |= NF_ORIGZONE;
		return 0;
	case TAG_PERCENT: nd->flags |= NF_PERCENT; return 0;
	case TAG_OVER: case TAG_UNDER:
		if (*seen_part)
			goto dup;
		*seen_part = true;
		if (tag == TAG_UNDER)
			nd->flags |= NF_UNDER;
		return 0;
	case TAG_COPY: nd->flags |= NF_COPY; return 0;
	case TAG_CREATE: nd->flags |= NF_CREATE; return 0;
	case TAG_FLAGS:
		nd->sl[SL_TAG] = arg->list;
		nd->flags |= NF_HAS_FLAGS;
		return 0;
	case TAG_DAYS: case TAG_SECONDS:
		if (nd->flags & NF_HAS_NUM)
			goto dup;
		if (tag == TAG_SECONDS && nd->id == SID_VACATION &&
		    !(p->s->ext & SIEVE_EXT_VACATION_SECONDS)) {
			sieve_parse_error(p, line, ":seconds needs require \"vacation-seconds\"");
			return -1;
		}
		nd->flags |= NF_HAS_NUM | (tag == TAG_SECONDS ? NF_SECONDS : 0);
		nd->num = arg->num;
		return 0;
	case TAG_SUBJECT: nd->sl[SL_SUBJECT] = arg->list; return 0;
	case TAG_FROM: nd->sl[SL_FROM] = arg->list; return 0;
	case TAG_ADDRESSES: nd->sl[SL_ADDRS] = arg->list; return 0;
	case TAG_MIME: nd->flags |= NF_MIME; return 0;
	case TAG_HANDLE: nd->sl[SL_HANDLE] = arg->list; return 0;
	case TAG_HEADER: case TAG_UNIQUEID:
		if (nd->sl[SL_TAG] != 0)
			goto dup;
		nd->sl[SL_TAG] = arg->list;
		if (tag == TAG_UNIQUEID)
			nd->flags |= NF_UNIQUEID;
		return 0;
	case TAG_PERSONAL: case TAG_GLOBAL:
		if (*seen_part)
			goto dup;
		*seen_part = true;
		if (tag == TAG_GLOBAL)
			nd->flags |= NF_GLOBAL;
		return 0;
	case TAG_ONCE: nd->flags |= NF_ONCE; return 0;
	case TAG_OPTIONAL: nd->flags |= NF_OPTIONAL; return 0;
	default:
		return set_modifier(p, nd, tag, line);
	}
dup:
	sieve_parse_error(p, line, "conflicting or repeated tag :%s", tags[tag].name);
	return -1;
}

/* Tags and their arguments; leaves the positional arguments in pos[]. */
static int check_tags(struct sieve_parser *p, struct sieve_node *nd, const struct cmd_def *def,
		      const struct sieve_parg *args, unsigned int nargs,
		      const struct sieve_parg **pos, unsigned int *npos_r)
{
	bool seen_match = false, seen_cmp = false, seen_part = false;
	uint64_t seen = 0;
	unsigned int npos = 0;

	for (unsigned int i = 0; i < nargs; i++) {
		const struct sieve_parg *a = &args[i], *targ = NULL;
		const struct tag_def *td;

		if (a->type != 'T') {
			pos[npos++] = a;
			continue;
		}
		td = &tags[a->tag];
		if (npos > 0 || !(def->tags & T(a->tag))) {
			sieve_parse_error(p, a->line, "%s does not take :%s%s", def->name, td->name,
					  npos > 0 ? " here" : "");
			return -1;
		}
		if (td->ext != 0 && !(p->s->ext & td->ext)) {
			sieve_parse_error(p, a->line, ":%s needs a require", td->name);
			return -1;
		}
		if ((seen & T(a->tag)) && a->tag != TAG_LAST) {
			sieve_parse_error(p, a->line, "repeated tag :%s", td->name);
			return -1;
		}
		seen |= T(a->tag);
		if (td->arg != 0) {
			if (i + 1 >= nargs || args[i + 1].type != (td->arg == 'N' ? 'N' : 'L') ||
			    (td->arg == 'S' && p->s->lists[args[i + 1].list].count != 1)) {
				sieve_parse_error(p, a->line, ":%s needs %s", td->name,
						  td->arg == 'N' ? "a number" :
						  td->arg == 'S' ? "one string" : "a string list");
				return -1;
			}
			targ = &args[++i];
		}
		if (apply_tag(p, nd, a->tag, targ, a->line, &seen_match, &seen_cmp, &seen_part) < 0)
			return -1;
	}
	if ((nd->flags & NF_LAST) && !(nd->flags & NF_HAS_INDEX) && nd->id != SID_DUPLICATE) {
		sieve_parse_error(p, nd->line, ":last needs :index");
		return -1;
	}
	*npos_r = npos;
	return 0;
}

static int check_positional(struct sieve_parser *p, struct sieve_node *nd,
			    const struct cmd_def *def, const struct sieve_parg **pos,
			    unsigned int npos)
{
	const char *pat = def->pos;
	unsigned int want = (unsigned int)strlen(pat), slot = 0, i = 0;
	bool optional = pat[0] == 'O';

	if (optional) {
		pat++;
		want--;
		if (npos == want + 1) {
			if (pos[0]->type != 'L') {
				sieve_parse_error(p, nd->line, "%s: expected a string list", def->name);
				return -1;
			}
			nd->sl[SL_P1] = pos[0]->list;	/* the variable names */
			i = 1;
		}
	}
	if (npos - i != want) {
		sieve_parse_error(p, nd->line, "%s takes %u argument%s", def->name, want,
				  want == 1 ? "" : "s");
		return -1;
	}
	for (; *pat != '\0'; pat++, i++) {
		const struct sieve_parg *a = pos[i];

		if (*pat == 'N') {
			if (a->type != 'N') {
				sieve_parse_error(p, a->line, "%s: expected a number", def->name);
				return -1;
			}
			nd->num = a->num;
			continue;
		}
		if (a->type != 'L' || (*pat == 'S' && p->s->lists[a->list].count != 1)) {
			sieve_parse_error(p, a->line, "%s: expected %s", def->name,
					  *pat == 'S' ? "one string" : "a string list");
			return -1;
		}
		nd->sl[optional ? SL_P0 : slot++] = a->list;
	}
	return 0;
}

static bool is_identifier(const char *s, bool allow_dots)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		      (*s >= '0' && *s <= '9') || (allow_dots && *s == '.')))
			return false;
	return true;
}

static bool is_header_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 32 || (unsigned char)*s >= 127 || *s == ':')
			return false;
	return true;
}

/* Checks what only makes sense for some commands: comparators against
 * match types, header names, addresses, regex keys. */
static int check_semantics(struct sieve_parser *p, struct sieve_node *nd, const char *name)
{
	const struct sieve_script *s = p->s;

	if (nd->cmp == CMP_NUMERIC && (nd->match == MATCH_CONTAINS || nd->match == MATCH_MATCHES ||
				       nd->match == MATCH_REGEX)) {
		sieve_parse_error(p, nd->line, "i;ascii-numeric cannot be used with this match type");
		return -1;
	}
	if ((nd->id == SID_HEADER || nd->id == SID_ADDRESS || nd->id == SID_EXISTS ||
	     nd->id == SID_DATE) && !list_has_var(p, nd->sl[SL_P0])) {
		const struct sieve_list *l = &s->lists[nd->sl[SL_P0]];

		for (uint32_t i = 0; i < l->count; i++)
			if (!is_header_name(sieve_str_ptr(s, l->first + i))) {
				sieve_parse_error(p, nd->line, "%s: invalid header name \"%s\"", name,
						  sieve_str_ptr(s, l->first + i));
				return -1;
			}
	}
	if (nd->id == SID_ENVELOPE && !list_has_var(p, nd->sl[SL_P0])) {
		const struct sieve_list *l = &s->lists[nd->sl[SL_P0]];

		for (uint32_t i = 0; i < l->count; i++) {
			const char *e = sieve_str_ptr(s, l->first + i);

			if (strcasecmp(e, "from") != 0 && strcasecmp(e, "to") != 0 &&
			    strcasecmp(e, "auth") != 0) {
				sieve_parse_error(p, nd->line, "envelope: unknown part \"%s\"", e);
				return -1;
			}
		}
	}
	if (nd->id == SID_SET || nd->id == SID_GLOBAL) {
		const struct sieve_list *l = &s->lists[nd->sl[SL_P0]];

		for (uint32_t i = 0; i < l->count; i++)
			if (!is_identifier(sieve_str_ptr(s, l->first + i), false)) {
				sieve_parse_error(p, nd->line, "%s: invalid variable name \"%s\"", name,
						  sieve_str_ptr(s, l->first + i));
				return -1;
			}
	}
	if ((nd->id == SID_DATE || nd->id == SID_CURRENTDATE)) {
		uint32_t dp = nd->sl[nd->id == SID_DATE ? SL_P1 : SL_P0];
		const char *part = one_string(p, dp);
		int zone;

		if (!s->strs[s->lists[dp].first].has_var && !sieve_date_part_is_known(part)) {
			sieve_parse_error(p, nd->line, "%s: unknown date part \"%s\"", name, part);
			return -1;
		}
		if (nd->sl[SL_TAG] != 0 && !list_has_var(p, nd->sl[SL_TAG])) {
			const char *z = one_string(p, nd->sl[SL_TAG]);

			if (sieve_zone_parse(z, strlen(z), &zone) < 0) {
				sieve_parse_error(p, nd->line, "%s: invalid zone \"%s\"", name, z);
				return -1;
			}
		}
	}
	if (nd->id == SID_INCLUDE) {
		const char *n = one_string(p, nd->sl[SL_P0]);

		if (*n == '\0' || strchr(n, '/') != NULL) {
			sieve_parse_error(p, nd->line, "include: invalid script name \"%s\"", n);
			return -1;
		}
	}
	if (nd->id == SID_REDIRECT && !list_has_var(p, nd->sl[SL_P0])) {
		const char *a = one_string(p, nd->sl[SL_P0]);
		char norm[300];

		if (!sieve_redirect_address(a, norm, sizeof(norm))) {
			sieve_parse_error(p, nd->line, "redirect: invalid address \"%s\"", a);
			return -1;
		}
	}
	if (nd->id == SID_FILEINTO && !list_has_var(p, nd->sl[SL_P0]) &&
	    !sieve_folder_name_is_valid(one_string(p, nd->sl[SL_P0]))) {
		sieve_parse_error(p, nd->line, "fileinto: invalid folder name \"%s\"",
				  one_string(p, nd->sl[SL_P0]));
		return -1;
	}
	return 0;
}

/* Compiles constant :regex keys once. */
static int compile_regex_keys(struct sieve_parser *p, struct sieve_node *nd, uint32_t keys)
{
	struct sieve_script *s = p->s;
	const struct sieve_list *l = &s->lists[keys];
	char msg[120];

	for (uint32_t i = 0; i < l->count; i++) {
		struct sieve_str *st = &s->strs[l->first + i];

		if (st->has_var)
			continue;
		s->regex = realloc(s->regex, (s->regex_count + 1) * sizeof(*s->regex));
		if (s->regex == NULL)
			abort();
		if (sieve_regex_compile(&s->regex[s->regex_count], sieve_str_ptr(s, l->first + i),
					st->len, (enum sieve_cmp)nd->cmp, msg, sizeof(msg)) < 0) {
			sieve_parse_error(p, nd->line, "%s", msg);
			return -1;
		}
		st->regex = (int32_t)s->regex_count++;
	}
	return 0;
}

static bool size_has_tag(const struct sieve_parg *args, unsigned int nargs)
{
	for (unsigned int i = 0; i < nargs; i++)
		if (args[i].type == 'T' && (args[i].tag == TAG_OVER || args[i].tag == TAG_UNDER))
			return true;
	return false;
}

static uint32_t keys_slot(int id)
{
	switch (id) {
	case SID_ADDRESS: case SID_HEADER: case SID_ENVELOPE: case SID_STRING: return SL_P1;
	case SID_DATE: return SL_P2;
	case SID_CURRENTDATE: return SL_P1;
	case SID_BODY: case SID_HASFLAG: case SID_SPAMTEST: case SID_VIRUSTEST: return SL_P0;
	default: return SL_N;
	}
}

int sieve_check_node(struct sieve_parser *p, struct sieve_node *nd, const char *name,
		     const struct sieve_parg *args, unsigned int nargs, unsigned int ntests,
		     bool has_block)
{
	const struct cmd_def *def = cmd_find(nd->id);
	const struct sieve_parg *pos[32];
	unsigned int npos = 0;
	uint32_t ks;

	nd->cmp = CMP_ASCII;
	nd->match = MATCH_IS;
	if (check_tags(p, nd, def, args, nargs, pos, &npos) < 0 ||
	    check_positional(p, nd, def, pos, npos) < 0)
		return -1;
	if ((def->tests == 0 && ntests > 0) || (def->tests == '1' && ntests != 1) ||
	    (def->tests == 'L' && ntests == 0)) {
		sieve_parse_error(p, nd->line, def->tests == 0 ? "%s takes no test" :
				  def->tests == '1' ? "%s needs one test" : "%s needs a test list",
				  name);
		return -1;
	}
	if (!def->test && (def->block == 'B') != has_block) {
		sieve_parse_error(p, nd->line, has_block ? "%s takes no block" : "%s needs a block",
				  name);
		return -1;
	}
	if (nd->id == SID_SIZE && !size_has_tag(args, nargs))
		goto size_bad;
	if (check_semantics(p, nd, name) < 0)
		return -1;
	ks = keys_slot(nd->id);
	if (nd->match == MATCH_REGEX && ks < SL_N)
		return compile_regex_keys(p, nd, nd->sl[ks]);
	return 0;
size_bad:
	sieve_parse_error(p, nd->line, "size needs :over or :under");
	return -1;
}
