/* Panel sessions (a browser's cookie) and the mail users' web login. The
 * directory keeps only a hash of each session's id; the id itself lives
 * in the cookie alone. */
#include "ops/ops.h"
#include "lib/str.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void ops_session_hash(const char *id, char hex_r[65])
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)id, strlen(id));
	sodium_bin2hex(hex_r, 65, digest, sizeof(digest));
}

static void ops_random_hex(char hex_r[65])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex_r, 65, raw, sizeof(raw));
	explicit_bzero(raw, sizeof(raw));
}

static const char *ops_role_text(enum ops_actor_kind role)
{
	return role == OPS_ACTOR_ADMIN ? "admin" : role == OPS_ACTOR_DOMAIN_ADMIN ? "domain_admin" : "user";
}

int ops_session_create(struct ops *o, const struct ops_actor *actor, int64_t now, unsigned idle,
		       unsigned lifetime, char id_r[OPS_SESSION_ID_LEN + 1], char csrf_r[65],
		       struct ops_error *err)
{
	struct dir_session s;
	const char *error;
	size_t used = 0;

	memset(err, 0, sizeof(*err));
	memset(&s, 0, sizeof(s));
	if (sodium_init() < 0)
		return ops_fail(err, "internal", NULL, "cannot initialise libsodium",
				"libsodium を初期化できません");
	(void)directory_session_prune(o->dir, now - (int64_t)idle, now - (int64_t)lifetime);
	ops_random_hex(id_r);
	ops_random_hex(csrf_r);
	ops_session_hash(id_r, s.hash);
	str_copy(s.role, sizeof(s.role), ops_role_text(ops_actor_role(actor)));
	str_copy(s.name, sizeof(s.name), actor->name);
	for (size_t i = 0; i < actor->ndomains; i++) {
		int n = snprintf(s.domains + used, sizeof(s.domains) - used, "%s%s", i > 0 ? "," : "",
				 actor->domains[i]);
		if (n < 0 || (size_t)n >= sizeof(s.domains) - used)
			break;
		used += (size_t)n;
	}
	str_copy(s.csrf, sizeof(s.csrf), csrf_r);
	s.created = now;
	s.last_seen = now;
	str_copy(s.ip, sizeof(s.ip), actor->ip);
	if (directory_session_add(o->dir, &s, &error) < 0) {
		explicit_bzero(id_r, OPS_SESSION_ID_LEN + 1);
		return ops_fail(err, "internal", NULL, "cannot store the session: %s",
				"セッションを保存できません: %s", error);
	}
	return 0;
}

static int ops_not_logged_in(struct ops_error *err)
{
	return ops_fail(err, "not_logged_in", NULL, "not logged in (or the session has ended)",
			"ログインしていません (またはセッションが終了しました)");
}

/* Is the session's principal still there (and an account still enabled)? */
static bool ops_session_principal_ok(struct ops *o, const struct dir_session *s)
{
	if (strcmp(s->role, "user") == 0) {
		struct dir_account a;

		return directory_account_get(o->dir, s->name, &a) > 0 && a.enabled;
	}
	return true;	/* deleting an administrator ends its sessions */
}

int ops_session_verify(struct ops *o, const char *id, const char *ip, int64_t now, unsigned idle,
		       unsigned lifetime, struct ops_actor *actor_r, char csrf_r[65], struct ops_error *err)
{
	struct dir_session s;
	char hash[65], copy[DIR_SCOPE_DOMAINS_MAX], *save = NULL;
	int64_t touch_every = idle / 2 < 60 ? idle / 2 : 60;
	enum ops_actor_kind kind;
	int r;

	memset(err, 0, sizeof(*err));
	if (strlen(id) != OPS_SESSION_ID_LEN)
		return ops_not_logged_in(err);
	ops_session_hash(id, hash);
	r = directory_session_get(o->dir, hash, &s);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the session", "セッションを読めません");
	if (r == 0)
		return ops_not_logged_in(err);
	if (now - s.last_seen >= (int64_t)idle || now - s.created >= (int64_t)lifetime ||
	    !ops_session_principal_ok(o, &s)) {
		(void)directory_session_del(o->dir, hash);
		return ops_not_logged_in(err);
	}
	if (now - s.last_seen >= touch_every)
		(void)directory_session_touch(o->dir, hash, now);
	kind = strcmp(s.role, "admin") == 0 ? OPS_ACTOR_ADMIN
	       : strcmp(s.role, "domain_admin") == 0 ? OPS_ACTOR_DOMAIN_ADMIN : OPS_ACTOR_USER;
	ops_actor_init(actor_r, kind, s.name, ip);
	str_copy(copy, sizeof(copy), s.domains);
	for (char *d = strtok_r(copy, ",", &save); d != NULL; d = strtok_r(NULL, ",", &save))
		(void)ops_actor_add_domain(actor_r, d);
	str_copy(actor_r->session, sizeof(actor_r->session), hash);
	str_copy(csrf_r, 65, s.csrf);
	return 0;
}

void ops_session_end(struct ops *o, const char *id)
{
	char hash[65];

	if (strlen(id) != OPS_SESSION_ID_LEN)
		return;
	ops_session_hash(id, hash);
	(void)directory_session_del(o->dir, hash);
}

int ops_user_login(struct ops *o, const char *address, const char *password, const char *ip,
		   ops_login_check_fn *check, void *check_ctx, struct ops_actor *actor_r,
		   unsigned *delay_ms_r, struct ops_error *err)
{
	struct ops_login_result r;

	memset(err, 0, sizeof(*err));
	memset(&r, 0, sizeof(r));
	*delay_ms_r = 0;
	if (strlen(address) > DIR_ADDRESS_MAX || strchr(address, '@') == NULL ||
	    strlen(password) > DIR_PASSWORD_MAX)
		r.code = OPS_LOGIN_FAILED;
	else
		check(check_ctx, address, password, ip, "web", &r);
	*delay_ms_r = r.delay_ms;
	switch (r.code) {
	case OPS_LOGIN_OK:
		ops_actor_init(actor_r, OPS_ACTOR_USER, r.address, ip);
		return 0;
	case OPS_LOGIN_FOREIGN:
		return ops_fail(err, "foreign_blocked", NULL, "%s",
				"海外からのログインは制限されています。ドメインの管理者に解除を依頼してください (%s)",
				r.text);
	case OPS_LOGIN_BLOCKED:
		return ops_fail(err, "rate_limited", NULL, "%s",
				"ログインの失敗が多すぎるため、しばらくこのアドレスからはログインできません (%s)",
				r.text);
	case OPS_LOGIN_TEMPFAIL:
		return ops_fail(err, "internal", NULL, "temporary failure, try again later",
				"一時的な障害です。後でもう一度お試しください");
	case OPS_LOGIN_FAILED:
	default:
		return ops_fail(err, "bad_login", NULL, "wrong address or password",
				"アドレスかパスワードが違います");
	}
}
