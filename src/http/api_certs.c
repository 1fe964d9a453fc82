/* /api/v1/certs: the host names of the domains in the caller's scope and
 * their certificates (list, show), an administrator's own certificate
 * (PUT: import), and an ACME renewal handed to the daemon's certificate
 * thread (POST .../renew: 202, the order runs off the workers; the name's
 * state and the cert-issued / cert-failed events tell how it went). The
 * work is ops/ops_cert.c's. */
#include "http/api_admin.h"
#include "ops/ops_cert.h"

#include <stdlib.h>
#include <string.h>

static void api_cert_json(struct json *o, const struct ops_cert_info *c)
{
	json_kv_string(o, "name", c->name);
	json_kv_string(o, "domain", c->domain);
	json_kv_string(o, "source", c->source);
	json_kv_bool(o, "present", c->present);
	json_kv_bool(o, "covers", c->covers);
	json_kv_bool(o, "self_signed", c->self_signed);
	if (c->present) {
		api_json_time(o, "not_before", c->not_before);
		api_json_time(o, "not_after", c->not_after);
		api_json_time(o, "renew_at", c->renew_at);
		json_kv_string(o, "issuer", c->issuer);
		json_kv_string(o, "names", c->sans);
	}
	json_kv_uint(o, "failures", c->failures);
	if (c->next_try > 0)
		api_json_time(o, "next_try", c->next_try);
	json_kv_string(o, "last_error", c->last_error);
}

static void api_cert_row(const struct ops_cert_info *c, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	api_cert_json(o, c);
	json_object_end(o);
}

void api_certs_list(struct api_job *j)
{
	const char *domain = api_query(j, "domain");
	struct ops_error err;
	struct json *o;

	o = api_reply(j, 200);
	json_key(o, "certs");
	json_array_begin(o);
	if (ops_cert_list(&j->ops, &j->actor, domain, api_cert_row, o, &err) < 0) {
		api_ops_error(j, &err);	/* starts the reply again */
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

void api_cert_show(struct api_job *j)
{
	struct ops_cert_info info;
	struct ops_error err;
	struct json *o;

	if (ops_cert_show(&j->ops, &j->actor, j->params[0], &info, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	api_cert_json(o, &info);
	api_reply_end(j);
}

void api_cert_import(struct api_job *j)
{
	static const char *const names[] = { "certificate", "key", NULL };
	const char *cert = NULL, *key = NULL;
	struct ops_cert_info info;
	struct ops_error err;
	struct json *o;
	int rc, rk;

	if (!api_body_object(j) || !api_body_only(j, names))
		return;
	rc = api_body_string(j, "certificate", &cert);
	if (rc < 0)
		return;
	rk = api_body_string(j, "key", &key);
	if (rk < 0)
		return;
	if (rc == 0 || rk == 0) {
		api_error(j, 400, "missing_field", rc == 0 ? "certificate" : "key",
			  "certificate and key (PEM) are required", "certificate と key（PEM）が必要です");
		return;
	}
	j->ops.conf_reload = j->env.certs_reload;
	if (ops_cert_import(&j->ops, &j->actor, j->params[0], cert, key, &err) < 0 ||
	    ops_cert_show(&j->ops, &j->actor, j->params[0], &info, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	api_cert_json(o, &info);
	api_reply_end(j);
}

void api_cert_renew(struct api_job *j)
{
	static const char *const names[] = { "force", NULL };
	char domain[256];
	bool force = false;
	struct ops_error err;
	struct json *o;

	if (j->body != NULL && (!api_body_object(j) || !api_body_only(j, names) ||
				api_body_bool(j, "force", &force) < 0))
		return;
	if (ops_cert_name_check(&j->ops, &j->actor, j->params[0], domain, sizeof(domain), &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	if (j->env.certs_renew == NULL || !j->env.certs_renew(j->params[0], force)) {
		api_error(j, 503, "unavailable", NULL, "too many renewals are waiting; try again later",
			  "待っている更新が多すぎます。後でもう一度試してください");
		return;
	}
	ops_audit(&j->ops, &j->actor, "cert.renew", j->params[0], "requested%s", force ? " (forced)" : "");
	o = api_reply(j, 202);
	json_kv_string(o, "name", j->params[0]);
	json_kv_bool(o, "force", force);
	json_kv_string(o, "state", "queued");
	api_reply_end(j);
}
