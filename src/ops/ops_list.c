/* Reading lists of domains, accounts and settings, scoped by the actor
 * like the changes: what the panels and yubinctl show. */
#include "ops/ops.h"
#include "lib/str.h"
#include "store/maildir.h"
#include "store/quota.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int ops_read_forbidden(struct ops_error *err, const char *what)
{
	return ops_fail(err, "forbidden", NULL, "you may not see %s", "%s を見る権限がありません", what);
}

struct domain_list_ctx {
	const struct ops_actor *actor;
	dir_domain_cb *cb;
	void *ctx;
};

static void domain_list_one(const struct dir_domain *d, void *ctx)
{
	struct domain_list_ctx *c = ctx;

	if (ops_may_domain(c->actor, d->name))
		c->cb(d, c->ctx);
}

int ops_domain_list(struct ops *o, const struct ops_actor *actor, dir_domain_cb *cb, void *ctx,
		    struct ops_error *err)
{
	struct domain_list_ctx c = { actor, cb, ctx };

	memset(err, 0, sizeof(*err));
	if (ops_actor_role(actor) == OPS_ACTOR_USER)
		return ops_read_forbidden(err, "the domains");
	if (directory_domain_list(o->dir, domain_list_one, &c) < 0)
		return ops_fail(err, "internal", NULL, "cannot list the domains", "ドメインの一覧を読めません");
	return 0;
}

struct account_list_ctx {
	struct ops *o;
	ops_account_row_cb *cb;
	void *ctx;
};

static void account_list_one(const struct dir_account *a, void *ctx)
{
	struct account_list_ctx *c = ctx;
	struct ops_account_row row = { a, 0, false };

	ops_account_status(c->o, a, &row.used_bytes, &row.suspended);
	c->cb(&row, c->ctx);
}

void ops_account_status(struct ops *o, const struct dir_account *a, uint64_t *used_r, bool *suspended_r)
{
	struct dir_hold hold;
	char path[4096];

	*used_r = 0;
	if (maildir_path(path, sizeof(path), o->data, a->domain, a->local) == 0)
		(void)quota_usage(path, used_r);
	*suspended_r = directory_hold_get(o->dir, a->address, &hold) > 0 && hold.lifted == 0;
}

struct account_all_ctx {
	struct ops *o;
	ops_account_row_cb *cb;
	void *ctx;
	size_t n;
};

static void account_all_one(const struct dir_account *a, void *ctx)
{
	struct account_all_ctx *c = ctx;
	struct ops_account_row row = { a, 0, false };

	ops_account_status(c->o, a, &row.used_bytes, &row.suspended);
	c->n++;
	c->cb(&row, c->ctx);
}

/* Every domain's accounts, by address: server actors only. */
static int ops_account_list_all(struct ops *o, const struct ops_actor *actor, ops_account_row_cb *cb,
				void *ctx, size_t *total_r, struct ops_error *err)
{
	struct account_all_ctx c = { o, cb, ctx, 0 };

	if (!ops_may_server(actor))
		return ops_read_forbidden(err, "the accounts of every domain");
	if (directory_account_list(o->dir, NULL, account_all_one, &c) < 0)
		return ops_fail(err, "internal", NULL, "cannot list the accounts", "アカウント一覧を読めません");
	*total_r = c.n;
	return 0;
}

int ops_account_list(struct ops *o, const struct ops_actor *actor, const char *domain, const char *q,
		     size_t offset, size_t limit, ops_account_row_cb *cb, void *ctx, size_t *total_r,
		     struct ops_error *err)
{
	struct account_list_ctx c = { o, cb, ctx };
	struct dir_domain d;
	int r;

	memset(err, 0, sizeof(*err));
	*total_r = 0;
	if (domain == NULL)
		return ops_account_list_all(o, actor, cb, ctx, total_r, err);
	if (ops_actor_role(actor) == OPS_ACTOR_USER || !ops_may_domain(actor, domain))
		return ops_read_forbidden(err, domain);
	r = directory_domain_get(o->dir, domain, &d);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the domain %s", "ドメイン %s を読めません",
				domain);
	if (r == 0)
		return ops_fail(err, "not_found", "domain", "no such domain: %s", "ドメイン %s はありません",
				domain);
	if (directory_account_page(o->dir, d.name, q, offset, limit, account_list_one, &c, total_r) < 0)
		return ops_fail(err, "internal", NULL, "cannot list the accounts of %s",
				"%s のアカウント一覧を読めません", domain);
	return 0;
}

void ops_setting_value(struct ops *o, const struct setting *s, enum setting_scope scope,
		       const char *name, const struct dir_account *a, char *buf, size_t size, bool *set_r)
{
	*set_r = false;
	if (s->id == SETTING_MEMO && a != NULL) {
		*set_r = a->memo[0] != '\0';
		str_copy(buf, size, a->memo);
		return;
	}
	if (s->id == SETTING_ENABLED && a != NULL) {
		*set_r = !a->enabled;
		str_copy(buf, size, a->enabled ? "on" : "off");
		return;
	}
	if (directory_setting_get(o->dir, settings_scope_name(scope), name, s->key, buf, size) > 0) {
		*set_r = true;
		return;
	}
	/* an account without its own value follows its domain's */
	if (a != NULL && (s->scopes & SETTING_DOMAIN) != 0 &&
	    directory_setting_get(o->dir, "domain", a->domain, s->key, buf, size) > 0)
		return;
	str_copy(buf, size, s->def != NULL ? s->def : "");
}

int ops_setting_list(struct ops *o, const struct ops_actor *actor, enum setting_scope scope,
		     const char *name, ops_setting_row_cb *cb, void *ctx, struct ops_error *err)
{
	struct dir_account a;
	struct dir_domain d;
	char value[OPS_VALUE_MAX];
	int r;

	memset(err, 0, sizeof(*err));
	if (scope == SETTING_ACCOUNT) {
		if (ops_account_get(o, actor, name, &a, err) < 0)
			return -1;
		name = a.address;
	} else {
		if (scope != SETTING_DOMAIN || ops_actor_role(actor) == OPS_ACTOR_USER ||
		    !ops_may_domain(actor, name))
			return ops_read_forbidden(err, name);
		r = directory_domain_get(o->dir, name, &d);
		if (r <= 0)
			return r < 0 ? ops_fail(err, "internal", NULL, "cannot read the domain %s",
						"ドメイン %s を読めません", name)
				     : ops_fail(err, "not_found", "domain", "no such domain: %s",
						"ドメイン %s はありません", name);
		name = d.name;
	}
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting *s = &settings_table[i];
		struct ops_setting_row row = { s, value, false };

		if ((s->scopes & scope) == 0)
			continue;
		ops_setting_value(o, s, scope, name, scope == SETTING_ACCOUNT ? &a : NULL, value, sizeof(value),
				  &row.set);
		row.value = settings_display(s, value, false);
		cb(&row, ctx);
	}
	return 0;
}
