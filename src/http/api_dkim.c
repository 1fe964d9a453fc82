/* /api/v1/domains/{domain}/dkim (keys; rotate, activate) and
 * /api/v1/domains/{domain}/dns (the MX, SPF, DKIM and DMARC records to
 * publish; ?check=1 adds what DNS answers now for each: published,
 * missing, different or unknown). ops/ops_dkim.c and ops/ops_dns.c do the
 * work; the check's lookups run here on the worker, bounded in time. */
#include "http/api_admin.h"
#include "settings/settings.h"

#include <stdlib.h>
#include <string.h>

#define API_DNS_CHECK_MS 8000
/* Checks running at once: each holds a worker for up to API_DNS_CHECK_MS,
 * so they may never take all the workers from the other requests. */
#define API_DNS_CHECKS_MAX 2

static unsigned api_dns_checks;

static void api_dkim_json(struct json *o, const struct ops_dkim_keys *k)
{
	json_kv_string(o, "domain", k->domain);
	json_key(o, "keys");
	json_array_begin(o);
	for (size_t i = 0; i < k->n; i++) {
		const struct ops_dkim_key *x = &k->keys[i];

		json_object_begin(o);
		json_kv_string(o, "selector", x->info.selector);
		json_kv_string(o, "algorithm", x->info.type == DKIM_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256");
		json_kv_string(o, "state", dkim_state_name(x->info.state));
		api_json_time(o, "since", x->info.since);
		if (x->info.state == DKIM_STATE_RETIRED)
			api_json_time(o, "publish_until", x->keep_until);
		json_kv_string(o, "dns_name", x->dns_name);
		json_kv_string(o, "record", x->record);
		json_object_end(o);
	}
	json_array_end(o);
}

typedef int api_dkim_op(struct ops *o, const struct ops_actor *actor, const char *domain, bool now,
			struct ops_dkim_keys *r, struct ops_error *err);

static int api_dkim_op_list(struct ops *o, const struct ops_actor *actor, const char *domain, bool now,
			    struct ops_dkim_keys *r, struct ops_error *err)
{
	(void)now;
	return ops_dkim_list(o, actor, domain, r, err);
}

static int api_dkim_op_activate(struct ops *o, const struct ops_actor *actor, const char *domain, bool now,
				struct ops_dkim_keys *r, struct ops_error *err)
{
	(void)now;
	return ops_dkim_activate(o, actor, domain, r, err);
}

static void api_dkim_run(struct api_job *j, api_dkim_op *op, bool now)
{
	struct ops_dkim_keys *k = malloc(sizeof(*k));
	struct ops_error err;
	struct json *o;

	if (k == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	if (op(&j->ops, &j->actor, j->params[0], now, k, &err) < 0) {
		api_ops_error(j, &err);
	} else {
		o = api_reply(j, 200);
		api_dkim_json(o, k);
		if (op != api_dkim_op_list)
			json_kv_bool(o, "signing_with_new_keys", k->switched);
		api_reply_end(j);
	}
	free(k);
}

void api_dkim_list(struct api_job *j)
{
	api_dkim_run(j, api_dkim_op_list, false);
}

void api_dkim_rotate(struct api_job *j)
{
	static const char *const names[] = { "now", NULL };
	bool now = false;

	/* the body is optional: {} or none rotates in two steps */
	if (j->body != NULL && (!api_body_object(j) || !api_body_only(j, names) || api_body_bool(j, "now", &now) < 0))
		return;
	api_dkim_run(j, ops_dkim_rotate, now);
}

void api_dkim_activate(struct api_job *j)
{
	api_dkim_run(j, api_dkim_op_activate, false);
}

void api_domain_dns(struct api_job *j)
{
	struct ops_dns_records *r = malloc(sizeof(*r));
	const char *check = api_query(j, "check");
	bool checked = check != NULL && strcmp(check, "1") == 0;
	struct ops_error err;
	struct json *o;

	if (r == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	if (check != NULL && !checked && strcmp(check, "0") != 0) {
		api_error(j, 400, "invalid_field", "check", "check is 0 or 1", "check は 0 か 1 です");
		free(r);
		return;
	}
	if (ops_dns_records(&j->ops, &j->actor, j->params[0], j->env.hostname, r, &err) < 0) {
		api_ops_error(j, &err);
		free(r);
		return;
	}
	if (checked) {
		if (__atomic_add_fetch(&api_dns_checks, 1, __ATOMIC_SEQ_CST) > API_DNS_CHECKS_MAX) {
			__atomic_sub_fetch(&api_dns_checks, 1, __ATOMIC_SEQ_CST);
			api_error(j, 429, "rate_limited", "check", "other DNS checks are running: try again shortly",
				  "ほかの DNS チェックが実行中です: 少し待ってからもう一度お試しください");
			free(r);
			return;
		}
		ops_dns_check(r, j->env.hostname, j->env.dns_resolver, API_DNS_CHECK_MS);
		__atomic_sub_fetch(&api_dns_checks, 1, __ATOMIC_SEQ_CST);
	}
	o = api_reply(j, 200);
	json_kv_string(o, "domain", r->domain);
	json_kv_string(o, settings_key(SETTING_CONF_HOSTNAME), j->env.hostname);
	json_kv_bool(o, "checked", checked);
	json_key(o, "records");
	json_array_begin(o);
	for (size_t i = 0; i < r->n; i++) {
		const struct ops_rr *rr = &r->rr[i];

		json_object_begin(o);
		json_kv_string(o, "purpose", rr->purpose);
		json_kv_string(o, "name", rr->name);
		json_kv_string(o, "type", rr->type);
		json_kv_string(o, "value", rr->value);
		json_kv_string(o, "explanation", rr->explain);
		if (checked) {
			json_kv_string(o, "dns", ops_dns_state_name(rr->state));
			json_kv_string(o, "found", rr->found);
		}
		json_object_end(o);
	}
	json_array_end(o);
	api_reply_end(j);
	free(r);
}
