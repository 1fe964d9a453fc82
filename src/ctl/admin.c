/* yubinctl admin add/list/del/passwd and token create/list/revoke: the
 * panel's administrators and the API's tokens. The work is in ops/. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "lib/json.h"
#include "lib/str.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define CTL_LINE_MAX 256
#define CTL_TOKEN_DEFAULT_EXPIRY (90ULL * 86400)

/* The --role and --domain options as a scope, domains lowercased and
 * checked; 0, or 1 or 2 (usage) after a message. */
static int ctl_scope(struct ctl *c, char names[][DIR_DOMAIN_MAX + 1], const char **ptrs,
		     struct ops_scope *scope)
{
	if (c->ndomains > OPS_DOMAINS_MAX) {
		fprintf(stderr, "yubinctl: at most %d --domain options\n", OPS_DOMAINS_MAX);
		return 2;
	}
	for (size_t i = 0; i < c->ndomains; i++) {
		if (ctl_domain_arg(c->domains[i], names[i], DIR_DOMAIN_MAX + 1) < 0)
			return 1;
		ptrs[i] = names[i];
	}
	scope->role = c->role;
	scope->domains = ptrs;
	scope->ndomains = c->ndomains;
	return 0;
}

int cmd_admin_add(struct ctl *c)
{
	char names[OPS_DOMAINS_MAX][DIR_DOMAIN_MAX + 1], password[CTL_LINE_MAX];
	const char *ptrs[OPS_DOMAINS_MAX];
	struct ops_scope scope;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	bool generated;
	int r;

	if ((r = ctl_scope(c, names, ptrs, &scope)) != 0)
		return r;
	if ((o = ctl_ops(c, &actor)) == NULL ||
	    ctl_password_obtain(c, c->argv[0], password, sizeof(password), &generated) != 0)
		return 1;
	r = ops_admin_add(o, &actor, c->argv[0], &scope, password, &err);
	if (r < 0) {
		explicit_bzero(password, sizeof(password));
		return ctl_ops_fail(&err);
	}
	printf("added administrator %s (role %s)\n", c->argv[0], scope.role);
	if (generated)
		printf("password: %s\n", password);
	explicit_bzero(password, sizeof(password));
	return 0;
}

struct ctl_list_ctx {
	struct json *j;
	unsigned count;
	int64_t now;
};

static void ctl_admin_cb(const struct dir_admin *a, void *ctx)
{
	struct ctl_list_ctx *lc = ctx;
	char created[32];

	lc->count++;
	ctl_time_iso(a->created, created, sizeof(created));
	if (lc->j == NULL) {
		printf("%-20s %-7s %s\n", a->name, a->role, a->domains[0] != '\0' ? a->domains : "(all domains)");
		return;
	}
	json_object_begin(lc->j);
	json_kv_string(lc->j, "name", a->name);
	json_kv_string(lc->j, "role", a->role);
	json_key(lc->j, "domains");
	json_array_begin(lc->j);
	for (const char *p = a->domains; *p != '\0';) {
		size_t len = strcspn(p, ",");

		json_string_n(lc->j, p, len);
		p += len + (p[len] == ',');
	}
	json_array_end(lc->j);
	json_kv_string(lc->j, "created", created);
	json_object_end(lc->j);
}

/* Runs a list function of ops/ with the JSON or text output around it. */
static int ctl_list(struct ctl *c, struct ctl_list_ctx *lc, int (*list)(struct ctl *, struct ops *,
			const struct ops_actor *, struct ctl_list_ctx *, struct ops_error *),
		    const char *none)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	struct json j;
	int r;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (c->json) {
		json_init(&j);
		json_array_begin(&j);
		lc->j = &j;
	}
	r = list(c, o, &actor, lc, &err);
	if (c->json) {
		json_array_end(&j);
		if (r < 0) {
			json_free(&j);
			return ctl_ops_fail(&err);
		}
		return ctl_json_print(&j);
	}
	if (r < 0)
		return ctl_ops_fail(&err);
	if (lc->count == 0)
		printf("%s\n", none);
	return 0;
}

static int ctl_admin_list_run(struct ctl *c, struct ops *o, const struct ops_actor *actor,
			      struct ctl_list_ctx *lc, struct ops_error *err)
{
	return ops_admin_list(o, actor, ctl_admin_cb, lc, err);
}

int cmd_admin_list(struct ctl *c)
{
	struct ctl_list_ctx lc = { NULL, 0, 0 };

	return ctl_list(c, &lc, ctl_admin_list_run,
			"no administrators (add one with yubinctl admin add NAME --role server)");
}

int cmd_admin_del(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_admin_del(o, &actor, c->argv[0], &err) < 0)
		return ctl_ops_fail(&err);
	printf("deleted administrator %s\n", c->argv[0]);
	return 0;
}

int cmd_admin_passwd(struct ctl *c)
{
	char password[CTL_LINE_MAX];
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	bool generated;
	int r;

	if ((o = ctl_ops(c, &actor)) == NULL ||
	    ctl_password_obtain(c, c->argv[0], password, sizeof(password), &generated) != 0)
		return 1;
	r = ops_admin_passwd(o, &actor, c->argv[0], password, &err);
	if (r < 0) {
		explicit_bzero(password, sizeof(password));
		return ctl_ops_fail(&err);
	}
	printf("password of administrator %s changed\n", c->argv[0]);
	if (generated)
		printf("password: %s\n", password);
	explicit_bzero(password, sizeof(password));
	return 0;
}

int cmd_token_create(struct ctl *c)
{
	char names[OPS_DOMAINS_MAX][DIR_DOMAIN_MAX + 1], token[OPS_TOKEN_TEXT_MAX], id[32];
	char expires[32];
	const char *ptrs[OPS_DOMAINS_MAX];
	uint64_t seconds = CTL_TOKEN_DEFAULT_EXPIRY;
	struct ops_scope scope;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	int r;

	if ((r = ctl_scope(c, names, ptrs, &scope)) != 0)
		return r;
	if (c->expires != NULL && (settings_duration_parse(c->expires, &seconds) < 0 || seconds == 0 ||
				   seconds > OPS_TOKEN_EXPIRES_MAX)) {
		fprintf(stderr, "yubinctl: --expires takes a duration from 1s to 3650d (30d, 12h),"
			" not '%s'\n", c->expires);
		return 2;
	}
	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_token_create(o, &actor, &scope, seconds, token, id, &err) < 0)
		return ctl_ops_fail(&err);
	ctl_time_text(time(NULL) + (int64_t)seconds, expires, sizeof(expires));
	printf("token %s (role %s) created, expires %s\n", id, scope.role, expires);
	printf("token: %s\n", token);
	printf("it is shown only now: keep it safe; yubinctl token revoke %s ends it\n", id);
	explicit_bzero(token, sizeof(token));
	return 0;
}

static void ctl_token_cb(const struct dir_token *t, void *ctx)
{
	struct ctl_list_ctx *lc = ctx;
	char created[32], expires[32], used[32];
	const char *state = t->revoked ? "revoked" : t->expires != 0 && lc->now >= t->expires ? "expired"
			    : "active";

	lc->count++;
	ctl_time_iso(t->created, created, sizeof(created));
	ctl_time_iso(t->expires, expires, sizeof(expires));
	ctl_time_iso(t->last_used, used, sizeof(used));
	if (lc->j == NULL) {
		printf("%-12s %-7s %-7s expires %s  last used %s  %s\n", t->id, state, t->role, expires,
		       t->last_used != 0 ? used : "never", t->domains[0] != '\0' ? t->domains : "(all domains)");
		return;
	}
	json_object_begin(lc->j);
	json_kv_string(lc->j, "id", t->id);
	json_kv_string(lc->j, "state", state);
	json_kv_string(lc->j, "role", t->role);
	json_kv_string(lc->j, "domains", t->domains);
	json_kv_string(lc->j, "created", created);
	json_kv_string(lc->j, "expires", expires);
	if (t->last_used != 0)
		json_kv_string(lc->j, "last_used", used);
	else
		json_kv_string(lc->j, "last_used", "");
	json_object_end(lc->j);
}

static int ctl_token_list_run(struct ctl *c, struct ops *o, const struct ops_actor *actor,
			      struct ctl_list_ctx *lc, struct ops_error *err)
{
	return ops_token_list(o, actor, ctl_token_cb, lc, err);
}

int cmd_token_list(struct ctl *c)
{
	struct ctl_list_ctx lc = { NULL, 0, (int64_t)time(NULL) };

	return ctl_list(c, &lc, ctl_token_list_run, "no API tokens (make one with yubinctl token create)");
}

int cmd_token_revoke(struct ctl *c)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_token_revoke(o, &actor, c->argv[0], &err) < 0)
		return ctl_ops_fail(&err);
	printf("token %s revoked\n", c->argv[0]);
	return 0;
}
