/* /api/v1/settings/schema and the settings of a domain or an account:
 * everything comes from the one settings table (settings/), so the panel
 * renders its forms from the schema and ops_setting_set checks values. */
#include "http/api.h"

#include <stdlib.h>
#include <string.h>

static const char *api_type_name(enum setting_type t)
{
	static const char *const names[] = {
		[SETTING_BOOL] = "bool", [SETTING_UINT] = "uint", [SETTING_PORT] = "port",
		[SETTING_SIZE] = "size", [SETTING_DURATION] = "duration", [SETTING_LIMIT] = "limit",
		[SETTING_ENUM] = "enum", [SETTING_STRING] = "string", [SETTING_HOSTNAME] = "host_name",
		[SETTING_ADDRESS] = "address", [SETTING_ADDRESS_LIST] = "address_list",
		[SETTING_IP_LIST] = "ip_list", [SETTING_CIDR_LIST] = "cidr_list", [SETTING_COUNTRY] = "country",
	};

	return (size_t)t < sizeof(names) / sizeof(names[0]) && names[t] != NULL ? names[t] : "string";
}

static void api_schema_one(struct json *o, const struct setting *s)
{
	json_object_begin(o);
	json_kv_string(o, "key", s->key);
	json_key(o, "scopes");
	json_array_begin(o);
	if (s->scopes & SETTING_DOMAIN)
		json_string(o, "domain");
	if (s->scopes & SETTING_ACCOUNT)
		json_string(o, "account");
	json_array_end(o);
	json_kv_string(o, "type", api_type_name(s->type));
	json_key(o, "default");
	if (s->def != NULL)
		json_string(o, s->def);
	else
		json_null(o);
	if (s->type == SETTING_UINT) {
		json_kv_uint(o, "min", s->min);
		json_kv_uint(o, "max", s->max);
	}
	if (s->choices != NULL) {
		json_key(o, "choices");
		json_array_begin(o);
		for (size_t c = 0; s->choices[c] != NULL; c++)
			json_string(o, s->choices[c]);
		json_array_end(o);
	}
	api_json_help(o, s->help_en, s->help_ja);
	json_object_end(o);
}

void api_settings_schema(struct api_job *j)
{
	struct json *o = api_reply(j, 200);

	json_key(o, "settings");
	json_array_begin(o);
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		if (settings_table[i].scopes & (SETTING_DOMAIN | SETTING_ACCOUNT))
			api_schema_one(o, &settings_table[i]);
	}
	json_array_end(o);
	api_reply_end(j);
}

static void api_setting_row(const struct ops_setting_row *row, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "key", row->s->key);
	json_kv_string(o, "value", row->value);
	json_key(o, "default");
	if (row->s->def != NULL)
		json_string(o, row->s->def);
	else
		json_null(o);
	json_kv_bool(o, "set", row->set);
	json_object_end(o);
}

static void api_settings_get(struct api_job *j, enum setting_scope scope)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "settings");
	json_array_begin(o);
	if (ops_setting_list(&j->ops, &j->actor, scope, j->params[0], api_setting_row, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

static void api_setting_put(struct api_job *j, enum setting_scope scope)
{
	static const char *const names[] = { "value", NULL };
	struct ops_setting_result *r = calloc(1, sizeof(*r));
	const char *value = NULL;
	struct ops_error err;
	struct json *o;

	if (r == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "value", &value) < 0)
		goto out;
	if (value == NULL) {
		api_error(j, 400, "invalid_field", "value", "value is required (a string)",
			  "value (文字列) が必要です");
		goto out;
	}
	if (ops_setting_set(&j->ops, &j->actor, scope, j->params[0], j->params[1], value, r, &err) < 0) {
		/* a bad value is named by its setting's key; the request's field
		 * is value (the key stays in the message) */
		api_ops_error_at(j, &err,
				 err.code != NULL && strcmp(err.code, "invalid_value") == 0 ? "value" : err.field);
		goto out;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "key", r->s->key);
	json_kv_string(o, "value", settings_display(r->s, r->value, false));
	api_json_string_or_null(o, "warning", r->warn);
	api_reply_end(j);
out:
	free(r);
}

static void api_setting_delete(struct api_job *j, enum setting_scope scope)
{
	struct ops_setting_result *r = calloc(1, sizeof(*r));
	struct ops_error err;
	struct json *o;

	if (r == NULL) {
		api_error(j, 500, "internal", NULL, "out of memory", "メモリ不足です");
		return;
	}
	if (ops_setting_unset(&j->ops, &j->actor, scope, j->params[0], j->params[1], r, &err) < 0) {
		api_ops_error(j, &err);
		free(r);
		return;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "key", r->s->key);
	json_kv_string(o, "value", settings_display(r->s, r->value, false));
	json_kv_bool(o, "removed", r->changed);
	api_reply_end(j);
	free(r);
}

void api_domain_settings_get(struct api_job *j)
{
	api_settings_get(j, SETTING_DOMAIN);
}

void api_account_settings_get(struct api_job *j)
{
	api_settings_get(j, SETTING_ACCOUNT);
}

void api_domain_setting_put(struct api_job *j)
{
	api_setting_put(j, SETTING_DOMAIN);
}

void api_account_setting_put(struct api_job *j)
{
	api_setting_put(j, SETTING_ACCOUNT);
}

void api_domain_setting_delete(struct api_job *j)
{
	api_setting_delete(j, SETTING_DOMAIN);
}

void api_account_setting_delete(struct api_job *j)
{
	api_setting_delete(j, SETTING_ACCOUNT);
}
