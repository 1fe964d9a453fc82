/* GET /api/v1/doctor?address=A[&since=7d]: what yubinctl doctor says about an
 * address, as data: each check (ok, warn, fail) with its question and fix
 * (flat in checks, and grouped by question in groups), the recent events
 * explained (both in the request's language), and the counts; the live
 * DNS check within API_DOCTOR_DNS_MS. Server administrators, and domain
 * administrators for their domains (ops/ops_doctor.c). */
#include "http/api_admin.h"

#include <stdlib.h>

#define API_DOCTOR_DNS_MS 3000
/* Doctors checking DNS at once: each holds a worker up to
 * API_DOCTOR_DNS_MS; past this many the DNS check is left out. */
#define API_DOCTOR_DNS_MAX 2

static unsigned api_doctor_dns;

static const char *api_doctor_level(enum ops_doctor_level l)
{
	return l == OPS_DOCTOR_FAIL ? "fail" : l == OPS_DOCTOR_WARN ? "warn" : "ok";
}

/* A finding: its level, question, one-line cause and fix in the
 * request's language, and the fix as a yubinctl command and the setting
 * (panel field) to change. */
static void api_doctor_check(struct json *o, const struct ops_doctor_check *c, bool ja)
{
	json_object_begin(o);
	json_kv_string(o, "level", api_doctor_level(c->level));
	json_kv_string(o, "group", ops_doctor_group_id(c->group));
	json_kv_string(o, "text", ja ? c->ja : c->text);
	json_key(o, "fix");
	json_object_begin(o);
	json_kv_string(o, "command", c->command);
	json_kv_string(o, "setting", c->setting);
	json_object_end(o);
	json_object_end(o);
}

void api_doctor(struct api_job *j)
{
	const char *address = api_query(j, "address"), *since = api_query(j, "since");
	unsigned days = OPS_DOCTOR_DAYS;
	struct ops_doctor_opts opts;
	struct ops_doctor *d;
	bool dns;
	int r;
	struct ops_error err;
	struct json *o;

	if (address == NULL) {
		api_error(j, 400, "invalid_field", "address", "address is required: ?address=",
			  "address が必要です: ?address=");
		return;
	}
	if (since != NULL && ops_doctor_days_parse(since, &days) < 0) {
		api_error(j, 400, "invalid_field", "since", "since takes a duration from 1s to 366d (7d, 48h)",
			  "since には 1s から 366d までの期間を指定してください (7d、48h など)");
		return;
	}
	if ((d = malloc(sizeof(*d))) == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	opts.days = days;
	opts.hostname = j->env.hostname;
	opts.resolver = j->env.dns_resolver;
	dns = __atomic_add_fetch(&api_doctor_dns, 1, __ATOMIC_SEQ_CST) <= API_DOCTOR_DNS_MAX;
	opts.dns_timeout_ms = dns ? API_DOCTOR_DNS_MS : 0;
	r = ops_doctor_run(&j->ops, &j->actor, address, &opts, d, &err);
	__atomic_sub_fetch(&api_doctor_dns, 1, __ATOMIC_SEQ_CST);
	if (r < 0) {
		api_ops_error(j, &err);
		free(d);
		return;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "address", d->address);
	json_key(o, "checks");
	json_array_begin(o);
	for (size_t i = 0; i < d->nchecks; i++)
		api_doctor_check(o, &d->checks[i], j->ja);
	json_array_end(o);
	json_key(o, "groups");
	json_array_begin(o);
	for (int g = 0; g < OPS_DQ_COUNT; g++) {
		json_object_begin(o);
		json_kv_string(o, "id", ops_doctor_group_id((enum ops_doctor_group)g));
		json_kv_string(o, "title", ops_doctor_group_title((enum ops_doctor_group)g, j->ja));
		json_key(o, "findings");
		json_array_begin(o);
		for (size_t i = 0; i < d->nchecks; i++) {
			if ((int)d->checks[i].group == g)
				api_doctor_check(o, &d->checks[i], j->ja);
		}
		json_array_end(o);
		json_object_end(o);
	}
	json_array_end(o);
	json_key(o, "events");
	json_array_begin(o);
	for (size_t i = 0; i < d->nevents; i++)
		api_json_event(o, &d->events[i].e, j->ja);
	json_array_end(o);
	json_kv_uint(o, "problems", d->problems);
	json_kv_uint(o, "warnings", d->warnings);
	json_kv_uint(o, "days", d->days);
	api_reply_end(j);
	free(d);
}
