/* Administrators (panel log-ins) and API tokens: their scopes, creation,
 * removal and the checks that turn a log-in or a bearer token into an
 * actor. */
#include "ops/ops.h"
#include "directory/password.h"
#include "directory/validate.h"
#include "lib/str.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TOKEN_PREFIX "yubin_"

static int ops_forbidden(struct ops_error *err, const char *what)
{
	return ops_fail(err, "forbidden", NULL, "you may not manage %s", "%s を管理する権限がありません",
			what);
}

/* Lower-case letters, digits, '.', '_' and '-', starting with a letter
 * or digit. */
static int ops_admin_name_check(const char *name, struct ops_error *err)
{
	size_t len = strlen(name);

	if (len == 0 || len > DIR_ADMIN_NAME_MAX || name[0] == '.' || name[0] == '_' || name[0] == '-')
		goto bad;
	for (const char *p = name; *p != '\0'; p++) {
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') && *p != '.' && *p != '_' &&
		    *p != '-')
			goto bad;
	}
	return 0;
bad:
	return ops_fail(err, "invalid_name", "name",
			"an administrator's name is 1 to %d lower-case letters, digits, '.', '_' or '-'",
			"管理者名は英小文字・数字・'.'・'_'・'-' の 1 から %d 文字です", DIR_ADMIN_NAME_MAX);
}

/* Checks a scope and writes its role and comma-separated domains. */
static int ops_scope_check(struct ops *o, const struct ops_actor *actor, const struct ops_scope *scope,
			   char *role_r, size_t role_size, char *domains_r, size_t size,
			   struct ops_error *err)
{
	size_t used = 0;

	if (strcmp(scope->role, "server") != 0 && strcmp(scope->role, "domain") != 0)
		return ops_fail(err, "invalid_role", "role", "the role is server or domain, not '%s'",
				"役割は server か domain です ('%s' は不可)", scope->role);
	str_copy(role_r, role_size, scope->role);
	domains_r[0] = '\0';
	if (strcmp(scope->role, "server") == 0) {
		if (scope->ndomains > 0)
			return ops_fail(err, "invalid_domains", "domains",
					"a server role covers every domain: give no domains",
					"server の役割はすべてのドメインが対象です: ドメインは指定しません");
		return ops_may_server(actor) ? 0 : ops_forbidden(err, "server roles");
	}
	if (scope->ndomains == 0 || scope->ndomains > OPS_DOMAINS_MAX)
		return ops_fail(err, "invalid_domains", "domains", "a domain role needs 1 to %d domains",
				"domain の役割には 1 から %d 個のドメインが必要です", OPS_DOMAINS_MAX);
	for (size_t i = 0; i < scope->ndomains; i++) {
		struct dir_domain d;
		const char *name = scope->domains[i];
		int n;

		if (directory_domain_get(o->dir, name, &d) <= 0)
			return ops_fail(err, "not_found", "domains", "no such domain: %s",
					"ドメイン %s はありません", name);
		if (!ops_may_domain(actor, d.name))
			return ops_forbidden(err, d.name);
		n = snprintf(domains_r + used, size - used, "%s%s", used > 0 ? "," : "", d.name);
		if (n < 0 || (size_t)n >= size - used)
			return ops_fail(err, "invalid_domains", "domains", "too many domains",
					"ドメインが多すぎます");
		used += (size_t)n;
	}
	return 0;
}

/* Fills an actor's domains from a comma-separated list. */
static void ops_actor_domains(struct ops_actor *a, const char *list)
{
	char copy[DIR_SCOPE_DOMAINS_MAX], *save = NULL;

	str_copy(copy, sizeof(copy), list);
	for (char *d = strtok_r(copy, ",", &save); d != NULL; d = strtok_r(NULL, ",", &save))
		(void)ops_actor_add_domain(a, d);
}

int ops_admin_add(struct ops *o, const struct ops_actor *actor, const char *name,
		  const struct ops_scope *scope, const char *password, struct ops_error *err)
{
	char hash[DIR_HASH_MAX];
	struct dir_admin a;
	const char *error;
	int r;

	memset(err, 0, sizeof(*err));
	memset(&a, 0, sizeof(a));
	if (!ops_may_server(actor))
		return ops_forbidden(err, "administrators");
	if (ops_admin_name_check(name, err) < 0 ||
	    ops_scope_check(o, actor, scope, a.role, sizeof(a.role), a.domains, sizeof(a.domains),
			    err) < 0)
		return -1;
	if (validate_password(password, name, &error) < 0)
		return ops_fail(err, "invalid_password", "password", "password refused: %s",
				"このパスワードは使えません: %s", error);
	str_copy(a.name, sizeof(a.name), name);
	if (password_init() < 0 || password_hash(password, hash, sizeof(hash)) < 0)
		return ops_fail(err, "internal", NULL, "cannot hash the password (out of memory?)",
				"パスワードをハッシュできません (メモリ不足?)");
	r = directory_admin_add(o->dir, &a, hash, &error);
	explicit_bzero(hash, sizeof(hash));
	if (r < 0 && strcmp(error, "exists") == 0)
		return ops_fail(err, "exists", "name", "the administrator %s already exists",
				"管理者 %s は既にあります", name);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot add %s: %s", "%s を追加できません: %s", name,
				error);
	ops_audit(o, actor, "admin.add", name, "role %s%s%s", a.role, a.domains[0] != '\0' ? ", domains " : "",
		  a.domains);
	return 0;
}

static int ops_admin_missing(struct ops_error *err, const char *name)
{
	return ops_fail(err, "not_found", "name", "no such administrator: %s", "管理者 %s はいません", name);
}

int ops_admin_del(struct ops *o, const struct ops_actor *actor, const char *name, struct ops_error *err)
{
	const char *error = "database busy";
	int r;

	memset(err, 0, sizeof(*err));
	if (!ops_may_server(actor))
		return ops_forbidden(err, "administrators");
	r = directory_begin(o->dir) < 0 ? -1 : directory_admin_del(o->dir, name, &error);
	if (r > 0 && directory_session_revoke(o->dir, false, name, NULL) < 0)
		r = -1, error = "cannot end the sessions";
	if (r > 0 && directory_commit(o->dir) < 0)
		r = -1, error = "commit failed";
	if (r <= 0)
		directory_rollback(o->dir);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot delete %s: %s", "%s を削除できません: %s", name,
				error);
	if (r == 0)
		return ops_admin_missing(err, name);
	ops_audit(o, actor, "admin.del", name, "deleted");
	return 0;
}

int ops_admin_passwd(struct ops *o, const struct ops_actor *actor, const char *name,
		     const char *password, struct ops_error *err)
{
	char hash[DIR_HASH_MAX];
	const char *error = "database busy";
	int r;

	memset(err, 0, sizeof(*err));
	if (!ops_may_server(actor))
		return ops_forbidden(err, "administrators");
	if (validate_password(password, name, &error) < 0)
		return ops_fail(err, "invalid_password", "password", "password refused: %s",
				"このパスワードは使えません: %s", error);
	if (password_init() < 0 || password_hash(password, hash, sizeof(hash)) < 0)
		return ops_fail(err, "internal", NULL, "cannot hash the password (out of memory?)",
				"パスワードをハッシュできません (メモリ不足?)");
	r = directory_begin(o->dir) < 0 ? -1 : directory_admin_set_password(o->dir, name, hash, &error);
	if (r > 0 && directory_session_revoke(o->dir, false, name, actor->session) < 0)
		r = -1, error = "cannot end the sessions";
	if (r > 0 && directory_commit(o->dir) < 0)
		r = -1, error = "commit failed";
	if (r <= 0)
		directory_rollback(o->dir);
	explicit_bzero(hash, sizeof(hash));
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot change the password of %s: %s",
				"%s のパスワードを変更できません: %s", name, error);
	if (r == 0)
		return ops_admin_missing(err, name);
	ops_audit(o, actor, "admin.passwd", name, "password changed");
	return 0;
}

int ops_admin_list(struct ops *o, const struct ops_actor *actor, dir_admin_cb *cb, void *ctx,
		   struct ops_error *err)
{
	memset(err, 0, sizeof(*err));
	if (!ops_may_server(actor))
		return ops_forbidden(err, "administrators");
	if (directory_admin_list(o->dir, cb, ctx) < 0)
		return ops_fail(err, "internal", NULL, "cannot list the administrators",
				"管理者の一覧を読めません");
	return 0;
}

int ops_admin_login(struct ops *o, const char *name, const char *password, const char *ip,
		    struct ops_actor *actor_r, struct ops_error *err)
{
	/* A valid hash of no one's password, so that unknown names cost the
	 * same verification. */
	static char dummy[DIR_HASH_MAX];
	char hash[DIR_HASH_MAX];
	struct dir_admin a;
	bool ok;
	int r;

	memset(err, 0, sizeof(*err));
	if (password_init() < 0)
		return ops_fail(err, "internal", NULL, "cannot initialise the password library",
				"パスワードライブラリを初期化できません");
	if (dummy[0] == '\0' && password_hash("no such administrator", dummy, sizeof(dummy)) < 0)
		dummy[0] = '\0';
	r = strlen(name) <= DIR_ADMIN_NAME_MAX ? directory_admin_get_auth(o->dir, name, &a, hash, sizeof(hash))
					      : 0;
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the administrators",
				"管理者を読めません");
	ok = password_verify(r > 0 ? hash : dummy, password) && r > 0;
	explicit_bzero(hash, sizeof(hash));
	if (!ok)
		return ops_fail(err, "bad_login", NULL, "wrong name or password",
				"名前かパスワードが違います");
	ops_actor_init(actor_r, strcmp(a.role, "server") == 0 ? OPS_ACTOR_ADMIN : OPS_ACTOR_DOMAIN_ADMIN,
		       a.name, ip);
	if (actor_r->kind == OPS_ACTOR_DOMAIN_ADMIN)
		ops_actor_domains(actor_r, a.domains);
	return 0;
}

/* ---- API tokens ---- */

static void ops_secret_hash(const char *secret, char hex_r[65])
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)secret, strlen(secret));
	sodium_bin2hex(hex_r, 65, digest, sizeof(digest));
}

int ops_token_create(struct ops *o, const struct ops_actor *actor, const struct ops_scope *scope,
		     uint64_t expires_in, char token_r[OPS_TOKEN_TEXT_MAX], char id_r[32],
		     struct ops_error *err)
{
	unsigned char id[OPS_TOKEN_ID_LEN / 2], secret[OPS_TOKEN_SECRET_LEN / 2];
	char secret_hex[OPS_TOKEN_SECRET_LEN + 1];
	struct dir_token t;
	const char *error;

	memset(err, 0, sizeof(*err));
	memset(&t, 0, sizeof(t));
	if (ops_actor_role(actor) == OPS_ACTOR_USER || actor->kind == OPS_ACTOR_TOKEN)
		return ops_forbidden(err, "API tokens");
	if (expires_in == 0 || expires_in > OPS_TOKEN_EXPIRES_MAX)
		return ops_fail(err, "invalid_expiry", "expires", "a token expires within 1 s to 3650 days",
				"トークンの有効期限は 1 秒から 3650 日までです");
	if (ops_scope_check(o, actor, scope, t.role, sizeof(t.role), t.domains, sizeof(t.domains), err) < 0)
		return -1;
	if (sodium_init() < 0)
		return ops_fail(err, "internal", NULL, "cannot initialise libsodium",
				"libsodium を初期化できません");
	randombytes_buf(id, sizeof(id));
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2hex(t.id, sizeof(t.id), id, sizeof(id));
	sodium_bin2hex(secret_hex, sizeof(secret_hex), secret, sizeof(secret));
	ops_secret_hash(secret_hex, t.hash);
	t.created = (int64_t)time(NULL);
	t.expires = t.created + (int64_t)expires_in;
	if (directory_token_add(o->dir, &t, &error) < 0) {
		sodium_memzero(secret_hex, sizeof(secret_hex));
		return ops_fail(err, "internal", NULL, "cannot store the token: %s",
				"トークンを保存できません: %s", error);
	}
	snprintf(token_r, OPS_TOKEN_TEXT_MAX, TOKEN_PREFIX "%s_%s", t.id, secret_hex);
	str_copy(id_r, 32, t.id);
	sodium_memzero(secret_hex, sizeof(secret_hex));
	sodium_memzero(secret, sizeof(secret));
	ops_audit(o, actor, "token.create", t.id, "role %s%s%s, expires in %llu s", t.role,
		  t.domains[0] != '\0' ? ", domains " : "", t.domains, (unsigned long long)expires_in);
	return 0;
}

/* May actor see or revoke t? Server actors all; a domain administrator
 * the tokens whose domains are all its own. */
static bool ops_token_mine(const struct ops_actor *actor, const struct dir_token *t)
{
	char copy[DIR_SCOPE_DOMAINS_MAX], *save = NULL;

	if (ops_may_server(actor))
		return true;
	if (ops_actor_role(actor) != OPS_ACTOR_DOMAIN_ADMIN || actor->kind == OPS_ACTOR_TOKEN ||
	    strcmp(t->role, "domain") != 0)
		return false;
	str_copy(copy, sizeof(copy), t->domains);
	for (char *d = strtok_r(copy, ",", &save); d != NULL; d = strtok_r(NULL, ",", &save)) {
		if (!ops_may_domain(actor, d))
			return false;
	}
	return true;
}

int ops_token_revoke(struct ops *o, const struct ops_actor *actor, const char *id,
		     struct ops_error *err)
{
	struct dir_token t;
	const char *error;
	int r;

	memset(err, 0, sizeof(*err));
	r = strlen(id) < sizeof(t.id) ? directory_token_get(o->dir, id, &t) : 0;
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the tokens", "トークンを読めません");
	if (r == 0 || !ops_token_mine(actor, &t))
		return ops_fail(err, "not_found", "id", "no such token: %s", "トークン %s はありません", id);
	if (directory_token_revoke(o->dir, t.id, &error) < 0)
		return ops_fail(err, "internal", NULL, "cannot revoke %s: %s", "%s を無効にできません: %s",
				id, error);
	ops_audit(o, actor, "token.revoke", t.id, "%s", t.revoked ? "already revoked" : "revoked");
	return 0;
}

struct ops_token_filter {
	const struct ops_actor *actor;
	dir_token_cb *cb;
	void *ctx;
};

static void ops_token_filter_cb(const struct dir_token *t, void *ctx)
{
	struct ops_token_filter *f = ctx;

	if (ops_token_mine(f->actor, t))
		f->cb(t, f->ctx);
}

int ops_token_list(struct ops *o, const struct ops_actor *actor, dir_token_cb *cb, void *ctx,
		   struct ops_error *err)
{
	struct ops_token_filter f = { actor, cb, ctx };

	memset(err, 0, sizeof(*err));
	if (ops_actor_role(actor) == OPS_ACTOR_USER || actor->kind == OPS_ACTOR_TOKEN)
		return ops_forbidden(err, "API tokens");
	if (directory_token_list(o->dir, ops_token_filter_cb, &f) < 0)
		return ops_fail(err, "internal", NULL, "cannot list the tokens", "トークンの一覧を読めません");
	return 0;
}

int ops_token_verify(struct ops *o, const char *token, const char *ip, int64_t now,
		     struct ops_actor *actor_r, struct ops_error *err)
{
	char id[OPS_TOKEN_ID_LEN + 1], hash[65];
	const char *secret;
	struct dir_token t;
	bool ok;
	int r;

	memset(err, 0, sizeof(*err));
	if (strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 ||
	    strlen(token) != OPS_TOKEN_TEXT_MAX - 1 || token[6 + OPS_TOKEN_ID_LEN] != '_')
		goto bad;
	str_copyn(id, sizeof(id), token + 6, OPS_TOKEN_ID_LEN);
	secret = token + 6 + OPS_TOKEN_ID_LEN + 1;
	r = directory_token_get(o->dir, id, &t);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the tokens", "トークンを読めません");
	ops_secret_hash(secret, hash);
	ok = r > 0 && sodium_memcmp(hash, t.hash, 64) == 0;
	if (!ok || t.revoked || (t.expires != 0 && now >= t.expires))
		goto bad;
	(void)directory_token_touch(o->dir, t.id, now);
	ops_actor_init(actor_r, OPS_ACTOR_TOKEN, t.id, ip);
	actor_r->role = strcmp(t.role, "server") == 0 ? OPS_ACTOR_ADMIN : OPS_ACTOR_DOMAIN_ADMIN;
	if (actor_r->role == OPS_ACTOR_DOMAIN_ADMIN)
		ops_actor_domains(actor_r, t.domains);
	return 0;
bad:
	return ops_fail(err, "bad_token", NULL, "the token is unknown, revoked or expired",
			"トークンが不明・無効化済み・期限切れのいずれかです");
}
