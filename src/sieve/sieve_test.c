/* The tests: each gathers its values (headers, addresses, envelope, body,
 * flags, dates, variables, scores) and matches them against its keys with
 * the node's comparator and match type; :count counts the values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sieve/sieve_run_int.h"

struct mctx {
	const struct sieve_node *nd;
	uint32_t keys;
	unsigned int count;
	struct strbuf key;
};

static bool key_match(struct sieve_run *r, const struct sieve_node *nd, uint32_t si,
		      const char *v, size_t len, struct strbuf *key)
{
	const struct sieve_str *st = &r->s->strs[si];
	struct sieve_matchvars *mv = (r->s->ext & SIEVE_EXT_VARIABLES) ? &r->mv : NULL;
	bool ok;

	if (nd->match == MATCH_REGEX) {
		regex_t re;
		char msg[120];
		uint64_t cost = (uint64_t)len * 8 + 64;

		/* regexec is polynomial on ERE without back-references */
		if (r->work < cost) {
			sieve_run_fail(r, nd->line, "too much matching work");
			return false;
		}
		r->work -= cost;
		if (st->regex >= 0)
			return sieve_regex_exec(&r->s->regex[st->regex], v, len, mv);
		strbuf_truncate(key, 0);
		sieve_run_expand(r, si, key);
		if (sieve_regex_compile(&re, strbuf_cstr(key), key->len, (enum sieve_cmp)nd->cmp, msg,
					sizeof(msg)) < 0) {
			sieve_run_fail(r, nd->line, "%s", msg);
			return false;
		}
		ok = sieve_regex_exec(&re, v, len, mv);
		regfree(&re);
		return ok;
	}
	strbuf_truncate(key, 0);
	sieve_run_expand(r, si, key);
	if (nd->match == MATCH_VALUE)
		return sieve_match_rel((enum sieve_rel)nd->rel, (enum sieve_cmp)nd->cmp, v, len,
				       strbuf_cstr(key), key->len);
	ok = sieve_match_str((enum sieve_match)nd->match, (enum sieve_cmp)nd->cmp, v, len,
			     strbuf_cstr(key), key->len, mv, &r->work);
	if (r->work == 0)
		sieve_run_fail(r, nd->line, "too much matching work");
	return ok && !r->failed;
}

static bool match_value(struct sieve_run *r, const char *v, size_t len, void *ctx)
{
	struct mctx *m = ctx;
	const struct sieve_list *l = &r->s->lists[m->keys];

	if (m->nd->match == MATCH_COUNT) {
		m->count++;
		return false;
	}
	for (uint32_t i = 0; i < l->count && !r->failed; i++)
		if (key_match(r, m->nd, l->first + i, v, len, &m->key))
			return true;
	return false;
}

/* For :count, compares the number of values with the keys. */
static bool match_finish(struct sieve_run *r, struct mctx *m, bool hit)
{
	if (m->nd->match == MATCH_COUNT) {
		const struct sieve_list *l = &r->s->lists[m->keys];
		char num[24];

		snprintf(num, sizeof(num), "%u", m->count);
		hit = false;
		for (uint32_t i = 0; i < l->count && !hit; i++) {
			strbuf_truncate(&m->key, 0);
			sieve_run_expand(r, l->first + i, &m->key);
			hit = sieve_match_rel((enum sieve_rel)m->nd->rel, (enum sieve_cmp)m->nd->cmp, num,
					      strlen(num), strbuf_cstr(&m->key), m->key.len);
		}
	}
	strbuf_free(&m->key);
	return hit;
}

static void mctx_init(struct mctx *m, const struct sieve_node *nd, uint32_t keys)
{
	m->nd = nd;
	m->keys = keys;
	m->count = 0;
	strbuf_init(&m->key);
}

/* Runs fn over each (expanded) string of list li until it returns true. */
static bool each_name(struct sieve_run *r, uint32_t li,
		      bool (*fn)(struct sieve_run *, const char *, void *), void *ctx)
{
	const struct sieve_list *l = &r->s->lists[li];
	struct strbuf n = STRBUF_INIT;
	bool hit = false;

	for (uint32_t i = 0; i < l->count && !hit && !r->failed; i++) {
		strbuf_truncate(&n, 0);
		sieve_run_expand(r, l->first + i, &n);
		hit = fn(r, strbuf_cstr(&n), ctx);
	}
	strbuf_free(&n);
	return hit;
}

struct hdr_ctx {
	const struct sieve_node *nd;
	struct mctx *m;
};

static bool header_one(struct sieve_run *r, const char *name, void *ctx)
{
	struct hdr_ctx *h = ctx;
	const struct sieve_node *nd = h->nd;
	bool last = nd->flags & NF_LAST;

	if (nd->id == SID_ADDRESS)
		return sieve_msg_addresses(r, name, (enum sieve_part)nd->part, nd->index, last,
					   match_value, h->m);
	return sieve_msg_headers(r, name, true, nd->index, last, match_value, h->m);
}

static bool envelope_one(struct sieve_run *r, const char *name, void *ctx)
{
	struct hdr_ctx *h = ctx;
	const char *a = NULL;
	struct strbuf p = STRBUF_INIT;
	bool hit = false;

	if (strcasecmp(name, "from") == 0)
		a = r->msg->env_from;
	else if (strcasecmp(name, "to") == 0)
		a = r->msg->env_to;
	else if (strcasecmp(name, "auth") == 0)
		a = r->msg->auth_user;
	if (a == NULL)
		return false;
	if (*a == '\0') {
		/* the null reverse-path matches only as "" with :all */
		if (h->nd->part == PART_ALL)
			hit = match_value(r, "", 0, h->m);
		return hit;
	}
	if (sieve_addr_part(a, (enum sieve_part)h->nd->part, &p))
		hit = match_value(r, strbuf_cstr(&p), p.len, h->m);
	strbuf_free(&p);
	return hit;
}

static bool exists_one(struct sieve_run *r, const char *name, void *ctx)
{
	return sieve_msg_header_count(r, name) == 0;	/* true stops: one missing */
}

static bool string_one(struct sieve_run *r, const char *v, void *ctx)
{
	struct mctx *m = ctx;

	/* :count counts the non-empty strings (RFC 5229 5) */
	if (m->nd->match == MATCH_COUNT && *v == '\0')
		return false;
	return match_value(r, v, strlen(v), m);
}

static bool mailbox_missing(struct sieve_run *r, const char *name, void *ctx)
{
	return r->env->mailbox_exists == NULL || !r->env->mailbox_exists(r->env->ctx, name);
}

static bool flags_of(struct sieve_run *r, const char *name, void *ctx)
{
	struct strbuf *set = ctx;
	struct sieve_var *v = sieve_run_var(r, name, false);

	if (v != NULL)
		sieve_flags_add(set, v->value.data != NULL ? v->value.data : "", v->value.len);
	return false;
}

static bool test_hasflag(struct sieve_run *r, const struct sieve_node *nd, struct mctx *m)
{
	struct strbuf set = STRBUF_INIT;
	bool hit = false;
	const char *p;

	if (nd->sl[SL_P1] != 0)
		each_name(r, nd->sl[SL_P1], flags_of, &set);
	else
		sieve_flags_add(&set, strbuf_cstr(&r->flags), r->flags.len);
	p = strbuf_cstr(&set);
	while (*p != '\0' && !hit) {
		size_t n = strcspn(p, " ");

		hit = match_value(r, p, n, m);
		p += n;
		p += *p == ' ';
	}
	strbuf_free(&set);
	return hit;
}

struct date_ctx {
	const struct sieve_node *nd;
	struct mctx *m;
	struct strbuf part, out;
	int zone;
	bool fixed_zone;
};

static bool date_value(struct sieve_run *r, const char *v, size_t len, void *ctx)
{
	struct date_ctx *d = ctx;
	int64_t t;
	const char *semi = memrchr(v, ';', len);
	int zone;

	/* Received: the date follows the last ';' (RFC 5260 4) */
	if (semi != NULL) {
		len -= (size_t)(semi + 1 - v);
		v = semi + 1;
	}
	if (sieve_date_parse(v, len, &t, &zone) < 0)
		return false;
	strbuf_truncate(&d->out, 0);
	if (sieve_date_part(t, d->fixed_zone ? d->zone : zone, strbuf_cstr(&d->part), &d->out) < 0)
		return false;
	return match_value(r, strbuf_cstr(&d->out), d->out.len, d->m);
}

static bool test_date(struct sieve_run *r, const struct sieve_node *nd, struct mctx *m)
{
	struct date_ctx d = { nd, m, STRBUF_INIT, STRBUF_INIT, r->env->zone_minutes, true };
	bool hit = false;

	if (nd->sl[SL_TAG] != 0) {
		struct strbuf z = STRBUF_INIT;

		sieve_run_expand(r, r->s->lists[nd->sl[SL_TAG]].first, &z);
		if (sieve_zone_parse(strbuf_cstr(&z), z.len, &d.zone) < 0)
			d.zone = r->env->zone_minutes;
		strbuf_free(&z);
	} else if (nd->flags & NF_ORIGZONE) {
		d.fixed_zone = false;
	}
	if (nd->id == SID_DATE) {
		struct strbuf h = STRBUF_INIT;

		sieve_run_expand(r, r->s->lists[nd->sl[SL_P0]].first, &h);
		sieve_run_expand(r, r->s->lists[nd->sl[SL_P1]].first, &d.part);
		hit = sieve_msg_headers(r, strbuf_cstr(&h), false, nd->index, nd->flags & NF_LAST,
					date_value, &d);
		strbuf_free(&h);
	} else {
		sieve_run_expand(r, r->s->lists[nd->sl[SL_P0]].first, &d.part);
		if (sieve_date_part(r->env->now, d.zone, strbuf_cstr(&d.part), &d.out) == 0)
			hit = match_value(r, strbuf_cstr(&d.out), d.out.len, m);
	}
	strbuf_free(&d.part);
	strbuf_free(&d.out);
	return hit;
}

struct dup_ctx {
	struct strbuf id;
	bool found;
};

static bool dup_header(struct sieve_run *r, const char *v, size_t len, void *ctx)
{
	struct dup_ctx *d = ctx;

	strbuf_append(&d->id, v, len);
	d->found = true;
	return true;
}

static bool test_duplicate(struct sieve_run *r, const struct sieve_node *nd)
{
	struct dup_ctx d = { STRBUF_INIT, false };
	struct strbuf handle = STRBUF_INIT;
	uint64_t secs = (nd->flags & NF_HAS_NUM) ? nd->num : 7 * 86400;
	bool seen = false;
	unsigned int n;

	if (nd->flags & NF_UNIQUEID) {
		sieve_run_expand(r, r->s->lists[nd->sl[SL_TAG]].first, &d.id);
		d.found = true;
	} else {
		struct strbuf h = STRBUF_INIT;

		if (nd->sl[SL_TAG] != 0)
			sieve_run_expand(r, r->s->lists[nd->sl[SL_TAG]].first, &h);
		else
			strbuf_append_str(&h, "message-id");
		sieve_msg_headers(r, strbuf_cstr(&h), false, 0, false, dup_header, &d);
		strbuf_free(&h);
	}
	if (nd->sl[SL_HANDLE] != 0)
		sieve_run_expand(r, r->s->lists[nd->sl[SL_HANDLE]].first, &handle);
	if (d.found) {
		if (r->env->duplicate_seen != NULL)
			seen = r->env->duplicate_seen(r->env->ctx, strbuf_cstr(&handle),
						      strbuf_cstr(&d.id), secs);
		if (!seen || (nd->flags & NF_LAST)) {
			struct sieve_result *res = r->res;
			char *e = malloc(handle.len + d.id.len + 2);

			if (e == NULL)
				abort();
			memcpy(e, strbuf_cstr(&handle), handle.len + 1);
			memcpy(e + handle.len + 1, strbuf_cstr(&d.id), d.id.len + 1);
			n = res->dup_count + 1;
			res->dup_ids = realloc(res->dup_ids, n * sizeof(*res->dup_ids));
			res->dup_seconds = realloc(res->dup_seconds, n * sizeof(*res->dup_seconds));
			if (res->dup_ids == NULL || res->dup_seconds == NULL)
				abort();
			res->dup_ids[res->dup_count] = e;
			res->dup_seconds[res->dup_count] = secs;
			res->dup_count = n;
		}
	}
	strbuf_free(&d.id);
	strbuf_free(&handle);
	return seen;
}

static bool test_score(struct sieve_run *r, const struct sieve_node *nd, struct mctx *m)
{
	int v = nd->id == SID_VIRUSTEST ? r->env->virus_score :
		(nd->flags & NF_PERCENT) ? r->env->spam_percent : r->env->spam_score;
	char num[16];

	/* not tested: "0" (RFC 5235 3.1, 3.2) */
	snprintf(num, sizeof(num), "%d", v < 0 ? 0 : v);
	return match_value(r, num, strlen(num), m);
}

static bool test_matching(struct sieve_run *r, const struct sieve_node *nd)
{
	struct mctx m;
	struct hdr_ctx h;
	bool hit = false;

	switch (nd->id) {
	case SID_ADDRESS: case SID_HEADER: case SID_ENVELOPE:
		mctx_init(&m, nd, nd->sl[SL_P1]);
		h.nd = nd;
		h.m = &m;
		hit = each_name(r, nd->sl[SL_P0], nd->id == SID_ENVELOPE ? envelope_one : header_one,
				&h);
		break;
	case SID_STRING:
		mctx_init(&m, nd, nd->sl[SL_P1]);
		hit = each_name(r, nd->sl[SL_P0], string_one, &m);
		break;
	case SID_BODY:
		mctx_init(&m, nd, nd->sl[SL_P0]);
		hit = sieve_msg_body(r, (enum sieve_body)nd->part, nd->sl[SL_TAG], match_value, &m);
		break;
	case SID_HASFLAG:
		mctx_init(&m, nd, nd->sl[SL_P0]);
		hit = test_hasflag(r, nd, &m);
		break;
	case SID_DATE: case SID_CURRENTDATE:
		mctx_init(&m, nd, nd->sl[nd->id == SID_DATE ? SL_P2 : SL_P1]);
		hit = test_date(r, nd, &m);
		break;
	default:
		mctx_init(&m, nd, nd->sl[SL_P0]);
		hit = test_score(r, nd, &m);
		break;
	}
	return match_finish(r, &m, hit);
}

bool sieve_run_test(struct sieve_run *r, uint32_t ni)
{
	const struct sieve_node *nd = &r->s->nodes[ni];
	uint32_t c;

	if (r->failed)
		return false;
	if (++r->res->steps > r->lim->max_steps) {
		sieve_run_fail(r, nd->line, "too many steps");
		return false;
	}
	switch (nd->id) {
	case SID_TRUE: return true;
	case SID_FALSE: return false;
	case SID_NOT: return !sieve_run_test(r, ni + 1) && !r->failed;
	case SID_ALLOF:
		for (c = ni + 1; c < nd->end; c = r->s->nodes[c].end)
			if (!sieve_run_test(r, c))
				return false;
		return true;
	case SID_ANYOF:
		for (c = ni + 1; c < nd->end; c = r->s->nodes[c].end)
			if (sieve_run_test(r, c))
				return true;
		return false;
	case SID_EXISTS:
		return !each_name(r, nd->sl[SL_P0], exists_one, NULL);
	case SID_SIZE:
		return (nd->flags & NF_UNDER) ? r->msg->size < nd->num : r->msg->size > nd->num;
	case SID_MAILBOXEXISTS:
		return !each_name(r, nd->sl[SL_P0], mailbox_missing, NULL);
	case SID_DUPLICATE:
		return test_duplicate(r, nd);
	default:
		return test_matching(r, nd);
	}
}
