/* The security and audit logs as the panels and yubinctl list them, each
 * actor seeing only its part: events, blocks, suspensions, audit rows and
 * a mail user's own logins. */
#include "ops/ops_server.h"
#include "directory/validate.h"
#include "lib/str.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char ops_login_kinds[] = "auth-ok,auth-failed,auth-refused,auth-foreign,auth-block,auth-throttle";

void ops_time_text(int64_t ts, char *buf, size_t size)
{
	time_t t = (time_t)ts;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static int ops_log_forbidden(struct ops_error *err, const char *what)
{
	return ops_fail(err, "forbidden", NULL, "you may not read %s", "%s を読む権限がありません", what);
}

/* The domains a query covers, comma-separated, into buf: the asked one
 * (when the actor may see it) or, for a domain administrator, all of its
 * own; "" for every domain (server actors only). */
static int ops_log_domains(const struct ops_actor *actor, const char *domain, char *buf, size_t size,
			   struct ops_error *err)
{
	size_t used = 0;
	const char *error;

	buf[0] = '\0';
	if (domain != NULL && domain[0] != '\0') {
		if (validate_domain(domain, &error) < 0)
			return ops_fail(err, "invalid_domain", "domain", "'%s' is not a domain name: %s",
					"'%s' はドメイン名ではありません: %s", domain, error);
		if (!ops_may_domain(actor, domain))
			return ops_fail(err, "forbidden", "domain", "you may not read the logs of %s",
					"%s のログを読む権限がありません", domain);
		str_copy(buf, size, domain);
		for (char *p = buf; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		return 0;
	}
	if (ops_may_server(actor))
		return 0;
	if (ops_actor_role(actor) != OPS_ACTOR_DOMAIN_ADMIN || actor->ndomains == 0)
		return ops_log_forbidden(err, "the logs");
	for (size_t i = 0; i < actor->ndomains; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i > 0 ? "," : "", actor->domains[i]);

		if (n < 0 || (size_t)n >= size - used)
			return ops_fail(err, "internal", NULL, "too many domains", "ドメインが多すぎます");
		used += (size_t)n;
	}
	for (char *p = buf; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static int ops_log_limit(const struct ops_log_query *q, unsigned *limit_r, struct ops_error *err)
{
	if (q->limit > OPS_LOG_LIMIT_MAX)
		return ops_fail(err, "invalid_limit", "limit", "the limit is 1 to %d", "件数は 1 から %d までです",
				OPS_LOG_LIMIT_MAX);
	if (q->since < 0 || q->before < 0)
		return ops_fail(err, "invalid_range", q->since < 0 ? "since" : "before",
				"since and before cannot be negative", "since と before は負にできません");
	*limit_r = q->limit == 0 ? OPS_LOG_LIMIT_DEFAULT : q->limit;
	return 0;
}

/* An event kind: lower-case letters and '-', as the daemon writes them. */
static int ops_kind_check(const char *kind, struct ops_error *err)
{
	size_t len = strlen(kind);

	for (const char *p = kind; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || *p == '-'))
			len = 0;
	}
	if (len == 0 || len >= sizeof(((struct dir_event *)0)->kind))
		return ops_fail(err, "invalid_kind", "kind", "'%s' is not an event kind", "'%s' はイベントの種類ではありません",
				kind);
	return 0;
}

/* The lower-cased address into buf after its scope check. */
static int ops_log_address(const struct ops_actor *actor, const char *address, char *buf, size_t size,
			   bool self_ok, struct ops_error *err)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1];
	const char *error;

	if (validate_address(address, local, sizeof(local), domain, sizeof(domain), &error) < 0)
		return ops_fail(err, "invalid_address", "address", "'%s' is not a valid address: %s",
				"'%s' は正しいアドレスではありません: %s", address, error);
	snprintf(buf, size, "%s@%s", local, domain);
	for (char *p = buf; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!ops_may_account(actor, buf, self_ok))
		return ops_fail(err, "forbidden", "address", "you may not read the logs of %s",
				"%s のログを読む権限がありません", buf);
	return 0;
}

int ops_security_events(struct ops *o, const struct ops_actor *actor, const struct ops_log_query *q,
			dir_event_cb *cb, void *ctx, struct ops_error *err)
{
	char domains[OPS_DOMAINS_MAX * (DIR_DOMAIN_MAX + 1)], address[DIR_ADDRESS_MAX + 1] = "";
	struct dir_log_filter f;

	memset(err, 0, sizeof(*err));
	memset(&f, 0, sizeof(f));
	if (ops_actor_role(actor) == OPS_ACTOR_USER)
		return ops_log_forbidden(err, "the security events");
	if (ops_log_limit(q, &f.limit, err) < 0 || ops_log_domains(actor, q->domain, domains, sizeof(domains), err) < 0)
		return -1;
	if (q->kind != NULL && q->kind[0] != '\0' && ops_kind_check(q->kind, err) < 0)
		return -1;
	if (q->address != NULL && q->address[0] != '\0' &&
	    ops_log_address(actor, q->address, address, sizeof(address), false, err) < 0)
		return -1;
	f.address = address;
	f.domains = domains;
	f.kinds = q->kind;
	f.since = q->since;
	f.before = q->before;
	if (directory_event_query(o->dir, &f, cb, ctx) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the events", "イベントを読めません");
	return 0;
}

struct ops_scope_filter {
	const struct ops_actor *actor;
	void *cb;
	void *ctx;
};

static void ops_block_filter_cb(const struct dir_auth_block *b, void *ctx)
{
	struct ops_scope_filter *f = ctx;

	if (ops_may_server(f->actor) || (strcmp(b->kind, "account") == 0 && ops_may_account(f->actor, b->key, false)))
		((dir_auth_block_cb *)f->cb)(b, f->ctx);
}

int ops_security_blocks(struct ops *o, const struct ops_actor *actor, dir_auth_block_cb *cb, void *ctx,
			struct ops_error *err)
{
	struct ops_scope_filter f = { actor, (void *)cb, ctx };

	memset(err, 0, sizeof(*err));
	if (!ops_may_server(actor) && ops_actor_role(actor) != OPS_ACTOR_DOMAIN_ADMIN)
		return ops_log_forbidden(err, "the blocks");
	if (directory_auth_block_list(o->dir, time(NULL), ops_block_filter_cb, &f) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the blocks from the database",
				"ブロックの一覧を読めません");
	return 0;
}

static void ops_hold_filter_cb(const struct dir_hold *h, void *ctx)
{
	struct ops_scope_filter *f = ctx;

	if (ops_may_account(f->actor, h->address, false))
		((dir_hold_cb *)f->cb)(h, f->ctx);
}

int ops_security_suspended(struct ops *o, const struct ops_actor *actor, dir_hold_cb *cb, void *ctx,
			   struct ops_error *err)
{
	struct ops_scope_filter f = { actor, (void *)cb, ctx };

	memset(err, 0, sizeof(*err));
	if (!ops_may_server(actor) && ops_actor_role(actor) != OPS_ACTOR_DOMAIN_ADMIN)
		return ops_log_forbidden(err, "the suspended accounts");
	if (directory_hold_list(o->dir, ops_hold_filter_cb, &f) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the suspended accounts",
				"停止中のアカウントを読めません");
	return 0;
}

int ops_audit_list(struct ops *o, const struct ops_actor *actor, const struct ops_log_query *q,
		   dir_audit_cb *cb, void *ctx, struct ops_error *err)
{
	char domains[OPS_DOMAINS_MAX * (DIR_DOMAIN_MAX + 1)], target[DIR_ADDRESS_MAX + 1] = "";
	struct dir_log_filter f;

	memset(err, 0, sizeof(*err));
	memset(&f, 0, sizeof(f));
	if (ops_actor_role(actor) == OPS_ACTOR_USER)
		return ops_log_forbidden(err, "the audit log");
	if (ops_log_limit(q, &f.limit, err) < 0 || ops_log_domains(actor, q->domain, domains, sizeof(domains), err) < 0)
		return -1;
	if (q->address != NULL && q->address[0] != '\0') {
		if (str_copy(target, sizeof(target), q->address) < 0)
			return ops_fail(err, "invalid_target", "target", "the target is too long",
					"対象が長すぎます");
		for (char *p = target; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	if (q->actor != NULL && strlen(q->actor) >= sizeof(((struct dir_audit *)0)->actor))
		return ops_fail(err, "invalid_actor", "actor", "the actor is too long", "実行者が長すぎます");
	f.address = target;
	f.domains = domains;
	f.actor = q->actor;
	f.since = q->since;
	f.before = q->before;
	if (directory_audit_query(o->dir, &f, cb, ctx) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the audit log", "監査ログを読めません");
	return 0;
}

int ops_me_logins(struct ops *o, const struct ops_actor *actor, const char *address,
		  const struct ops_log_query *q, dir_event_cb *cb, void *ctx, struct ops_error *err)
{
	char self[DIR_ADDRESS_MAX + 1];
	struct dir_log_filter f;

	memset(err, 0, sizeof(*err));
	memset(&f, 0, sizeof(f));
	if (address == NULL)
		address = actor->name;
	if (ops_log_limit(q, &f.limit, err) < 0 || ops_log_address(actor, address, self, sizeof(self), true, err) < 0)
		return -1;
	f.address = self;
	f.kinds = ops_login_kinds;
	f.since = q->since;
	f.before = q->before;
	if (directory_event_query(o->dir, &f, cb, ctx) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the login history", "ログイン履歴を読めません");
	return 0;
}
