/* /api/v1/domains: the domains an administrator may see, adding one and
 * deleting one (server administrators only; ops/ decides). */
#include "http/api.h"

#include <stdio.h>
#include <string.h>

static void api_domain_json(const struct dir_domain *d, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "name", d->name);
	json_kv_uint(o, "accounts", d->accounts);
	json_object_end(o);
}

void api_domains_list(struct api_job *j)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "domains");
	json_array_begin(o);
	if (ops_domain_list(&j->ops, &j->actor, api_domain_json, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

void api_domain_add(struct api_job *j)
{
	static const char *const names[] = { "name", NULL };
	const char *name = NULL;
	char canonical[DIR_DOMAIN_MAX + 1];
	struct ops_error err;
	bool mkdir_failed;
	struct json *o;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "name", &name) < 0)
		return;
	if (name == NULL) {
		api_error(j, 400, "invalid_field", "name", "name is required", "name が必要です");
		return;
	}
	if (ops_domain_add(&j->ops, &j->actor, name, canonical, &mkdir_failed, &err) < 0) {
		/* the domain the operation refuses is the request's name */
		api_ops_error_at(j, &err,
				 err.field != NULL && strcmp(err.field, "domain") == 0 ? "name" : err.field);
		return;
	}
	o = api_reply(j, 201);
	json_key(o, "domain");
	json_object_begin(o);
	json_kv_string(o, "name", canonical);
	json_object_end(o);
	api_reply_end(j);
}

void api_domain_del(struct api_job *j)
{
	const char *force = api_query(j, "force");
	struct ops_domain_del_result r;
	struct ops_error err;
	struct json *o;

	if (ops_domain_del(&j->ops, &j->actor, j->params[0], force != NULL && strcmp(force, "1") == 0, &r,
			   &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_key(o, "deleted");
	json_object_begin(o);
	json_kv_string(o, "name", r.name);
	json_kv_uint(o, "accounts", r.accounts);
	json_kv_bool(o, "mail_left", r.mail_left);
	if (r.on_nodes > 0)
		json_kv_uint(o, "on_nodes", r.on_nodes);	/* mailboxes their nodes delete */
	json_object_end(o);
	api_reply_end(j);
}
