/* Account moves between mail nodes (ops/ops_move.h): the mover. Both
 * nodes are spoken to over IMAP with a move's proxy login as the user:
 * the source is read with plain IMAP, the target written with APPEND
 * after XMOVE FOLDER has given the folder the source's UIDVALIDITY and
 * raised its UIDNEXT to the UID the message has on the source, so every
 * message keeps its UID (server/imap_cmd_xmove.c). Each pass makes the
 * target equal to the source (copy, flags, expunges); passes are
 * idempotent, so a move that stopped half way is resumed by running it
 * again. */
#include "ops/ops_move.h"
#include "ops/ops_move_imap.h"
#include "lib/str.h"
#include "lib/strbuf.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MOVE_ONLINE_PASSES 3	/* catch-up passes before the freeze */
#define MOVE_NAME_MAX 1024

struct move_run {
	struct ops *o;
	const struct ops_move_params *p;
	struct ops_move_report *rep;
	const char *address;
	struct move_imap src, dst;
	bool frozen;
	bool target_used;	/* the copy onto the target has begun */
	char err[600];
};

struct move_names {
	char (*v)[MOVE_NAME_MAX];
	size_t n, cap;
};

struct move_list {
	struct move_msg *v;
	size_t n, cap;
};

static void move_say(struct move_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void move_say(struct move_run *r, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (r->p->progress == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->p->progress(r->p->progress_ctx, line);
}

/* The failure of m as the move's error; -1. */
static int move_fail_imap(struct move_run *r, const struct move_imap *m)
{
	snprintf(r->err, sizeof(r->err), "%s", m->err);
	return -1;
}

static int move_fail(struct move_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int move_fail(struct move_run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- listings ------------------------------------------------------------ */

static int names_add(struct move_names *l, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	return str_copy(l->v[l->n++], MOVE_NAME_MAX, name);
}

static bool names_has(const struct move_names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], name) == 0 || (strcasecmp(name, "INBOX") == 0 && strcasecmp(l->v[i], "INBOX") == 0))
			return true;
	}
	return false;
}

/* "LIST (...) "/" name" or "LSUB ..." lines: the selectable names. */
static int list_cb(void *ctx, const char *line, const char *lit, size_t litlen, const char *rest)
{
	struct move_names *l = ctx;
	char name[MOVE_NAME_MAX];
	bool noselect = false;
	const char *args;

	if (strncasecmp(line, "LIST ", 5) == 0 || strncasecmp(line, "LSUB ", 5) == 0)
		args = line + 5;
	else
		return 0;
	if (lit != NULL) {
		/* a name sent as a literal: taken as it is */
		if (litlen >= sizeof(name) || memchr(lit, '\0', litlen) != NULL)
			return -1;
		return names_add(l, lit);
	}
	if (move_parse_list(args, name, sizeof(name), &noselect) < 0)
		return -1;
	if (noselect && strncasecmp(line, "LIST ", 5) == 0)
		return 0;
	return names_add(l, name);
}

static int move_names_get(struct move_run *r, struct move_imap *m, const char *verb, struct move_names *l)
{
	l->n = 0;
	if (move_imap_run(m, list_cb, l, NULL, 0, "%s \"\" \"*\"", verb) < 0)
		return move_fail_imap(r, m);
	return 0;
}

static int msgs_cb(void *ctx, const char *line, const char *lit, size_t litlen, const char *rest)
{
	struct move_list *l = ctx;
	const char *sp = strchr(line, ' ');
	struct move_msg msg = { 0 };
	char date[64];

	if (sp == NULL || strncasecmp(sp + 1, "FETCH (", 7) != 0)
		return 0;
	if (move_parse_fetch(sp + 7, &msg.uid, msg.flags, sizeof(msg.flags), date, sizeof(date)) < 0 || msg.uid == 0 ||
	    move_parse_fetch_size(sp + 7, &msg.size) < 0)
		return -1;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	/* by ascending UID: the server answers in sequence order */
	if (l->n > 0 && l->v[l->n - 1].uid >= msg.uid)
		return -1;
	l->v[l->n++] = msg;
	return 0;
}

/* The selected folder's messages (UID and flags). */
static int move_msgs_get(struct move_run *r, struct move_imap *m, uint64_t exists, struct move_list *l)
{
	l->n = 0;
	if (exists == 0)
		return 0;
	if (move_imap_run(m, msgs_cb, l, NULL, 0, "UID FETCH 1:* (UID FLAGS RFC822.SIZE)") < 0)
		return move_fail_imap(r, m);
	return 0;
}

struct move_select {
	uint64_t uidvalidity, uidnext, highestmodseq, exists;
};

static int select_cb(void *ctx, const char *line, const char *lit, size_t litlen, const char *rest)
{
	struct move_select *s = ctx;
	const char *sp = strchr(line, ' ');

	move_parse_code(line, "UIDVALIDITY", &s->uidvalidity);
	move_parse_code(line, "UIDNEXT", &s->uidnext);
	move_parse_code(line, "HIGHESTMODSEQ", &s->highestmodseq);
	if (sp != NULL && strcasecmp(sp + 1, "EXISTS") == 0)
		s->exists = strtoull(line, NULL, 10);
	return 0;
}

static int move_select(struct move_run *r, struct move_imap *m, const char *verb, const char *qname,
		       struct move_select *s)
{
	memset(s, 0, sizeof(*s));
	if (move_imap_run(m, select_cb, s, NULL, 0, "%s %s", verb, qname) < 0)
		return move_fail_imap(r, m);
	if (s->uidvalidity == 0 || s->uidvalidity > UINT32_MAX || s->uidnext == 0)
		return move_fail(r, "%s: %s %s gave no UIDVALIDITY or UIDNEXT", m->where, verb, qname);
	return 0;
}

/* ---- one folder ------------------------------------------------------------ */

struct move_body {
	uint32_t uid;
	char flags[MOVE_FLAGS_MAX], date[64];
	char *data;
	size_t len;
};

static int body_cb(void *ctx, const char *line, const char *lit, size_t litlen, const char *rest)
{
	struct move_body *b = ctx;
	const char *sp = strchr(line, ' ');
	char all[MOVE_FLAGS_MAX * 2];

	if (sp == NULL || strncasecmp(sp + 1, "FETCH (", 7) != 0 || lit == NULL)
		return 0;
	snprintf(all, sizeof(all), "%s%s", sp + 7, rest != NULL ? rest : "");
	if (move_parse_fetch(all, &b->uid, b->flags, sizeof(b->flags), b->date, sizeof(b->date)) < 0)
		return -1;
	free(b->data);
	if ((b->data = malloc(litlen ? litlen : 1)) == NULL)
		return -1;
	memcpy(b->data, lit, litlen);
	b->len = litlen;
	return 0;
}

/* Copies in batches: runs of consecutive UIDs go to the target in one
 * MULTIAPPEND each (stored together there: one directory fsync and one
 * index commit per batch), bounded in messages and in bytes (below the
 * 1 MiB of literals a server session keeps in memory per command); a
 * message of MOVE_BIG bytes or more goes alone (the server streams it). */
#define MOVE_BATCH_MAX 50
#define MOVE_BATCH_BYTES (768 * 1024)
#define MOVE_BIG (256 * 1024)

/* Gives the target's folder the next UID uid unless it is that already.
 * *next: the UID the target gives next (0: not known). */
static int move_uid_next(struct move_run *r, const char *qname, uint32_t uidvalidity, uint32_t uid,
			 uint32_t *next)
{
	if (*next != uid && move_imap_run(&r->dst, NULL, NULL, NULL, 0, "XMOVE FOLDER %s %u %u 0", qname,
					  uidvalidity, uid) < 0)
		return move_fail_imap(r, &r->dst);
	*next = uid;
	return 0;
}

/* Appends the batch b[0..n) (consecutive UIDs) under the same UIDs, and
 * frees their bodies. */
static int move_put(struct move_run *r, const char *qname, uint32_t uidvalidity, struct move_body *b, size_t n,
		    uint32_t *next)
{
	struct move_imap_msg v[MOVE_BATCH_MAX];
	uint32_t first = 0, last = 0;
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		v[i] = (struct move_imap_msg){ .flags = b[i].flags, .date = b[i].date, .data = b[i].data,
					       .len = b[i].len };
	if (move_uid_next(r, qname, uidvalidity, b[0].uid, next) < 0)
		goto out;
	if (n == 1 ? move_imap_append(&r->dst, qname, b[0].flags, b[0].date, b[0].data, b[0].len, &first)
		   : move_imap_append_many(&r->dst, qname, v, n, &first, &last)) {
		move_fail_imap(r, &r->dst);
		goto out;
	}
	if (n == 1)
		last = first;
	if (first != b[0].uid || last != b[n - 1].uid) {
		move_fail(r, "%s: the copies of UIDs %u:%u got UIDs %u:%u", r->dst.where, b[0].uid, b[n - 1].uid,
			  first, last);
		goto out;
	}
	*next = last + 1;
	r->rep->copied += n;
	rc = 0;
out:
	for (size_t i = 0; i < n; i++) {
		free(b[i].data);
		b[i].data = NULL;
	}
	return rc;
}

/* The bodies of one UID FETCH of a group: each response goes to the slot
 * of its UID (slots preset with the UIDs asked for, data NULL). */
struct move_group {
	struct move_body *b;
	size_t n;
};

static int group_cb(void *ctx, const char *line, const char *lit, size_t litlen, const char *rest)
{
	struct move_group *g = ctx;
	struct move_body one = { 0 };
	int r = body_cb(&one, line, lit, litlen, rest);

	for (size_t k = 0; r == 0 && one.data != NULL && k < g->n; k++) {
		if (g->b[k].uid == one.uid && g->b[k].data == NULL) {
			g->b[k] = one;
			return 0;
		}
	}
	free(one.data);	/* a response for nothing asked: left out */
	return r;
}

/* Copies the plan's messages of the selected source folder into the
 * target's folder qname under the same UIDs: the source read in groups
 * (one UID FETCH for up to MOVE_BATCH_MAX messages and MOVE_BATCH_BYTES by
 * their RFC822.SIZE, a big one alone), each group's runs of consecutive
 * UIDs put as one MULTIAPPEND. */
static int move_copy_all(struct move_run *r, const char *qname, uint32_t uidvalidity, const struct move_list *src,
			 const struct move_plan *plan)
{
	struct move_body *b = calloc(MOVE_BATCH_MAX, sizeof(*b));
	struct strbuf set = STRBUF_INIT;
	uint32_t next = 0;
	int rc = -1;

	if (b == NULL)
		return move_fail(r, "out of memory");
	for (size_t i = 0; i < plan->ncopy;) {
		struct move_group g = { b, 0 };
		uint64_t bytes = 0;
		size_t run = 0;

		/* the group */
		strbuf_truncate(&set, 0);
		while (i < plan->ncopy && g.n < MOVE_BATCH_MAX) {
			const struct move_msg *m = &src->v[plan->copy[i]];
			bool alone = m->size == 0 || m->size >= MOVE_BIG;	/* big, or size unknown */

			if (g.n > 0 && (alone || bytes + m->size > MOVE_BATCH_BYTES))
				break;
			memset(&b[g.n], 0, sizeof(b[g.n]));
			b[g.n++].uid = m->uid;
			strbuf_printf(&set, "%s%u", set.len > 0 ? "," : "", m->uid);
			bytes += m->size;
			i++;
			if (alone)
				break;
		}
		if (move_imap_run(&r->src, group_cb, &g, NULL, 0, "UID FETCH %s (UID FLAGS INTERNALDATE BODY.PEEK[])",
				  strbuf_cstr(&set)) < 0) {
			move_fail_imap(r, &r->src);
			goto out_group;
		}
		/* its runs: a message expunged meanwhile (no body: the next
		 * pass sees it gone) or a gap ends one */
		for (size_t k = 0; k <= g.n; k++) {
			bool ends = k == g.n || b[k].data == NULL || b[k].date[0] == '\0' ||
				    (run > 0 && b[k].uid != b[k - 1].uid + 1);

			if (ends && run > 0 && move_put(r, qname, uidvalidity, b + k - run, run, &next) < 0) {
				run = 0;
				goto out_group;
			}
			if (ends)
				run = 0;
			if (k < g.n && b[k].data != NULL && b[k].date[0] != '\0')
				run++;
		}
		for (size_t k = 0; k < g.n; k++)
			free(b[k].data);	/* those put are NULL already */
		continue;
out_group:
		for (size_t k = 0; k < g.n; k++)
			free(b[k].data);
		goto out;
	}
	rc = 0;
out:
	strbuf_free(&set);
	free(b);
	return rc;
}

/* Makes the target's selected folder's flags and expunges match. */
static int move_fix_target(struct move_run *r, const struct move_list *src, const struct move_plan *plan)
{
	for (size_t i = 0; i < plan->nexpunge; i++) {
		uint32_t uid = plan->expunge[i];

		if (move_imap_run(&r->dst, NULL, NULL, NULL, 0, "UID STORE %u +FLAGS.SILENT (\\Deleted)", uid) < 0 ||
		    move_imap_run(&r->dst, NULL, NULL, NULL, 0, "UID EXPUNGE %u", uid) < 0)
			return move_fail_imap(r, &r->dst);
		r->rep->expunged++;
	}
	for (size_t i = 0; i < plan->nupdate; i++) {
		const struct move_msg *m = &src->v[plan->update[i]];

		if (move_imap_run(&r->dst, NULL, NULL, NULL, 0, "UID STORE %u FLAGS.SILENT (%s)", m->uid, m->flags) < 0)
			return move_fail_imap(r, &r->dst);
		r->rep->updated++;
	}
	return 0;
}

/* The target's folder emptied: it holds messages under another
 * UIDVALIDITY (an older copy), which the source's replace. */
static int move_empty_target(struct move_run *r, const char *qname)
{
	struct move_select s;

	if (move_select(r, &r->dst, "SELECT", qname, &s) < 0)
		return -1;
	if (s.exists > 0 &&
	    (move_imap_run(&r->dst, NULL, NULL, NULL, 0, "UID STORE 1:* +FLAGS.SILENT (\\Deleted)") < 0 ||
	     move_imap_run(&r->dst, NULL, NULL, NULL, 0, "EXPUNGE") < 0))
		return move_fail_imap(r, &r->dst);
	if (move_imap_run(&r->dst, NULL, NULL, NULL, 0, "UNSELECT") < 0)
		return move_fail_imap(r, &r->dst);
	return 0;
}

static int move_plan_alloc(struct move_plan *plan, size_t nsrc, size_t ndst)
{
	plan->copy = calloc(nsrc + 1, sizeof(*plan->copy));
	plan->update = calloc(nsrc + 1, sizeof(*plan->update));
	plan->expunge = calloc(ndst + 1, sizeof(*plan->expunge));
	return plan->copy != NULL && plan->update != NULL && plan->expunge != NULL ? 0 : -1;
}

static void move_plan_free(struct move_plan *plan)
{
	free(plan->copy);
	free(plan->update);
	free(plan->expunge);
}

/* Applies the plan: flags and expunges with the target folder selected,
 * then the copies (XMOVE FOLDER and APPEND need none selected). */
static int move_apply(struct move_run *r, const char *qname, const struct move_select *ss,
		      const struct move_list *src, const struct move_plan *plan)
{
	if (move_fix_target(r, src, plan) < 0)
		return -1;
	if (move_imap_run(&r->dst, NULL, NULL, NULL, 0, "UNSELECT") < 0)
		return move_fail_imap(r, &r->dst);
	if (move_copy_all(r, qname, (uint32_t)ss->uidvalidity, src, plan) < 0)
		return -1;
	/* the next UID and the MODSEQs continue where the source's are */
	if (move_imap_run(&r->dst, NULL, NULL, NULL, 0, "XMOVE FOLDER %s %u %llu %llu", qname,
			  (unsigned)ss->uidvalidity, (unsigned long long)ss->uidnext,
			  (unsigned long long)ss->highestmodseq) < 0)
		return move_fail_imap(r, &r->dst);
	return 0;
}

/* One folder: the target made equal to the source. *changes_r grows by
 * what had to be done. */
static int move_folder(struct move_run *r, const char *name, unsigned *changes_r)
{
	struct move_list src = { 0 }, dst = { 0 };
	struct move_plan plan = { 0 };
	struct move_select ss, ds;
	char qname[MOVE_NAME_MAX + 8];
	int rc = -1;

	if (move_quote(name, qname, sizeof(qname)) < 0)
		return move_fail(r, "folder name %s cannot be quoted", name);
	if (move_select(r, &r->src, "EXAMINE", qname, &ss) < 0 || move_msgs_get(r, &r->src, ss.exists, &src) < 0)
		goto out;
	if (move_imap_run(&r->dst, NULL, NULL, NULL, 0, "XMOVE FOLDER %s %u 1 0", qname, (unsigned)ss.uidvalidity) < 0) {
		if (strstr(r->dst.err, "UIDVALIDITY") == NULL || move_empty_target(r, qname) < 0 ||
		    move_imap_run(&r->dst, NULL, NULL, NULL, 0, "XMOVE FOLDER %s %u 1 0", qname,
				  (unsigned)ss.uidvalidity) < 0) {
			if (r->err[0] == '\0')
				move_fail_imap(r, &r->dst);
			goto out;
		}
	}
	if (move_select(r, &r->dst, "SELECT", qname, &ds) < 0 || move_msgs_get(r, &r->dst, ds.exists, &dst) < 0)
		goto out;
	if (move_plan_alloc(&plan, src.n, dst.n) < 0) {
		move_fail(r, "out of memory");
		goto out;
	}
	move_plan_make(src.v, src.n, dst.v, dst.n, &plan);
	*changes_r += (unsigned)(plan.ncopy + plan.nupdate + plan.nexpunge);
	if (plan.ncopy + plan.nupdate + plan.nexpunge > 0)
		move_say(r, "  %s: %zu to copy, %zu flag changes, %zu expunged", name, plan.ncopy, plan.nupdate,
			 plan.nexpunge);
	if (move_apply(r, qname, &ss, &src, &plan) < 0)
		goto out;
	if (move_imap_run(&r->src, NULL, NULL, NULL, 0, "UNSELECT") < 0) {
		move_fail_imap(r, &r->src);
		goto out;
	}
	rc = 0;
out:
	move_plan_free(&plan);
	free(src.v);
	free(dst.v);
	return rc;
}

/* Subscriptions of the target set to the source's. */
static int move_subscriptions(struct move_run *r)
{
	struct move_names s = { 0 }, d = { 0 };
	char q[MOVE_NAME_MAX + 8];
	int rc = -1;

	if (move_names_get(r, &r->src, "LSUB", &s) < 0 || move_names_get(r, &r->dst, "LSUB", &d) < 0)
		goto out;
	for (size_t i = 0; i < s.n; i++) {
		if (!names_has(&d, s.v[i]) && (move_quote(s.v[i], q, sizeof(q)) < 0 ||
					       move_imap_run(&r->dst, NULL, NULL, NULL, 0, "SUBSCRIBE %s", q) < 0))
			goto fail;
	}
	for (size_t i = 0; i < d.n; i++) {
		if (!names_has(&s, d.v[i]) && (move_quote(d.v[i], q, sizeof(q)) < 0 ||
					       move_imap_run(&r->dst, NULL, NULL, NULL, 0, "UNSUBSCRIBE %s", q) < 0))
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	move_fail_imap(r, &r->dst);
out:
	free(s.v);
	free(d.v);
	return rc;
}

/* One pass over the account: every folder; the target's folders the
 * source does not have are deleted. *changes_r: what it had to do. */
static int move_pass(struct move_run *r, unsigned *changes_r)
{
	struct move_names s = { 0 }, d = { 0 };
	char q[MOVE_NAME_MAX + 8];
	int rc = -1;

	*changes_r = 0;
	if (move_names_get(r, &r->src, "LIST", &s) < 0 || move_names_get(r, &r->dst, "LIST", &d) < 0)
		goto out;
	for (size_t i = 0; i < d.n; i++) {
		if (strcasecmp(d.v[i], "INBOX") == 0 || names_has(&s, d.v[i]))
			continue;
		if (move_quote(d.v[i], q, sizeof(q)) < 0 ||
		    move_imap_run(&r->dst, NULL, NULL, NULL, 0, "DELETE %s", q) < 0) {
			move_fail_imap(r, &r->dst);
			goto out;
		}
		(*changes_r)++;
	}
	for (size_t i = 0; i < s.n; i++) {
		if (move_folder(r, s.v[i], changes_r) < 0)
			goto out;
	}
	r->rep->folders = (unsigned)s.n;
	rc = move_subscriptions(r);
out:
	free(s.v);
	free(d.v);
	return rc;
}

/* ---- per-account files ----------------------------------------------------- */

static int files_cb(void *ctx, const char *line, const char *lit, size_t litlen, const char *rest)
{
	struct move_run *r = ctx;
	char rel[300], *data;
	unsigned long long off;
	int last, n;

	if (strncmp(line, "XMOVE FILE \"", 12) != 0)
		return 0;
	n = 0;
	if (sscanf(line + 12, "%299[^\"]\" %llu %d %n", rel, &off, &last, &n) != 3 || n == 0)
		return -1;
	data = (char *)line + 12 + n;
	if (move_imap_run(&r->dst, NULL, NULL, NULL, 0, "XMOVE PUT \"%s\" %llu %d %s", rel, off, last, data) < 0)
		return move_fail_imap(r, &r->dst);
	if (last)
		r->rep->files++;
	return 0;
}

static int move_files(struct move_run *r)
{
	if (move_imap_run(&r->src, files_cb, r, NULL, 0, "XMOVE FILES") < 0)
		return r->err[0] != '\0' ? -1 : move_fail_imap(r, &r->src);
	return 0;
}

/* ---- the move ---------------------------------------------------------------- */

static int move_connect(struct move_run *r, struct move_imap *m, const struct dir_node *n)
{
	if (n->imap[0] == '\0')
		return move_fail(r, "node %s has no IMAP address (yubinctl node add ... imap=HOST:PORT)", n->name);
	if (move_imap_open(m, n->name, n->imap, r->p->source_ip, r->p->timeout) < 0 ||
	    move_imap_login(m, r->address, r->p->proxy_user, r->p->proxy_secret) < 0)
		return move_fail_imap(r, m);
	return 0;
}

/* Copy and catch up online, freeze, catch up under the freeze, check,
 * files. 0 ready for the switch, -1 (r->err). */
static int move_copy(struct move_run *r)
{
	unsigned changes = 0;

	r->target_used = true;
	for (unsigned pass = 1; pass <= MOVE_ONLINE_PASSES; pass++) {
		move_say(r, "pass %u (online)", pass);
		r->rep->passes++;
		if (move_pass(r, &changes) < 0)
			return -1;
		if (changes == 0 && pass > 1)
			break;
	}
	move_say(r, "freezing the mailbox on %s", r->rep->from);
	if (move_imap_run(&r->src, NULL, NULL, NULL, 0, "XMOVE FREEZE") < 0)
		return move_fail_imap(r, &r->src);
	r->frozen = true;
	move_say(r, "final pass (frozen)");
	r->rep->passes++;
	if (move_pass(r, &changes) < 0)
		return -1;
	/* nothing changes under the freeze: a pass more must find nothing */
	r->rep->passes++;
	if (move_pass(r, &changes) < 0)
		return -1;
	if (changes != 0)
		return move_fail(r, "the frozen mailbox still differed after its last pass (%u changes)", changes);
	return move_files(r);
}

static int move_check(struct ops *o, const char *address, const char *to, struct dir_node *from_r,
		      struct dir_node *to_r, struct ops_error *err)
{
	char home[DIR_NODE_NAME_MAX + 1];
	int rc = directory_account_node(o->dir, address, home, sizeof(home));

	if (rc < 0)
		return ops_fail(err, "internal", NULL, "cannot read the account", "アカウントを読めません");
	if (rc == 0)
		return ops_fail(err, "not_found", "address", "no such account: %s", "アカウント %s はありません",
				address);
	if (home[0] == '\0')
		return ops_fail(err, "invalid", "address", "%s is on no node (the single-machine mode)",
				"%s はどのノードにもありません (1 台構成)", address);
	if (strcmp(home, to) == 0)
		return ops_fail(err, "invalid", "node", "%s is on node %s already", "%s はすでにノード %s にあります",
				address, to);
	rc = directory_node_get(o->dir, to, to_r);
	if (rc <= 0)
		return rc < 0 ? ops_fail(err, "internal", NULL, "cannot read the nodes", "ノードを読めません")
			      : ops_fail(err, "not_found", "node", "no such node: %s", "ノード %s はありません", to);
	if (strcmp(to_r->state, "active") != 0)
		return ops_fail(err, "invalid", "node", "the node %s is %s: mailboxes move to active nodes",
				"ノード %s は %s です: メールボックスは active のノードへ移します", to, to_r->state);
	if (directory_node_get(o->dir, home, from_r) <= 0)
		return ops_fail(err, "internal", NULL, "cannot read the node %s", "ノード %s を読めません", home);
	rc = directory_mailbox_deletion_pending(o->dir, address, to);
	if (rc != 0)
		return rc < 0 ? ops_fail(err, "internal", NULL, "cannot read the nodes", "ノードを読めません")
			      : ops_fail(err, "busy", "node",
					 "the copy an earlier move of %s left on node %s is still being removed:"
					 " move it again in a few seconds",
					 "以前の移動で %s がノード %s に残したコピーを削除中です:"
					 " 数秒後にもう一度移してください", address, to);
	return 0;
}

/* Before the switch: the source as it was (thawed), the mark gone, and
 * what the move wrote on the target asked away (node_purge.c): an account
 * added on that node later under the address, or the address deleted
 * meanwhile, must not find it. The node keeps it if by then the address
 * lives there (a later move). */
static void move_undo(struct move_run *r)
{
	const char *error = "database error";

	if (r->frozen && move_imap_run(&r->src, NULL, NULL, NULL, 0, "XMOVE THAW") < 0)
		move_say(r, "the mailbox stays frozen on %s (%s): run the move again to finish it", r->rep->from,
			 r->src.err);
	else
		directory_account_set_moving(r->o->dir, r->address, NULL, &error);
	if (r->target_used && directory_mailbox_deletion_add(r->o->dir, r->address, r->rep->to, &error) < 0)
		move_say(r, "the partial copy on %s stays (%s): delete %s's mailbox there", r->rep->to, error,
			 r->address);
}

/* Test hook (test_account_move.py only): with YUBIN_TEST_MOVE_PAUSE=FILE
 * in the environment, a move whose copy is done creates FILE and waits,
 * before the switch, until FILE is gone (at most 60 s), so that a test can
 * change the account in that window. */
static void move_test_pause(void)
{
	const char *file = getenv("YUBIN_TEST_MOVE_PAUSE");
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int fd;

	if (file == NULL || (fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return;
	close(fd);
	for (int i = 0; i < 3000 && access(file, F_OK) == 0; i++)
		nanosleep(&tick, NULL);
}

static int move_switch(struct move_run *r, struct ops_error *err)
{
	const char *error = "database error";
	int rc = directory_account_move_finish(r->o->dir, r->address, r->rep->from, r->rep->to, &error);

	if (rc <= 0) {
		move_undo(r);
		return ops_fail(err, "internal", NULL, "cannot switch the home node of %s: %s",
				"%s のホームノードを切り替えられません: %s", r->address,
				rc < 0 ? error : "changed meanwhile");
	}
	move_say(r, "home node is now %s", r->rep->to);
	if (move_imap_run(&r->src, NULL, NULL, NULL, 0, "XMOVE PURGE") < 0)
		return ops_fail(err, "partial", NULL,
				"%s moved to %s, but its old copy on %s was not removed (%s): remove ROOT.moving there",
				"%s は %s へ移りましたが、%s の古いコピーを消せませんでした (%s)", r->address,
				r->rep->to, r->rep->from, r->src.err);
	r->rep->purged = true;
	return 0;
}

int ops_account_move(struct ops *o, const struct ops_actor *actor, const char *address, const char *to,
		     const struct ops_move_params *p, struct ops_move_report *rep, struct ops_error *err)
{
	struct move_run r = { .o = o, .p = p, .rep = rep, .address = address };
	struct dir_node from, dest;
	const char *error = "database error";
	int rc;

	memset(err, 0, sizeof(*err));
	memset(rep, 0, sizeof(*rep));
	r.src.fd = r.dst.fd = -1;
	if (!ops_may_server(actor))
		return ops_fail(err, "forbidden", NULL, "you may not move mailboxes",
				"メールボックスを移す権限がありません");
	if (p->proxy_secret == NULL || p->proxy_secret[0] == '\0')
		return ops_fail(err, "invalid", NULL, "the proxy secret is not set here: run the move on a proxy",
				"プロキシの secret がありません: プロキシで実行してください");
	if (move_check(o, address, to, &from, &dest, err) < 0)
		return -1;
	str_copy(rep->from, sizeof(rep->from), from.name);
	str_copy(rep->to, sizeof(rep->to), dest.name);
	rc = directory_account_set_moving(o->dir, address, dest.name, &error);
	if (rc <= 0)
		return ops_fail(err, rc == 0 ? "busy" : "internal", "address", "cannot start the move of %s: %s",
				"%s の移動を始められません: %s", address,
				rc == 0 ? "another move of it runs" : error);
	move_say(&r, "moving %s from %s to %s", address, from.name, dest.name);
	if (move_connect(&r, &r.src, &from) < 0 || move_connect(&r, &r.dst, &dest) < 0 || move_copy(&r) < 0) {
		move_undo(&r);
		move_imap_close(&r.src);
		move_imap_close(&r.dst);
		ops_event(o, actor, "account-move-failed", address, "to %s: %s", dest.name, r.err);
		return ops_fail(err, "move_failed", NULL, "the move of %s to %s failed: %s",
				"%s の %s への移動に失敗しました: %s", address, dest.name, r.err);
	}
	move_test_pause();
	rc = move_switch(&r, err);
	move_imap_close(&r.src);
	move_imap_close(&r.dst);
	if (rc < 0 && !rep->purged && strcmp(err->code, "partial") != 0)
		return -1;
	ops_event(o, actor, "account-moved", address, "from %s to %s: %u folders, %u messages copied%s", from.name,
		  dest.name, rep->folders, rep->copied, rep->purged ? "" : ", old copy left");
	ops_audit(o, actor, "account.move", address, "from %s to %s", from.name, dest.name);
	return rc;
}

struct drain_ctx {
	struct ops *o;
	const char *node;
	struct move_names accounts;
	int rc;
};

static void drain_cb(const struct dir_account *a, void *ctx)
{
	struct drain_ctx *d = ctx;
	char home[DIR_NODE_NAME_MAX + 1];

	if (d->rc == 0 && directory_account_node(d->o->dir, a->address, home, sizeof(home)) > 0 &&
	    strcmp(home, d->node) == 0 && names_add(&d->accounts, a->address) < 0)
		d->rc = -1;
}

int ops_node_drain_move(struct ops *o, const struct ops_actor *actor, const char *name,
			const struct ops_move_params *p, unsigned *moved_r, struct ops_error *err)
{
	struct drain_ctx d = { .o = o, .node = name };
	struct ops_move_report rep;
	struct ops_error one;
	char to[DIR_NODE_NAME_MAX + 1];
	unsigned failed = 0;

	*moved_r = 0;
	if (ops_node_state(o, actor, name, "draining", err) < 0)
		return -1;
	if (directory_account_list(o->dir, NULL, drain_cb, &d) < 0 || d.rc < 0) {
		free(d.accounts.v);
		return ops_fail(err, "internal", NULL, "cannot list the accounts", "アカウント一覧を読めません");
	}
	/* one account after another; a failure does not stop the others */
	for (size_t i = 0; i < d.accounts.n; i++) {
		if (directory_node_pick(o->dir, to, sizeof(to)) <= 0) {
			free(d.accounts.v);
			return ops_fail(err, "invalid", "node", "no active node to move %s to",
					"%s を移せる active なノードがありません", d.accounts.v[i]);
		}
		if (ops_account_move(o, actor, d.accounts.v[i], to, p, &rep, &one) == 0) {
			(*moved_r)++;
		} else {
			failed++;
			*err = one;
			if (p->progress != NULL)
				p->progress(p->progress_ctx, one.en);
		}
	}
	free(d.accounts.v);
	if (failed > 0)
		return ops_fail(err, "move_failed", NULL, "%u account(s) could not be moved off %s (the last: %s);"
				" run the drain again", "%u 件のアカウントを %s から移せませんでした (最後: %s)。"
				"もう一度 drain を実行してください", failed, name, one.en);
	return 0;
}
