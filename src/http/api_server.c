/* /api/v1/server/settings (yubin.conf), /api/v1/geoip/... (the override
 * table and what an address maps to) and an account's index rebuild.
 * Settings and GeoIP are for server administrators only; a secret's value
 * never leaves masked. A changed setting is applied at once by the
 * daemon's reload (the hook env.conf_reload, what SIGHUP does) unless it
 * applies only at a restart. */
#include "http/api_server.h"
#include "http/api_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- server settings ---- */

static void api_server_setting_row(const struct setting *s, const char *value, void *ctx)
{
	struct json *o = ctx;
	char type[256];

	settings_type_text(s, type, sizeof(type));
	json_object_begin(o);
	json_kv_string(o, "key", s->key);
	json_kv_string(o, "value", value);	/* masked by ops_conf_list */
	json_kv_string(o, "default", (s->flags & SETTING_SECRET) ? "" : s->def);
	json_kv_string(o, "type", type);
	json_kv_bool(o, "secret", (s->flags & SETTING_SECRET) != 0);
	json_kv_bool(o, "restart", (s->flags & SETTING_RESTART) != 0);
	api_json_help(o, s->help_en, s->help_ja);
	json_object_end(o);
}

void api_server_settings_get(struct api_job *j)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "settings");
	json_array_begin(o);
	if (ops_conf_list(&j->ops, &j->actor, false, api_server_setting_row, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

void api_server_setting_put(struct api_job *j)
{
	static const char *const names[] = { "value", NULL };
	struct ops_conf_result *r;
	const char *value = NULL;
	struct ops_error err;
	struct json *o;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "value", &value) < 0)
		return;
	if (value == NULL) {
		api_error(j, 400, "invalid_field", "value", "value is required (a string)",
			  "value (文字列) が必要です");
		return;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	j->ops.conf_reload = j->env.conf_reload;
	if (ops_conf_set(&j->ops, &j->actor, j->params[0], value, r, &err) < 0) {
		api_ops_error(j, &err);
		free(r);
		return;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "key", r->s->key);
	json_kv_string(o, "value", r->value);
	json_kv_string(o, "previous", r->old);
	/* now: the running daemon uses it; restart: only when yubind restarts */
	json_kv_string(o, "applies", r->reloaded && !r->restart ? "now" : "restart");
	api_json_string_or_null(o, "warning", r->warn);
	api_reply_end(j);
	explicit_bzero(r, sizeof(*r));
	free(r);
}

/* ---- GeoIP ---- */

static void api_override_row(const char *cidr, const char *country, int64_t created, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "cidr", cidr);
	json_kv_string(o, "country", country);
	api_json_time(o, "created", created);
	json_object_end(o);
}

void api_geoip_overrides_list(struct api_job *j)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "overrides");
	json_array_begin(o);
	if (ops_geoip_override_list(&j->ops, &j->actor, api_override_row, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

/* A required string member of the body: false when answered 400. */
static bool api_need_string(struct api_job *j, const char *name, const char **out)
{
	char en[80], ja[80];

	*out = NULL;
	if (api_body_string(j, name, out) < 0)
		return false;
	if (*out != NULL)
		return true;
	snprintf(en, sizeof(en), "%s is required (a string)", name);
	snprintf(ja, sizeof(ja), "%s (文字列) が必要です", name);
	api_error(j, 400, "invalid_field", name, en, ja);
	return false;
}

void api_geoip_override_add(struct api_job *j)
{
	static const char *const names[] = { "cidr", "country", NULL };
	const char *cidr, *cc;
	char cidr_r[OPS_CIDR_MAX], cc_r[3];
	struct ops_error err;
	struct json *o;

	if (!api_body_object(j) || !api_body_only(j, names) || !api_need_string(j, "cidr", &cidr) ||
	    !api_need_string(j, "country", &cc))
		return;
	if (ops_geoip_override_add(&j->ops, &j->actor, cidr, cc, cidr_r, cc_r, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 201);
	json_kv_string(o, "cidr", cidr_r);
	json_kv_string(o, "country", cc_r);
	api_reply_end(j);
}

/* The CIDR holds a '/', so it comes as ?cidr= or in the body, not in the
 * path. */
void api_geoip_override_del(struct api_job *j)
{
	static const char *const names[] = { "cidr", NULL };
	const char *cidr = api_query(j, "cidr");
	char cidr_r[OPS_CIDR_MAX];
	struct ops_error err;

	if (cidr == NULL && j->body == NULL) {
		api_error(j, 400, "invalid_field", "cidr", "cidr is required (?cidr= or {\"cidr\"})",
			  "cidr (?cidr= または {\"cidr\"}) が必要です");
		return;
	}
	if (cidr == NULL && (!api_body_object(j) || !api_body_only(j, names) || !api_need_string(j, "cidr", &cidr)))
		return;
	if (ops_geoip_override_del(&j->ops, &j->actor, cidr, cidr_r, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	j->status = 204;
}

void api_geoip_lookup(struct api_job *j)
{
	const char *ip = api_query(j, "ip");
	struct ops_geoip_answer r;
	struct ops_error err;
	struct json *o;

	if (ip == NULL) {
		api_error(j, 400, "invalid_field", "ip", "ip is required", "ip が必要です");
		return;
	}
	if (ops_geoip_lookup(&j->ops, &j->actor, ip, &r, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "ip", ip);
	api_json_string_or_null(o, "country", r.country);
	json_kv_string(o, "source", ops_geoip_source_name(r.source));
	api_json_string_or_null(o, "override", r.override_cidr);
	json_key(o, "database");
	json_object_begin(o);
	json_kv_string(o, "status", r.db == GEOIP_FOUND ? "found" : r.db == GEOIP_NOT_FOUND ? "not_found"
				    : "unavailable");
	api_json_string_or_null(o, "country", r.db_country);
	api_json_string_or_null(o, "error", r.db_error);
	json_object_end(o);
	api_reply_end(j);
}

/* ---- an account's index ---- */

static void api_index_folder(const char *name, size_t messages, uint32_t uidvalidity, uint32_t uidnext,
			     bool failed, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "name", name);
	json_kv_bool(o, "failed", failed);
	json_kv_uint(o, "messages", messages);
	json_kv_uint(o, "uidvalidity", uidvalidity);
	json_kv_uint(o, "uidnext", uidnext);
	json_object_end(o);
}

void api_account_index_rebuild(struct api_job *j)
{
	static const char *const names[] = { "force", NULL };
	struct ops_index_result *r;
	struct ops_error err;
	struct json *o;
	bool force = false;

	if (j->body != NULL && (!api_body_object(j) || !api_body_only(j, names) ||
				api_body_bool(j, "force", &force) < 0))
		return;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	o = api_reply(j, 200);
	json_key(o, "folder_list");	/* an in-place sync's folders; [] for a new index */
	json_array_begin(o);
	if (ops_index_rebuild(&j->ops, &j->actor, j->params[0], force, api_index_folder, o, r, &err) < 0) {
		api_ops_error(j, &err);
		free(r);
		return;
	}
	json_array_end(o);
	json_kv_string(o, "address", r->address);
	json_kv_bool(o, "new_index", r->whole);
	json_kv_bool(o, "damaged", r->corrupt);
	json_kv_uint(o, "folders", r->folders);
	json_kv_uint(o, "messages", r->messages);
	json_kv_uint(o, "failed", r->failed);
	json_kv_string(o, "detail", r->detail);
	json_kv_uint(o, "search_messages", r->search_messages);
	api_reply_end(j);
	free(r);
}
