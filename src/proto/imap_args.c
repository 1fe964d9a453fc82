/* LIST, STATUS, ENABLE, ID and SETQUOTA arguments. */
#include "proto/imap_args.h"

#include <string.h>
#include <strings.h>

struct name_bit {
	const char *name;
	unsigned bit;
};

static const struct name_bit status_items[] = {
	{ "MESSAGES", IMAP_STATUS_MESSAGES }, { "RECENT", IMAP_STATUS_RECENT },
	{ "UIDNEXT", IMAP_STATUS_UIDNEXT }, { "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY },
	{ "UNSEEN", IMAP_STATUS_UNSEEN }, { "DELETED", IMAP_STATUS_DELETED },
	{ "SIZE", IMAP_STATUS_SIZE }, { "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ },
	{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT },
};

static const struct name_bit select_opts[] = {
	{ "SUBSCRIBED", IMAP_LIST_SELECT_SUBSCRIBED }, { "REMOTE", IMAP_LIST_SELECT_REMOTE },
	{ "RECURSIVEMATCH", IMAP_LIST_SELECT_RECURSIVEMATCH },
	{ "SPECIAL-USE", IMAP_LIST_SELECT_SPECIAL_USE },
};

static const struct name_bit return_opts[] = {
	{ "SUBSCRIBED", IMAP_LIST_RETURN_SUBSCRIBED }, { "CHILDREN", IMAP_LIST_RETURN_CHILDREN },
	{ "SPECIAL-USE", IMAP_LIST_RETURN_SPECIAL_USE }, { "STATUS", IMAP_LIST_RETURN_STATUS },
};

static unsigned name_bit_find(const struct name_bit *t, size_t n, const struct imap_arg *arg)
{
	const char *s = imap_arg_atom(arg);

	for (size_t i = 0; s != NULL && i < n; i++) {
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].bit;
	}
	return 0;
}

static char *upper_dup(struct imap_arena *a, const char *s, size_t len)
{
	char *d = imap_arena_strndup(a, s, len);

	for (char *p = d; p != NULL && *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	}
	return d;
}

int imap_status_items_parse(const struct imap_arg *list, unsigned *items_r,
			    const char **error_r)
{
	*items_r = 0;
	if (list == NULL || list->type != IMAP_ARG_LIST || list->count == 0) {
		*error_r = "Status items must be a non-empty list";
		return -1;
	}
	for (size_t i = 0; i < list->count; i++) {
		unsigned bit = name_bit_find(status_items,
					     sizeof(status_items) / sizeof(status_items[0]),
					     &list->list[i]);

		if (bit == 0) {
			*error_r = "Unknown status item";
			return -1;
		}
		*items_r |= bit;
	}
	return 0;
}

int imap_status_parse(const struct imap_arg *args, size_t count, const char **mailbox_r,
		      unsigned *items_r, const char **error_r)
{
	*items_r = 0;
	if (count != 2 || (*mailbox_r = imap_arg_astring(&args[0])) == NULL) {
		*error_r = "STATUS needs a mailbox and a list of items";
		return -1;
	}
	return imap_status_items_parse(&args[1], items_r, error_r);
}

static int list_select_parse(const struct imap_arg *list, struct imap_list *l,
			     const char **error_r)
{
	for (size_t i = 0; i < list->count; i++) {
		unsigned bit = name_bit_find(select_opts,
					     sizeof(select_opts) / sizeof(select_opts[0]),
					     &list->list[i]);

		if (bit == 0) {
			*error_r = "Unknown LIST selection option";
			return -1;
		}
		l->select |= bit;
	}
	/* RFC 5258 3: RECURSIVEMATCH alone (or with REMOTE only) is an error */
	if ((l->select & (IMAP_LIST_SELECT_RECURSIVEMATCH | IMAP_LIST_SELECT_SUBSCRIBED |
			  IMAP_LIST_SELECT_SPECIAL_USE)) == IMAP_LIST_SELECT_RECURSIVEMATCH) {
		*error_r = "RECURSIVEMATCH needs another selection option";
		return -1;
	}
	return 0;
}

static int list_return_parse(const struct imap_arg *list, struct imap_list *l,
			     const char **error_r)
{
	if (list->type != IMAP_ARG_LIST) {
		*error_r = "RETURN needs a list";
		return -1;
	}
	for (size_t i = 0; i < list->count; i++) {
		unsigned bit = name_bit_find(return_opts,
					     sizeof(return_opts) / sizeof(return_opts[0]),
					     &list->list[i]);

		if (bit == 0) {
			*error_r = "Unknown LIST return option";
			return -1;
		}
		l->ret |= bit;
		if (bit == IMAP_LIST_RETURN_STATUS) {
			if (i + 1 == list->count ||
			    imap_status_items_parse(&list->list[i + 1], &l->status_items,
						    error_r) < 0) {
				*error_r = "STATUS needs a list of items";
				return -1;
			}
			i++;
		}
	}
	return 0;
}

static int list_patterns_parse(const struct imap_arg *arg, struct imap_arena *a,
			       struct imap_list *l, const char **error_r)
{
	const struct imap_arg *items = arg->type == IMAP_ARG_LIST ? arg->list : arg;
	size_t n = arg->type == IMAP_ARG_LIST ? arg->count : 1;
	const char **pats = imap_arena_alloc(a, (n + 1) * sizeof(*pats));

	if (pats == NULL || n == 0) {
		*error_r = pats == NULL ? "Out of memory" : "Empty pattern list";
		return -1;
	}
	if (arg->type == IMAP_ARG_LIST)
		l->extended = true;
	for (size_t i = 0; i < n; i++) {
		pats[i] = imap_arg_astring(&items[i]);
		if (pats[i] == NULL) {
			*error_r = "Invalid mailbox pattern";
			return -1;
		}
	}
	l->patterns = pats;
	l->npatterns = n;
	return 0;
}

int imap_list_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		    struct imap_list *list_r, const char **error_r)
{
	size_t i = 0;

	memset(list_r, 0, sizeof(*list_r));
	if (count > 0 && args[0].type == IMAP_ARG_LIST) {
		list_r->extended = true;
		if (list_select_parse(&args[0], list_r, error_r) < 0)
			return -1;
		i = 1;
	}
	if (count < i + 2 || (list_r->reference = imap_arg_astring(&args[i])) == NULL) {
		*error_r = "LIST needs a reference and a pattern";
		return -1;
	}
	if (list_patterns_parse(&args[i + 1], a, list_r, error_r) < 0)
		return -1;
	i += 2;
	if (i < count) {
		if (!imap_arg_is_atom(&args[i], "RETURN") || i + 2 != count) {
			*error_r = "Invalid LIST arguments";
			return -1;
		}
		list_r->extended = true;
		if (list_return_parse(&args[i + 1], list_r, error_r) < 0)
			return -1;
	}
	return 0;
}

int imap_enable_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		      const char *const **caps_r, size_t *ncaps_r, const char **error_r)
{
	const char **caps = imap_arena_alloc(a, (count + 1) * sizeof(*caps));

	*caps_r = NULL;
	*ncaps_r = 0;
	if (caps == NULL || count == 0) {
		*error_r = caps == NULL ? "Out of memory" : "ENABLE needs capabilities";
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		const char *s = imap_arg_atom(&args[i]);

		if (s == NULL || (caps[i] = upper_dup(a, s, args[i].len)) == NULL) {
			*error_r = "Invalid capability name";
			return -1;
		}
	}
	*caps_r = caps;
	*ncaps_r = count;
	return 0;
}

int imap_id_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		  const struct imap_id_field **fields_r, size_t *nfields_r, const char **error_r)
{
	const struct imap_arg *l = count == 1 ? &args[0] : NULL;
	struct imap_id_field *f;

	*fields_r = NULL;
	*nfields_r = 0;
	if (l != NULL && l->type == IMAP_ARG_NIL)
		return 0;
	if (l == NULL || l->type != IMAP_ARG_LIST || l->count % 2 != 0 || l->count > 60) {
		*error_r = "ID needs NIL or a list of at most 30 name-value pairs";
		return -1;
	}
	f = imap_arena_alloc(a, (l->count / 2 + 1) * sizeof(*f));
	if (f == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	for (size_t i = 0; i < l->count; i += 2) {
		const struct imap_arg *name = &l->list[i], *value = &l->list[i + 1];

		f[i / 2].name = imap_arg_string(name);
		f[i / 2].value = imap_arg_is_nil(value) ? NULL : imap_arg_string(value);
		if (f[i / 2].name == NULL || name->len > 30 ||
		    (f[i / 2].value == NULL && !imap_arg_is_nil(value)) ||
		    (f[i / 2].value != NULL && value->len > 1024)) {
			*error_r = "Invalid ID field";
			return -1;
		}
	}
	*fields_r = f;
	*nfields_r = l->count / 2;
	return 0;
}

int imap_setquota_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
			const char **root_r, const struct imap_quota_limit **limits_r,
			size_t *nlimits_r, const char **error_r)
{
	const struct imap_arg *l;
	struct imap_quota_limit *q;

	*limits_r = NULL;
	*nlimits_r = 0;
	if (count != 2 || (*root_r = imap_arg_astring(&args[0])) == NULL ||
	    args[1].type != IMAP_ARG_LIST || args[1].count % 2 != 0) {
		*error_r = "SETQUOTA needs a root and a list of resource limits";
		return -1;
	}
	l = &args[1];
	q = imap_arena_alloc(a, (l->count / 2 + 1) * sizeof(*q));
	if (q == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	for (size_t i = 0; i < l->count; i += 2) {
		const char *res = imap_arg_atom(&l->list[i]);
		const char *lim = imap_arg_atom(&l->list[i + 1]);

		if (res == NULL || lim == NULL ||
		    imap_parse_uint64(lim, l->list[i + 1].len, INT64_MAX, &q[i / 2].limit) < 0 ||
		    (q[i / 2].resource = upper_dup(a, res, l->list[i].len)) == NULL) {
			*error_r = "Invalid resource limit";
			return -1;
		}
	}
	*limits_r = q;
	*nlimits_r = l->count / 2;
	return 0;
}

static int select_qresync_parse(const struct imap_arg *q, struct imap_arena *a,
				struct imap_select_params *sp, const char **error_r)
{
	const struct imap_arg *m;
	size_t i = 2;

	if (q->type != IMAP_ARG_LIST || q->count < 2 || q->count > 4 ||
	    imap_arg_nz_number(&q->list[0], &sp->uidvalidity) < 0 ||
	    imap_arg_modseq(&q->list[1], false, &sp->modseq) < 0)
		return -1;
	if (i < q->count && q->list[i].type != IMAP_ARG_LIST) {
		if (imap_seqset_parse_arg(&q->list[i], false, a, &sp->known_uids, error_r) < 0)
			return -1;
		sp->has_known_uids = true;
		i++;
	}
	if (i < q->count) {
		m = &q->list[i++];
		if (m->type != IMAP_ARG_LIST || m->count != 2 ||
		    imap_seqset_parse_arg(&m->list[0], false, a, &sp->match_seqs, error_r) < 0 ||
		    imap_seqset_parse_arg(&m->list[1], false, a, &sp->match_uids, error_r) < 0)
			return -1;
		sp->has_seq_match = true;
	}
	return i == q->count ? 0 : -1;
}

int imap_select_parse(const struct imap_arg *args, size_t count, struct imap_arena *a,
		      const char **mailbox_r, struct imap_select_params *params_r,
		      const char **error_r)
{
	const struct imap_arg *l;

	memset(params_r, 0, sizeof(*params_r));
	if (count < 1 || count > 2 || (*mailbox_r = imap_arg_astring(&args[0])) == NULL) {
		*error_r = "SELECT needs a mailbox";
		return -1;
	}
	if (count == 1)
		return 0;
	l = &args[1];
	if (l->type != IMAP_ARG_LIST) {
		*error_r = "Invalid SELECT parameters";
		return -1;
	}
	for (size_t i = 0; i < l->count; i++) {
		if (imap_arg_is_atom(&l->list[i], "CONDSTORE") && !params_r->condstore) {
			params_r->condstore = true;
		} else if (imap_arg_is_atom(&l->list[i], "QRESYNC") && !params_r->qresync &&
			   i + 1 < l->count &&
			   select_qresync_parse(&l->list[i + 1], a, params_r, error_r) == 0) {
			params_r->qresync = true;
			i++;
		} else {
			*error_r = "Invalid SELECT parameters";
			return -1;
		}
	}
	return 0;
}
