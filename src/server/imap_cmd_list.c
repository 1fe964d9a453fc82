/* LIST and LSUB (RFC 3501 6.3.8/6.3.9, LIST-EXTENDED RFC 5258, SPECIAL-USE
 * RFC 6154, LIST-STATUS RFC 5819), run on a worker.
 *
 * The names a LIST can show are gathered first: every mailbox, every
 * subscribed name (a subscription outlives its mailbox), and every
 * ancestor of those (Maildir++ parents exist only through their
 * children). Then each name that matches a pattern and meets the
 * selection is answered with its attributes. */
#include "server/imap_session.h"
#include "server/imap_msgset.h"
#include "lib/str.h"
#include "proto/imap_mailbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bound on the names one LIST considers (mailboxes, subscriptions and
 * their parents). */
#define LIST_NAMES_MAX 100000

struct list_name {
	char *name;
	struct index_mailbox *mbox;	/* NULL: no such mailbox */
	bool subscribed;
	bool has_children;	/* an existing mailbox below it */
	bool matched;
};

struct list_set {
	struct list_name *v;
	size_t n, cap;
	bool full;
};

struct list_opts {
	bool lsub, sel_subscribed, sel_special, recursive;
	bool ret_subscribed, ret_special, ret_children;
	bool extended;	/* any LIST-EXTENDED syntax used */
	const struct imap_arg *ret_status;
};

/* IMAP LIST wildcards: '*' matches anything, '%' anything but '/'.
 * Dynamic programming over (pattern, name) positions, so hostile patterns
 * cost O(len(pattern) * len(name)), never exponential time. */
static bool list_match(const char *pattern, const char *name)
{
	size_t n = strlen(name), m = strlen(pattern);
	bool *prev, *cur, ok;

	if (n > 4096 || m > 4096)
		return false;
	prev = calloc(n + 1, sizeof(bool));
	cur = calloc(n + 1, sizeof(bool));
	if (prev == NULL || cur == NULL) {
		free(prev);
		free(cur);
		return false;
	}
	prev[0] = true;	/* empty pattern matches empty name */
	for (size_t i = 1; i <= m; i++) {
		char p = pattern[i - 1];
		cur[0] = prev[0] && (p == '*' || p == '%');
		for (size_t j = 1; j <= n; j++) {
			char c = name[j - 1];
			if (p == '*')
				cur[j] = prev[j] || cur[j - 1];
			else if (p == '%')
				cur[j] = prev[j] || (cur[j - 1] && c != '/');
			else
				cur[j] = prev[j - 1] && p == c;
		}
		memcpy(prev, cur, (n + 1) * sizeof(bool));
	}
	ok = prev[n];
	free(prev);
	free(cur);
	return ok;
}

/* INBOX is case-insensitive, also as the first level of a pattern. */
static void list_normalise(char *pattern)
{
	if (strncasecmp(pattern, "INBOX", 5) == 0 && (pattern[5] == '\0' || pattern[5] == '/'))
		memcpy(pattern, "INBOX", 5);
}

/* Appends an entry (duplicates are merged after sorting). */
static struct list_name *list_push(struct list_set *set, const char *name, size_t len)
{
	struct list_name *e;

	if (set->n >= LIST_NAMES_MAX) {
		set->full = true;
		return NULL;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap > 0 ? set->cap * 2 : 64;
		struct list_name *grown = realloc(set->v, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		set->v = grown;
		set->cap = cap;
	}
	e = &set->v[set->n];
	memset(e, 0, sizeof(*e));
	if ((e->name = strndup(name, len)) == NULL)
		return NULL;
	set->n++;
	return e;
}

/* Adds the parents of name ("a" and "a/b" for "a/b/c"); with child_exists,
 * they have an existing mailbox below them. */
static void list_push_parents(struct list_set *set, const char *name, bool child_exists)
{
	for (const char *p = strchr(name, '/'); p != NULL; p = strchr(p + 1, '/')) {
		struct list_name *e;

		if (p != name && (e = list_push(set, name, (size_t)(p - name))) != NULL)
			e->has_children = child_exists;
	}
}

static void list_collect_mailbox(const struct index_mailbox *m, void *ctx)
{
	struct list_set *set = ctx;
	struct index_mailbox *copy = malloc(sizeof(*copy));
	struct list_name *e;

	if (copy == NULL || (e = list_push(set, m->name, strlen(m->name))) == NULL) {
		free(copy);
		return;
	}
	*copy = *m;
	e->mbox = copy;
	e->subscribed = m->subscribed;
	list_push_parents(set, m->name, true);
}

static void list_collect_subscription(const char *name, void *ctx)
{
	struct list_set *set = ctx;
	struct list_name *e = list_push(set, name, strlen(name));

	if (e != NULL)
		e->subscribed = true;
	list_push_parents(set, name, false);
}

static void list_set_free(struct list_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].name);
		free(set->v[i].mbox);
	}
	free(set->v);
}

/* INBOX first, then byte order: every name under "a/" stays together. */
static int list_name_cmp(const void *a, const void *b)
{
	const struct list_name *x = a, *y = b;
	bool xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX") == 0;

	if (xi != yi)
		return xi ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Sorts the entries and merges those of one name. */
static void list_set_merge(struct list_set *set)
{
	size_t out = 0;

	if (set->n > 1)
		qsort(set->v, set->n, sizeof(*set->v), list_name_cmp);
	for (size_t i = 0; i < set->n; i++) {
		struct list_name *e = &set->v[i];

		if (out > 0 && strcmp(set->v[out - 1].name, e->name) == 0) {
			struct list_name *k = &set->v[out - 1];
			k->subscribed |= e->subscribed;
			k->has_children |= e->has_children;
			if (k->mbox == NULL) {
				k->mbox = e->mbox;
				e->mbox = NULL;
			}
			free(e->name);
			free(e->mbox);
			continue;
		}
		set->v[out++] = *e;
	}
	set->n = out;
}

/* Whether e meets the selection criteria (RFC 5258 3.1). */
static bool list_selected(const struct list_opts *o, const struct list_name *e)
{
	if (o->sel_subscribed && !e->subscribed)
		return false;
	if (!o->sel_subscribed && e->mbox == NULL && !e->has_children)
		return false;	/* only a subscription, which LIST does not show */
	if (o->sel_special && (e->mbox == NULL || e->mbox->special_use[0] == '\0'))
		return false;
	return true;
}

/* Whether a descendant of e meets the selection but matches no pattern:
 * then e gets CHILDINFO (RFC 5258 3.5), or in LSUB with '%' is shown as
 * \Noselect (RFC 3501 6.3.9). */
static bool list_childinfo(const struct list_opts *o, const struct list_set *set, size_t idx)
{
	const struct list_name *e = &set->v[idx];
	size_t len = strlen(e->name);

	/* the names below e follow it (byte order), maybe after siblings
	 * such as "e-x" that sort between "e" and "e/" */
	for (size_t i = idx + 1; i < set->n; i++) {
		const struct list_name *d = &set->v[i];
		int c = strncmp(d->name, e->name, len);

		if (c != 0 && strcmp(e->name, "INBOX") != 0)
			break;
		if (c != 0 || (unsigned char)d->name[len] > '/')
			continue;
		if (d->name[len] == '/' && !d->matched && list_selected(o, d))
			return true;
	}
	return false;
}

static void list_reply(struct imap_session *s, const struct imap_command *cmd, const struct list_opts *o,
		       const struct list_name *e, bool selected, bool childinfo)
{
	bool sp = false;

#define ATTR(a) (strbuf_printf(&s->out, "%s%s", sp ? " " : "", (a)), sp = true)
	strbuf_printf(&s->out, "* %s (", cmd->name);
	if (o->lsub && (!selected || e->mbox == NULL))
		ATTR("\\Noselect");
	else if (e->mbox == NULL && e->has_children)
		ATTR("\\Noselect");
	else if (e->mbox == NULL)
		ATTR("\\NonExistent");
	if (!o->lsub || e->mbox != NULL)
		ATTR(e->has_children ? "\\HasChildren" : "\\HasNoChildren");
	if ((o->ret_special || !o->lsub) && e->mbox != NULL && e->mbox->special_use[0] != '\0')
		ATTR(e->mbox->special_use);
	if (o->ret_subscribed && e->subscribed)
		ATTR("\\Subscribed");
#undef ATTR
	strbuf_append_str(&s->out, ") \"/\" ");
	imap_out_mailbox(s, e->name);
	if (childinfo && !o->lsub)
		strbuf_append_str(&s->out, " (CHILDINFO (\"SUBSCRIBED\"))");
	strbuf_append(&s->out, "\r\n", 2);
	if (o->ret_status != NULL && e->mbox != NULL && selected) {
		bool ok;
		imap_status_items(s, e->mbox, o->ret_status, &ok);
	}
}

/* A LIST pattern in UTF-8: "" stays "", anything else is decoded like a
 * mailbox name (the wildcards are plain ASCII). A pattern that is no valid
 * name matches nothing. */
static const char *list_pattern(struct imap_session *s, const char *raw)
{
	struct strbuf buf = STRBUF_INIT;
	const char *out = NULL;

	if (raw[0] == '\0')
		return raw;
	if (s->enabled_utf8 ? imap_utf8_is_valid(raw, strlen(raw)) : imap_mutf7_to_utf8(raw, strlen(raw), &buf) == 0)
		out = s->enabled_utf8 ? raw : imap_arena_strndup(imap_parser_arena(s->parser), buf.data != NULL ? buf.data : "", buf.len);
	strbuf_free(&buf);
	return out;
}

/* Selection options (RFC 5258 3.1). Returns an error text for BAD. */
static const char *list_parse_selection(const struct imap_arg *l, struct list_opts *o)
{
	bool base = false;

	o->extended = true;
	for (size_t i = 0; i < l->count; i++) {
		const struct imap_arg *opt = &l->list[i];
		if (imap_arg_is_atom(opt, "SUBSCRIBED"))
			o->sel_subscribed = o->ret_subscribed = base = true;
		else if (imap_arg_is_atom(opt, "SPECIAL-USE"))
			o->sel_special = o->ret_special = base = true;
		else if (imap_arg_is_atom(opt, "RECURSIVEMATCH"))
			o->recursive = true;
		else if (!imap_arg_is_atom(opt, "REMOTE"))
			return "Unknown LIST selection option";
	}
	/* RECURSIVEMATCH only qualifies another option (RFC 5258 3.1) */
	if (o->recursive && !base)
		return "RECURSIVEMATCH needs another selection option";
	return NULL;
}

/* RETURN options (RFC 5258 3.2, RFC 6154, RFC 5819). */
static const char *list_parse_return(const struct imap_arg *r, struct list_opts *o)
{
	if (r->type != IMAP_ARG_LIST)
		return "RETURN needs a list of options";
	o->extended = true;
	for (size_t i = 0; i < r->count; i++) {
		if (imap_arg_is_atom(&r->list[i], "SPECIAL-USE"))
			o->ret_special = true;
		else if (imap_arg_is_atom(&r->list[i], "SUBSCRIBED"))
			o->ret_subscribed = true;
		else if (imap_arg_is_atom(&r->list[i], "CHILDREN"))
			o->ret_children = true;
		else if (imap_arg_is_atom(&r->list[i], "STATUS") && i + 1 < r->count &&
			 r->list[i + 1].type == IMAP_ARG_LIST)
			o->ret_status = &r->list[++i];
		else
			return "Unknown LIST return option";
	}
	return NULL;
}

/* The whole command's arguments; patterns_r gets up to 16 UTF-8 patterns
 * already prefixed with the reference. Returns an error text for BAD. */
static const char *list_parse(struct imap_session *s, const struct imap_command *cmd, struct list_opts *o,
			      char (*patterns)[INDEX_NAME_MAX * 2], size_t *npatterns_r, bool *empty_r)
{
	size_t a = 0, n = 0, given = 0;
	const char *ref, *error;
	const struct imap_arg *pat;

	if (!o->lsub && a < cmd->count && cmd->args[a].type == IMAP_ARG_LIST) {
		if ((error = list_parse_selection(&cmd->args[a], o)) != NULL)
			return error;
		a++;
	}
	ref = a < cmd->count ? imap_arg_astring(&cmd->args[a]) : NULL;
	a++;
	if (ref == NULL || a >= cmd->count)
		return "Syntax: LIST reference mailbox";
	pat = &cmd->args[a++];
	if (pat->type == IMAP_ARG_LIST && o->lsub)
		return "Syntax: LSUB reference mailbox";
	if (pat->type == IMAP_ARG_LIST)
		o->extended = true;
	for (size_t i = 0; i < (pat->type == IMAP_ARG_LIST ? pat->count : 1); i++) {
		const char *p = imap_arg_astring(pat->type == IMAP_ARG_LIST ? &pat->list[i] : pat);
		if (p == NULL)
			return "Bad mailbox pattern";
		given++;
		if ((p = list_pattern(s, p)) != NULL && n < 16) {
			snprintf(patterns[n], sizeof(patterns[n]), "%s%s", ref, p);
			list_normalise(patterns[n]);
			n++;
		}
	}
	if (given == 0)
		return "Bad mailbox pattern";
	*empty_r = given == 1 && n == 1 && pat->type != IMAP_ARG_LIST &&
		   imap_arg_astring(pat)[0] == '\0';
	if (a < cmd->count) {
		if (o->lsub || !imap_arg_is_atom(&cmd->args[a], "RETURN") || a + 1 >= cmd->count)
			return "Unexpected LIST arguments";
		if ((error = list_parse_return(&cmd->args[a + 1], o)) != NULL)
			return error;
		if (a + 2 < cmd->count)
			return "Unexpected LIST arguments";
	}
	*npatterns_r = n;
	return NULL;
}

static void imap_list(struct imap_session *s, const struct imap_command *cmd, bool lsub)
{
	struct list_opts o = { .lsub = lsub, .sel_subscribed = lsub };
	char (*patterns)[INDEX_NAME_MAX * 2] = calloc(16, sizeof(*patterns));
	struct list_set set = { NULL, 0, 0, false };
	size_t npatterns = 0;
	bool empty = false, any_percent = false;
	const char *error;

	if (patterns == NULL) {
		imap_tagged(s, cmd, "NO", "[SERVERBUG] Out of memory");
		return;
	}
	if ((error = list_parse(s, cmd, &o, patterns, &npatterns, &empty)) != NULL) {
		free(patterns);
		imap_tagged(s, cmd, "BAD", "%s", error);
		return;
	}
	if (empty) {
		/* the hierarchy delimiter and root (RFC 3501 6.3.8) */
		free(patterns);
		imap_out(s, "* %s (\\Noselect) \"/\" \"\"", cmd->name);
		imap_tagged(s, cmd, "OK", "%s completed", cmd->name);
		return;
	}
	for (size_t p = 0; p < npatterns; p++)
		any_percent |= strchr(patterns[p], '%') != NULL;
	mail_index_mailbox_list(s->idx, list_collect_mailbox, &set);
	if (o.sel_subscribed || o.ret_subscribed)
		mail_index_subscriptions(s->idx, list_collect_subscription, &set);
	list_set_merge(&set);
	for (size_t i = 0; i < set.n; i++) {
		for (size_t p = 0; p < npatterns && !set.v[i].matched; p++)
			set.v[i].matched = list_match(patterns[p], set.v[i].name);
	}
	for (size_t i = 0; i < set.n; i++) {
		const struct list_name *e = &set.v[i];
		bool selected, childinfo;

		if (!e->matched)
			continue;
		selected = list_selected(&o, e);
		childinfo = ((o.recursive && !lsub) || (lsub && any_percent)) && list_childinfo(&o, &set, i);
		if (selected || childinfo)
			list_reply(s, cmd, &o, e, selected, childinfo);
	}
	list_set_free(&set);
	free(patterns);
	imap_tagged(s, cmd, "OK", "%s completed", cmd->name);
}

void imap_cmd_list(struct imap_session *s, const struct imap_command *cmd)
{
	imap_list(s, cmd, false);
}

void imap_cmd_lsub(struct imap_session *s, const struct imap_command *cmd)
{
	imap_list(s, cmd, true);
}
