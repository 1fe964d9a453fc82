/* /api/v1/accounts/{address}/sieve: an account's Sieve scripts, on
 * ops_sieve.c (the rules ManageSieve and yubinctl use), and
 * /api/v1/sieve/check. */
#include "http/api.h"
#include "http/api_admin.h"

#include <stdlib.h>
#include <string.h>

static void api_sieve_limits(const struct api_job *j, struct ops_sieve_limits *lim)
{
	lim->max_script = j->env.sieve_max_script;
	lim->max_scripts = j->env.sieve_max_scripts;
}

static void api_sieve_row(const char *name, size_t size, bool active, void *ctx)
{
	struct json *o = ctx;

	json_object_begin(o);
	json_kv_string(o, "name", name);
	json_kv_uint(o, "size", size);
	json_kv_bool(o, "active", active);
	json_object_end(o);
}

void api_sieve_list(struct api_job *j)
{
	struct ops_error err;
	struct json *o = api_reply(j, 200);

	json_key(o, "scripts");
	json_array_begin(o);
	if (ops_sieve_list(&j->ops, &j->actor, j->params[0], api_sieve_row, o, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	json_array_end(o);
	api_reply_end(j);
}

static void api_sieve_active_cb(const char *name, size_t size, bool active, void *ctx)
{
	const char **want = ctx;

	if (active && strcmp(name, want[0]) == 0)
		want[1] = "";
}

void api_sieve_get(struct api_job *j)
{
	const char *probe[2] = { j->params[1], NULL };
	struct ops_error err;
	struct json *o;
	size_t len;
	char *text;

	if (ops_sieve_get(&j->ops, &j->actor, j->params[0], j->params[1], &text, &len, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	(void)ops_sieve_list(&j->ops, &j->actor, j->params[0], api_sieve_active_cb, probe, &err);
	o = api_reply(j, 200);
	json_kv_string(o, "name", j->params[1]);
	json_kv_string(o, "script", text);
	json_kv_bool(o, "active", probe[1] != NULL);
	api_reply_end(j);
	free(text);
}

/* The body's "script" (required) and, when activate is not NULL, its
 * "activate": false (answered) when the body is not that. */
static bool api_sieve_body(struct api_job *j, const char **script, bool *activate)
{
	static const char *const put_names[] = { "script", "activate", NULL };
	static const char *const check_names[] = { "script", NULL };

	*script = NULL;
	if (!api_body_object(j) || !api_body_only(j, activate != NULL ? put_names : check_names) ||
	    api_body_string(j, "script", script) < 0 ||
	    (activate != NULL && api_body_bool(j, "activate", activate) < 0))
		return false;
	if (*script == NULL) {
		api_error(j, 400, "invalid_field", "script", "script is required (a string)",
			  "script (文字列) が必要です");
		return false;
	}
	return true;
}

/* PUT {"script": "...", "activate": true|false}: stored only when it
 * compiles; an error names its line. */
void api_sieve_put(struct api_job *j)
{
	struct ops_sieve_limits lim;
	bool activate = false;
	struct ops_error err;
	const char *script;
	struct json *o;

	if (!api_sieve_body(j, &script, &activate))
		return;
	api_sieve_limits(j, &lim);
	if (ops_sieve_put(&j->ops, &j->actor, j->params[0], j->params[1], script, strlen(script), &lim, &err) < 0 ||
	    (activate && ops_sieve_activate(&j->ops, &j->actor, j->params[0], j->params[1], &err) < 0)) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "name", j->params[1]);
	json_kv_uint(o, "size", strlen(script));
	json_kv_bool(o, "active", activate);
	api_reply_end(j);
}

void api_sieve_delete(struct api_job *j)
{
	struct ops_error err;
	struct json *o;

	if (ops_sieve_delete(&j->ops, &j->actor, j->params[0], j->params[1], &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_kv_string(o, "name", j->params[1]);
	json_kv_bool(o, "deleted", true);
	api_reply_end(j);
}

static void api_sieve_activation(struct api_job *j, const char *name)
{
	struct ops_error err;
	struct json *o;

	if (ops_sieve_activate(&j->ops, &j->actor, j->params[0], name, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	api_json_string_or_null(o, "active", name);
	api_reply_end(j);
}

void api_sieve_activate(struct api_job *j)
{
	api_sieve_activation(j, j->params[1]);
}

void api_sieve_deactivate(struct api_job *j)
{
	api_sieve_activation(j, "");
}

/* POST /api/v1/sieve/check {"script"}: any logged-in caller. */
void api_sieve_check(struct api_job *j)
{
	struct ops_sieve_limits lim;
	struct ops_error err;
	const char *script;
	struct json *o;

	if (!api_sieve_body(j, &script, NULL))
		return;
	api_sieve_limits(j, &lim);
	if (ops_sieve_check(script, strlen(script), &lim, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	o = api_reply(j, 200);
	json_kv_bool(o, "valid", true);
	api_reply_end(j);
}
