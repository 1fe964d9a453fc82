/* GET /api/v1/doctor?address=A[&since=7d]: what yubinctl doctor says about an
 * address, as data: each check (ok, warn, fail) with its fix, the recent
 * events explained (both in the request's language), and the counts. Server administrators, and domain
 * administrators for their domains (ops/ops_doctor.c). */
#include "http/api_admin.h"

#include <stdlib.h>

static const char *api_doctor_level(enum ops_doctor_level l)
{
	return l == OPS_DOCTOR_FAIL ? "fail" : l == OPS_DOCTOR_WARN ? "warn" : "ok";
}

void api_doctor(struct api_job *j)
{
	const char *address = api_query(j, "address"), *since = api_query(j, "since");
	unsigned days = OPS_DOCTOR_DAYS;
	struct ops_doctor *d;
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
	if (ops_doctor_since(&j->ops, &j->actor, address, days, d, &err) < 0) {
		api_ops_error(j, &err);
		free(d);
		return;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "address", d->address);
	json_key(o, "checks");
	json_array_begin(o);
	for (size_t i = 0; i < d->nchecks; i++) {
		json_object_begin(o);
		json_kv_string(o, "level", api_doctor_level(d->checks[i].level));
		json_kv_string(o, "text", j->ja ? d->checks[i].ja : d->checks[i].text);
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
