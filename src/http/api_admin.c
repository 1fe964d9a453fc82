/* /api/v1/admins and /api/v1/tokens: panel administrators (server
 * administrators only) and API tokens (a domain administrator its own,
 * for its domains), on ops/ops_admin.c. A token's secret is in the reply
 * to its creation only. */
#include "http/api_admin.h"

#include <string.h>

/* The role and domains members of the body into scope (domains into the
 * caller's array); false when one was answered 400. */
static bool api_scope_body(struct api_job *j, struct ops_scope *scope, const char **domains)
{
	const struct json_value *v = json_member(j->body, "domains");
	const char *role = NULL;

	memset(scope, 0, sizeof(*scope));
	if (api_body_string(j, "role", &role) < 0)
		return false;
	if (role == NULL) {
		api_error(j, 400, "invalid_field", "role", "role (server or domain) is required",
			  "role (server か domain) が必要です");
		return false;
	}
	scope->role = role;
	scope->domains = domains;
	if (v == NULL)
		return true;
	if (v->type != JSON_ARRAY || v->count > OPS_DOMAINS_MAX) {
		api_error(j, 400, "invalid_field", "domains", "domains must be a list of at most 32 domain names",
			  "domains は 32 個までのドメイン名のリストにしてください");
		return false;
	}
	for (const struct json_value *d = v->child; d != NULL; d = d->next) {
		if ((domains[scope->ndomains] = json_value_str(d)) == NULL) {
			api_error(j, 400, "invalid_field", "domains", "domains must be a list of domain names",
				  "domains はドメイン名のリストにしてください");
			return false;
		}
		scope->ndomains++;
	}
	return true;
}

static void api_domains_json(struct json *o, const char *list)
{
	const char *p = list;

	json_key(o, "domains");
	json_array_begin(o);
	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n > 0)
			json_string_n(o, p, n);
		p += n;
		if (*p == ',')
			p++;
	}
	json_array_end(o);
}

static void api_admin_cb(const struct dir_admin *a, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "name", a->name);
	json_kv_string(o, "role", a->role);
	api_domains_json(o, a->domains);
	api_json_time(o, "created", a->created);
	json_object_end(o);
}

void api_admins_list(struct api_job *j)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "admins");
	json_array_begin(o);
	if (ops_admin_list(&j->ops, &j->actor, api_admin_cb, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

void api_admin_add(struct api_job *j)
{
	static const char *const names[] = { "name", "role", "domains", "password", NULL };
	const char *domains[OPS_DOMAINS_MAX], *name = NULL, *password = NULL;
	struct ops_scope scope;
	struct ops_error err;
	struct json *o;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "name", &name) < 0 ||
	    api_body_string(j, "password", &password) < 0 || !api_scope_body(j, &scope, domains))
		return;
	if (name == NULL || password == NULL) {
		api_error(j, 400, "invalid_field", name == NULL ? "name" : "password", "name and password are required",
			  "name と password が必要です");
		return;
	}
	if (ops_admin_add(&j->ops, &j->actor, name, &scope, password, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 201);
	json_key(o, "admin");
	json_object_begin(o);
	json_kv_string(o, "name", name);
	json_kv_string(o, "role", scope.role);
	json_key(o, "domains");
	json_array_begin(o);
	for (size_t i = 0; i < scope.ndomains; i++)
		json_string(o, domains[i]);
	json_array_end(o);
	json_object_end(o);
	api_reply_end(j);
}

void api_admin_del(struct api_job *j)
{
	struct ops_error err;

	if (ops_admin_del(&j->ops, &j->actor, j->params[0], &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	j->status = 204;
}

void api_admin_password(struct api_job *j)
{
	static const char *const names[] = { "password", NULL };
	const char *password = NULL;
	struct ops_error err;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "password", &password) < 0)
		return;
	if (password == NULL) {
		api_error(j, 400, "invalid_field", "password", "password is required", "password が必要です");
		return;
	}
	if (ops_admin_passwd(&j->ops, &j->actor, j->params[0], password, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	j->status = 204;
}

/* ---- tokens ---- */

static void api_token_cb(const struct dir_token *t, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "id", t->id);
	json_kv_string(o, "role", t->role);
	api_domains_json(o, t->domains);
	api_json_time(o, "created", t->created);
	json_key(o, "expires");
	if (t->expires != 0)
		api_json_time(o, NULL, t->expires);
	else
		json_null(o);
	json_key(o, "last_used");
	if (t->last_used != 0)
		api_json_time(o, NULL, t->last_used);
	else
		json_null(o);
	json_kv_bool(o, "revoked", t->revoked);
	json_object_end(o);
}

void api_tokens_list(struct api_job *j)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "tokens");
	json_array_begin(o);
	if (ops_token_list(&j->ops, &j->actor, api_token_cb, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

void api_token_create(struct api_job *j)
{
	static const char *const names[] = { "role", "domains", "expires_in", NULL };
	const char *domains[OPS_DOMAINS_MAX];
	char token[OPS_TOKEN_TEXT_MAX], id[32];
	uint64_t expires_in = 90 * 86400;
	struct ops_scope scope;
	struct ops_error err;
	struct json *o;

	if (!api_body_object(j) || !api_body_only(j, names) || !api_scope_body(j, &scope, domains) ||
	    api_body_uint(j, "expires_in", OPS_TOKEN_EXPIRES_MAX, &expires_in) < 0)
		return;
	if (ops_token_create(&j->ops, &j->actor, &scope, expires_in, token, id, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 201);
	json_kv_string(o, "id", id);
	json_kv_string(o, "token", token);
	api_reply_end(j);
	explicit_bzero(token, sizeof(token));
}

void api_token_revoke(struct api_job *j)
{
	struct ops_error err;

	if (ops_token_revoke(&j->ops, &j->actor, j->params[0], &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	j->status = 204;
}
