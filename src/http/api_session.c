/* /api/v1/session: logging in (administrators by name, mail users by
 * address), who is logged in, and logging out. A login always makes a new
 * session id and drops the one the browser presented (session fixation). */
#include "http/api.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define API_COOKIE_ATTRS "Path=/; Secure; HttpOnly; SameSite=Strict"

static void api_session_reply(struct api_job *j, const struct ops_actor *a, const char *csrf)
{
	struct json *o = api_reply(j, 200);

	api_json_actor(o, a);
	json_kv_string(o, "csrf", csrf);
	api_reply_end(j);
}

/* Counts a refused login (not a temporary failure) for the metrics. */
static void api_login_refused(struct api_job *j, const char *code)
{
	if (j->env.login_refused != NULL && code != NULL &&
	    (strcmp(code, "bad_login") == 0 || strcmp(code, "rate_limited") == 0 ||
	     strcmp(code, "foreign_blocked") == 0))
		j->env.login_refused();
}

/* The credentials of the body into actor_r: false when answered. */
static bool api_session_check(struct api_job *j, struct ops_actor *actor_r)
{
	static const char *const names[] = { "kind", "name", "address", "password", NULL };
	const char *kind = NULL, *name = NULL, *password = NULL;
	struct ops_error err;
	int r;

	if (!api_body_object(j) || !api_body_only(j, names) || api_body_string(j, "kind", &kind) < 0 ||
	    api_body_string(j, "password", &password) < 0)
		return false;
	if (kind == NULL || (strcmp(kind, "admin") != 0 && strcmp(kind, "user") != 0)) {
		api_error(j, 400, "invalid_field", "kind", "kind must be \"admin\" or \"user\"",
			  "kind は \"admin\" か \"user\" にしてください");
		return false;
	}
	if (api_body_string(j, strcmp(kind, "admin") == 0 ? "name" : "address", &name) < 0)
		return false;
	if (name == NULL || password == NULL) {
		api_error(j, 400, "invalid_field", name == NULL ? (kind[0] == 'a' ? "name" : "address") : "password",
			  "the name (or address) and the password are required",
			  "名前 (またはアドレス) とパスワードが必要です");
		return false;
	}
	if (strcmp(kind, "admin") == 0) {
		if (j->env.admin_blocked != NULL && j->env.admin_blocked(j->ip, name)) {
			api_login_refused(j, "rate_limited");
			api_error(j, 429, "rate_limited", NULL,
				  "too many failed logins from this address: try again later",
				  "このアドレスからのログインの失敗が多すぎます。しばらくしてからお試しください");
			return false;
		}
		r = ops_admin_login(&j->ops, name, password, j->ip, actor_r, &err);
		if (r < 0 && err.code != NULL && strcmp(err.code, "bad_login") == 0 && j->env.admin_failed != NULL)
			j->delay_ms = j->env.admin_failed(j->ip, name);
	} else {
		r = ops_user_login(&j->ops, name, password, j->ip, j->env.login_check, j->env.login_ctx, actor_r,
				   &j->delay_ms, &err);
	}
	if (r < 0) {
		api_login_refused(j, err.code);
		api_ops_error(j, &err);
		return false;
	}
	return true;
}

void api_session_login(struct api_job *j)
{
	struct ops_actor actor;
	struct ops_error err;
	char id[OPS_SESSION_ID_LEN + 1], csrf[65];

	/* Whatever happens, a session id the browser brought is not reused. */
	if (j->cookie[0] != '\0')
		ops_session_end(&j->ops, j->cookie);
	if (!api_session_check(j, &actor))
		return;
	if (ops_session_create(&j->ops, &actor, time(NULL), j->env.session_idle, j->env.session_lifetime, id,
			       csrf, &err) < 0) {
		api_ops_error(j, &err);
		return;
	}
	snprintf(j->set_cookie, sizeof(j->set_cookie), "yubin_session=%s; " API_COOKIE_ATTRS, id);
	explicit_bzero(id, sizeof(id));
	api_session_reply(j, &actor, csrf);
	explicit_bzero(csrf, sizeof(csrf));
}

void api_session_get(struct api_job *j)
{
	api_session_reply(j, &j->actor, j->by_cookie ? j->csrf : "");
}

void api_session_logout(struct api_job *j)
{
	if (j->by_cookie)
		ops_session_end(&j->ops, j->cookie);
	snprintf(j->set_cookie, sizeof(j->set_cookie), "yubin_session=; Max-Age=0; " API_COOKIE_ATTRS);
	j->status = 204;
}
