/* /api/v1/security: the events with filters, the brute-force blocks in
 * force (and lifting one), the accounts whose sending is suspended; and
 * the helpers the administration's resources share (api_admin.h). Who
 * sees what is decided in ops/ops_log.c. */
#include "http/api_admin.h"
#include "lib/str.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int api_query_uint(struct api_job *j, const char *name, uint64_t max, uint64_t *out)
{
	const char *v = api_query(j, name);
	char en[160], ja[200];

	if (v == NULL)
		return 0;
	if (str_parse_uint(v, max, out) == 0)
		return 1;
	snprintf(en, sizeof(en), "%s must be a whole number from 0 to %llu", name, (unsigned long long)max);
	snprintf(ja, sizeof(ja), "%s は 0 から %llu までの整数にしてください", name, (unsigned long long)max);
	api_error(j, 400, "invalid_field", name, en, ja);
	return -1;
}

void api_json_time(struct json *o, const char *key, int64_t ts)
{
	time_t t = (time_t)ts;
	struct tm tm;
	char buf[40];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (key != NULL)
		json_key(o, key);
	json_string(o, buf);
}

bool api_log_query(struct api_job *j, struct ops_log_query *q)
{
	uint64_t limit = 0, before = 0, since = 0;

	memset(q, 0, sizeof(*q));
	if (api_query_uint(j, "limit", OPS_LOG_LIMIT_MAX, &limit) < 0 ||
	    api_query_uint(j, "before", INT64_MAX, &before) < 0 || api_query_uint(j, "since", INT64_MAX, &since) < 0)
		return false;
	q->limit = (unsigned)limit;
	q->before = (int64_t)before;
	q->since = (int64_t)since;
	q->domain = api_query(j, "domain");
	q->address = api_query(j, "address");
	q->kind = api_query(j, "kind");
	q->actor = api_query(j, "actor");
	return true;
}

void api_json_event(struct json *o, const struct dir_event *e, bool ja)
{
	char text[1800];

	if (ja)
		ops_event_explain_ja(e, text, sizeof(text));
	else
		ops_event_explain(e, text, sizeof(text));
	json_object_begin(o);
	json_kv_int(o, "id", e->id);
	api_json_time(o, "time", e->ts);
	json_kv_string(o, "kind", e->kind);
	json_kv_string(o, "address", e->address);
	json_kv_string(o, "ip", e->ip);
	json_kv_string(o, "detail", e->detail);
	json_kv_string(o, "text", text);
	json_object_end(o);
}

void api_page_begin(struct api_job *j, struct api_page *p, const char *key)
{
	p->o = api_reply(j, 200);
	json_key(p->o, key);
	json_array_begin(p->o);
}

void api_page_row(struct api_page *p, int64_t id)
{
	p->n++;
	p->last = id;
}

void api_page_event_cb(const struct dir_event *e, void *ctx)
{
	struct api_page *p = ctx;

	api_json_event(p->o, e, p->ja);
	api_page_row(p, e->id);
}

void api_page_end(struct api_page *p, unsigned limit)
{
	json_array_end(p->o);
	json_key(p->o, "next_before");
	if (p->n > 0 && p->n == (limit == 0 ? OPS_LOG_LIMIT_DEFAULT : limit))
		json_int(p->o, p->last);
	else
		json_null(p->o);
}

void api_security_events(struct api_job *j)
{
	struct ops_log_query q;
	struct ops_error err;
	struct api_page p = { NULL, j->ja, 0, 0 };

	if (!api_log_query(j, &q))
		return;
	q.actor = NULL;
	api_page_begin(j, &p, "events");
	if (ops_security_events(&j->ops, &j->actor, &q, api_page_event_cb, &p, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	api_page_end(&p, q.limit);
	api_reply_end(j);
}

static void api_block_cb(const struct dir_auth_block *b, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "key", b->key);
	json_kv_string(o, "kind", b->kind);
	api_json_time(o, "since", b->since);
	api_json_time(o, "until", b->until);
	json_kv_uint(o, "failures", b->failures);
	json_kv_string(o, "detail", b->detail);
	json_object_end(o);
}

void api_security_blocks(struct api_job *j)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "blocks");
	json_array_begin(o);
	if (ops_security_blocks(&j->ops, &j->actor, api_block_cb, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

void api_security_unblock(struct api_job *j)
{
	static const char *const names[] = { "target", NULL };
	char key[DIR_ADDRESS_MAX + 1];
	const char *target = NULL;
	struct ops_error err;
	struct json *o;
	bool removed;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "target", &target) < 0)
		return;
	if (target == NULL) {
		api_error(j, 400, "invalid_field", "target", "target (an IP address or a mail address) is required",
			  "target (IP アドレスかメールアドレス) が必要です");
		return;
	}
	if (ops_security_unblock(&j->ops, &j->actor, target, key, &removed, &err) < 0) {
		/* a bad address is the request's target */
		api_ops_error_at(j, &err, err.field != NULL ? "target" : NULL);
		return;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "key", key);
	json_kv_bool(o, "removed", removed);
	api_reply_end(j);
}

static void api_hold_cb(const struct dir_hold *h, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "address", h->address);
	api_json_time(o, "since", h->since);
	json_kv_string(o, "reason", h->reason);
	json_kv_string(o, "detail", h->detail);
	json_object_end(o);
}

void api_security_suspended(struct api_job *j)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "suspended");
	json_array_begin(o);
	if (ops_security_suspended(&j->ops, &j->actor, api_hold_cb, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}
