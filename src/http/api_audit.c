/* GET /api/v1/audit: who changed what, when and from where, newest first;
 * filters address (a target: a domain takes its addresses along), actor
 * ("admin:alice"), domain, before (an id: the next page) and limit. A
 * domain administrator sees the rows about its domains (ops/ops_log.c). */
#include "http/api_admin.h"

#include <string.h>

static void api_audit_cb(const struct dir_audit *a, void *ctx)
{
	struct api_page *p = ctx;
	struct json *o = p->o;

	json_object_begin(o);
	json_kv_int(o, "id", a->id);
	api_json_time(o, "time", a->ts);
	json_kv_string(o, "actor", a->actor);
	json_kv_string(o, "ip", a->ip);
	json_kv_string(o, "operation", a->op);
	json_kv_string(o, "target", a->target);
	json_kv_string(o, "summary", a->summary);
	json_object_end(o);
	api_page_row(p, a->id);
}

void api_audit_list(struct api_job *j)
{
	struct api_page p = { NULL, false, 0, 0 };
	struct ops_log_query q;
	struct ops_error err;

	if (!api_log_query(j, &q))
		return;
	q.kind = NULL;
	api_page_begin(j, &p, "audit");
	if (ops_audit_list(&j->ops, &j->actor, &q, api_audit_cb, &p, &err) < 0) {
		/* the query calls the target address */
		api_ops_error_at(j, &err,
				 err.field != NULL && strcmp(err.field, "target") == 0 ? "address" : err.field);
		return;
	}
	api_page_end(&p, q.limit);
	api_reply_end(j);
}
