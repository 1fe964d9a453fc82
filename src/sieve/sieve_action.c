/* The result of a run: actions in the order the script took them, with
 * duplicates merged (the same folder or address once), the conflicts RFC
 * 5228 and 5429 forbid reported as run-time errors, the limits on actions
 * and redirects, and the implicit keep added at the end unless cancelled
 * (RFC 5228 2.10.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/address.h"
#include "mail/charset.h"
#include "mail/header.h"
#include "sieve/sieve_run_int.h"

const char *sieve_action_name(enum sieve_action_kind kind)
{
	switch (kind) {
	case SIEVE_ACT_KEEP: return "keep";
	case SIEVE_ACT_FILEINTO: return "fileinto";
	case SIEVE_ACT_REDIRECT: return "redirect";
	case SIEVE_ACT_DISCARD: return "discard";
	case SIEVE_ACT_REJECT: return "reject";
	case SIEVE_ACT_EREJECT: return "ereject";
	case SIEVE_ACT_VACATION: return "vacation";
	}
	return "?";
}

static void vacation_free(struct sieve_vacation *v)
{
	free(v->subject);
	free(v->from);
	free(v->handle);
	for (unsigned int i = 0; i < v->address_count; i++)
		free(v->addresses[i]);
	free(v->addresses);
}

static void actions_free(struct sieve_result *res)
{
	for (unsigned int i = 0; i < res->count; i++) {
		free(res->actions[i].arg);
		free(res->actions[i].flags);
		vacation_free(&res->actions[i].vacation);
	}
	free(res->actions);
	res->actions = NULL;
	res->count = 0;
}

void sieve_result_free(struct sieve_result *res)
{
	if (res == NULL)
		return;
	actions_free(res);
	for (unsigned int i = 0; i < res->dup_count; i++)
		free(res->dup_ids[i]);
	free(res->dup_ids);
	free(res->dup_seconds);
	memset(res, 0, sizeof(*res));
}

bool sieve_folder_name_is_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 1024 || !charset_utf8_is_valid(name, len))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

bool sieve_redirect_address(const char *in, char *out, size_t outsize)
{
	char wrapped[MAIL_PATH_MAX + 8];
	struct mail_path path;
	const char *error;
	size_t len, used = 0;

	while (*in == ' ' || *in == '\t')
		in++;
	len = strlen(in);
	while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t'))
		len--;
	if (len >= 2 && in[0] == '<' && in[len - 1] == '>') {
		in++;
		len -= 2;
	}
	if (len == 0 || len > MAIL_PATH_MAX || memchr(in, '<', len) != NULL ||
	    memchr(in, '>', len) != NULL)
		return false;
	snprintf(wrapped, sizeof(wrapped), "<%.*s>", (int)len, in);
	if (mail_path_parse(wrapped, len + 2, &path, &used, &error) < 0 || used != len + 2 ||
	    path.null_path || path.domain[0] == '\0' || mail_path_relay_trick(&path) != NULL)
		return false;
	mail_path_format(&path, out, outsize);
	return true;
}

static char *xstrdup(const char *s)
{
	char *d = s != NULL ? strdup(s) : NULL;

	if (s != NULL && d == NULL)
		abort();
	return d;
}

/* Is the mailbox a store into the default mailbox (keep)? */
static const char *store_box(const struct sieve_run *r, const struct sieve_action *a)
{
	if (a->kind == SIEVE_ACT_KEEP)
		return r->env->default_mailbox != NULL ? r->env->default_mailbox : "INBOX";
	return a->arg;
}

static bool delivers(enum sieve_action_kind k)
{
	return k == SIEVE_ACT_KEEP || k == SIEVE_ACT_FILEINTO || k == SIEVE_ACT_REDIRECT;
}

static bool is_reject(enum sieve_action_kind k)
{
	return k == SIEVE_ACT_REJECT || k == SIEVE_ACT_EREJECT;
}

/* Checks a new action against those taken; returns -1 (error set), 0 to
 * add it, 1 when it merges into the one at *merge_r. */
static int check_conflicts(struct sieve_run *r, const struct sieve_node *nd,
			   const struct sieve_action *a, unsigned int *merge_r)
{
	struct sieve_result *res = r->res;

	for (unsigned int i = 0; i < res->count; i++) {
		const struct sieve_action *o = &res->actions[i];

		if ((is_reject(a->kind) && (delivers(o->kind) || is_reject(o->kind))) ||
		    (is_reject(o->kind) && delivers(a->kind))) {
			sieve_run_fail(r, nd->line, "reject conflicts with the %s on line %u",
				       sieve_action_name(o->kind), o->line);
			return -1;
		}
		if (a->kind == SIEVE_ACT_VACATION && o->kind == SIEVE_ACT_VACATION) {
			sieve_run_fail(r, nd->line, "more than one vacation action");
			return -1;
		}
		if ((a->kind == SIEVE_ACT_KEEP || a->kind == SIEVE_ACT_FILEINTO) &&
		    (o->kind == SIEVE_ACT_KEEP || o->kind == SIEVE_ACT_FILEINTO) &&
		    strcmp(store_box(r, a), store_box(r, o)) == 0) {
			*merge_r = i;
			return 1;
		}
		if (a->kind == SIEVE_ACT_REDIRECT && o->kind == SIEVE_ACT_REDIRECT &&
		    strcasecmp(a->arg, o->arg) == 0) {
			*merge_r = i;
			return 1;
		}
		if (a->kind == SIEVE_ACT_DISCARD && o->kind == SIEVE_ACT_DISCARD) {
			*merge_r = i;
			return 1;
		}
	}
	return 0;
}

static void push(struct sieve_run *r, struct sieve_action *a)
{
	struct sieve_result *res = r->res;

	if (res->count == r->action_cap) {
		r->action_cap = r->action_cap ? r->action_cap * 2 : 8;
		res->actions = realloc(res->actions, r->action_cap * sizeof(*res->actions));
		if (res->actions == NULL)
			abort();
	}
	res->actions[res->count++] = *a;
}

/* The flags a keep or fileinto stores with: its :flags, else the
 * internal variable when imap4flags is on; NULL without imap4flags. */
static char *store_flags(struct sieve_run *r, const struct sieve_node *nd, bool *has_r)
{
	struct strbuf f = STRBUF_INIT;
	char *flags;

	*has_r = false;
	if (nd->flags & NF_HAS_FLAGS) {
		const struct sieve_list *l = &r->s->lists[nd->sl[SL_TAG]];
		struct strbuf t = STRBUF_INIT;

		for (uint32_t i = 0; i < l->count; i++) {
			strbuf_truncate(&t, 0);
			sieve_run_expand(r, l->first + i, &t);
			sieve_flags_add(&f, strbuf_cstr(&t), t.len);
		}
		strbuf_free(&t);
	} else if (r->s->ext & SIEVE_EXT_IMAP4FLAGS) {
		sieve_flags_add(&f, strbuf_cstr(&r->flags), r->flags.len);
	} else {
		return NULL;
	}
	*has_r = true;
	flags = xstrdup(strbuf_cstr(&f));
	strbuf_free(&f);
	return flags;
}

void sieve_action_add(struct sieve_run *r, const struct sieve_node *nd, enum sieve_action_kind kind,
		      const char *arg, struct sieve_action *extra)
{
	struct sieve_action a;
	char addr[MAIL_PATH_MAX + 8];
	unsigned int merge = 0;
	int c;

	memset(&a, 0, sizeof(a));
	if (extra != NULL)
		a = *extra;
	a.kind = kind;
	a.line = nd->line;
	a.script = r->scope;
	a.copy = (nd->flags & NF_COPY) != 0;
	a.create = (nd->flags & NF_CREATE) != 0;
	if (kind == SIEVE_ACT_FILEINTO && !sieve_folder_name_is_valid(arg)) {
		sieve_run_fail(r, nd->line, "fileinto: invalid folder name \"%s\"", arg);
		return;
	}
	if (kind == SIEVE_ACT_REDIRECT) {
		if (!sieve_redirect_address(arg, addr, sizeof(addr))) {
			sieve_run_fail(r, nd->line, "redirect: invalid address \"%s\"", arg);
			return;
		}
		arg = addr;
	}
	a.arg = (char *)arg;
	if ((c = check_conflicts(r, nd, &a, &merge)) < 0)
		return;
	if (kind != SIEVE_ACT_VACATION && !a.copy)
		r->implicit_keep = false;
	if (c > 0) {
		/* the same store again: the later flags are the ones stored,
		 * as Pigeonhole does */
		struct sieve_action *o = &r->res->actions[merge];
		bool has;
		char *flags;

		if (kind == SIEVE_ACT_KEEP || kind == SIEVE_ACT_FILEINTO) {
			flags = store_flags(r, nd, &has);
			if (has) {
				free(o->flags);
				o->flags = flags;
				o->has_flags = true;
			}
		}
		return;
	}
	if (kind == SIEVE_ACT_REDIRECT && ++r->redirects > r->lim->max_redirects) {
		sieve_run_fail(r, nd->line, "too many redirects (limit %u)", r->lim->max_redirects);
		return;
	}
	if (r->res->count >= r->lim->max_actions) {
		sieve_run_fail(r, nd->line, "too many actions (limit %u)", r->lim->max_actions);
		return;
	}
	a.arg = xstrdup(arg);
	if (kind == SIEVE_ACT_KEEP || kind == SIEVE_ACT_FILEINTO)
		a.flags = store_flags(r, nd, &a.has_flags);
	push(r, &a);
}

static char *opt_string(struct sieve_run *r, const struct sieve_node *nd, int slot)
{
	struct strbuf b = STRBUF_INIT;
	char *s;

	if (nd->sl[slot] == 0)
		return NULL;
	sieve_run_expand(r, r->s->lists[nd->sl[slot]].first, &b);
	s = xstrdup(strbuf_cstr(&b));
	strbuf_free(&b);
	return s;
}

/* Should an auto-reply go to this message at all (RFC 5230 4.5, RFC 3834)?
 * Not to <>, to lists, bulk or auto-submitted mail. */
static bool vacation_allowed(struct sieve_run *r)
{
	struct mail_header_field f;
	const char *from = r->msg->env_from;
	size_t hs = mail_header_block_size(r->msg->data, r->msg->size);

	if (from == NULL || *from == '\0' || strncasecmp(from, "mailer-daemon@", 14) == 0 ||
	    strncasecmp(from, "owner-", 6) == 0 || strstr(from, "-request@") != NULL)
		return false;
	if (mail_header_find(r->msg->data, hs, "auto-submitted", &f)) {
		struct strbuf v = STRBUF_INIT;
		bool no;

		mail_header_unfold(f.value, f.value_len, &v);
		no = strncasecmp(strbuf_cstr(&v), "no", 2) == 0;
		strbuf_free(&v);
		if (!no)
			return false;
	}
	if (mail_header_find(r->msg->data, hs, "precedence", &f)) {
		struct strbuf v = STRBUF_INIT;
		const char *p;
		bool bulk;

		mail_header_unfold(f.value, f.value_len, &v);
		p = strbuf_cstr(&v);
		bulk = strcasecmp(p, "bulk") == 0 || strcasecmp(p, "list") == 0 ||
		       strcasecmp(p, "junk") == 0;
		strbuf_free(&v);
		if (bulk)
			return false;
	}
	return !mail_header_find(r->msg->data, hs, "list-id", &f);
}

struct to_me {
	const struct sieve_vacation *v;
	const char *rcpt, *orig;
};

static bool is_mine(struct sieve_run *r, const char *a, size_t len, void *ctx)
{
	const struct to_me *t = ctx;

	if ((t->rcpt != NULL && strcasecmp(a, t->rcpt) == 0) ||
	    (t->orig != NULL && strcasecmp(a, t->orig) == 0))
		return true;
	for (unsigned int i = 0; i < t->v->address_count; i++)
		if (strcasecmp(a, t->v->addresses[i]) == 0)
			return true;
	return false;
}

/* RFC 5230 4.5: reply only when one of the user's addresses (the
 * recipient, the original recipient, :addresses) is in a recipient field,
 * so Bcc'd list copies and forwards get no auto-reply. */
static bool vacation_to_me(struct sieve_run *r, const struct sieve_vacation *v)
{
	static const char *const fields[] = { "to", "cc", "bcc", "resent-to", "resent-cc" };
	struct to_me t = { v, r->msg->env_to, r->msg->env_orig_to };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (sieve_msg_addresses(r, fields[i], PART_ALL, 0, false, is_mine, &t))
			return true;
	return false;
}

void sieve_action_vacation(struct sieve_run *r, const struct sieve_node *nd)
{
	struct sieve_action a;
	struct sieve_vacation *v = &a.vacation;
	struct strbuf reason = STRBUF_INIT;
	uint64_t n = (nd->flags & NF_HAS_NUM) ? nd->num : 7;

	memset(&a, 0, sizeof(a));
	if (nd->flags & NF_SECONDS)
		v->seconds = n;
	else
		v->seconds = (n < 1 ? 1 : n > 365 ? 365 : n) * 86400;
	v->subject = opt_string(r, nd, SL_SUBJECT);
	v->from = opt_string(r, nd, SL_FROM);
	v->handle = opt_string(r, nd, SL_HANDLE);
	v->mime = (nd->flags & NF_MIME) != 0;
	if (nd->sl[SL_ADDRS] != 0) {
		const struct sieve_list *l = &r->s->lists[nd->sl[SL_ADDRS]];
		struct strbuf t = STRBUF_INIT;

		v->addresses = calloc(l->count ? l->count : 1, sizeof(char *));
		if (v->addresses == NULL)
			abort();
		for (uint32_t i = 0; i < l->count; i++) {
			strbuf_truncate(&t, 0);
			sieve_run_expand(r, l->first + i, &t);
			v->addresses[v->address_count++] = xstrdup(strbuf_cstr(&t));
		}
		strbuf_free(&t);
	}
	v->reply = vacation_allowed(r) && vacation_to_me(r, v);
	sieve_run_expand(r, r->s->lists[nd->sl[SL_P0]].first, &reason);
	if (v->handle == NULL) {
		/* RFC 5230 4.2: the handle defaults to one derived from the
		 * arguments, so a changed reply text is a new reply */
		struct strbuf h = STRBUF_INIT;

		strbuf_printf(&h, "%s|%s|%s|%d", strbuf_cstr(&reason),
			      v->subject != NULL ? v->subject : "", v->from != NULL ? v->from : "",
			      v->mime);
		v->handle = xstrdup(strbuf_cstr(&h));
		strbuf_free(&h);
	}
	sieve_action_add(r, nd, SIEVE_ACT_VACATION, strbuf_cstr(&reason), &a);
	if (r->failed || r->res->count == 0 ||
	    r->res->actions[r->res->count - 1].vacation.handle != v->handle)
		vacation_free(v);
	strbuf_free(&reason);
}

void sieve_result_finish(struct sieve_run *r)
{
	struct sieve_result *res = r->res;
	struct sieve_action keep;

	if (r->failed) {
		actions_free(res);
		r->action_cap = 0;
		res->error = true;
	}
	res->implicit_keep = r->implicit_keep || r->failed;
	if (!res->implicit_keep)
		return;
	memset(&keep, 0, sizeof(keep));
	keep.kind = SIEVE_ACT_KEEP;
	/* a fileinto :copy into the default mailbox already stores it */
	for (unsigned int i = 0; i < res->count; i++)
		if ((res->actions[i].kind == SIEVE_ACT_FILEINTO || res->actions[i].kind == SIEVE_ACT_KEEP) &&
		    strcmp(store_box(r, &res->actions[i]), store_box(r, &keep)) == 0) {
			res->implicit_keep = false;
			return;
		}
	if ((r->s->ext & SIEVE_EXT_IMAP4FLAGS) && !r->failed) {
		keep.flags = xstrdup(strbuf_cstr(&r->flags));
		keep.has_flags = true;
	}
	push(r, &keep);
}
