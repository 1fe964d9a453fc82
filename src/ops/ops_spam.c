/* The spam filter's allow and block lists of domains and accounts. */
#include "ops/ops.h"
#include "lib/str.h"
#include "spam/spam_list.h"

#include <stdio.h>
#include <string.h>

/* The kind, the scope check and the existence of the target: the
 * directory scope ("domain" or "account") into *scope_r. */
static int ops_spamlist_target(struct ops *o, const struct ops_actor *actor, const char *kind,
			       const char *target, const char **scope_r, struct ops_error *err)
{
	struct dir_domain d;
	struct dir_account a;
	int r;

	if (kind == NULL || (strcmp(kind, "allow") != 0 && strcmp(kind, "block") != 0))
		return ops_fail(err, "invalid_value", "list", "the list is allow or block",
				"リストは allow か block です");
	if (strchr(target, '@') != NULL) {
		*scope_r = "account";
		return ops_account_get(o, actor, target, &a, err);
	}
	*scope_r = "domain";
	if (!ops_may_domain(actor, target))
		return ops_fail(err, "forbidden", NULL, "you may not change the spam lists of %s",
				"%s の迷惑メールのリストを変更する権限がありません", target);
	r = directory_domain_get(o->dir, target, &d);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the domain %s", "ドメイン %s を読めません",
				target);
	if (r == 0)
		return ops_fail(err, "not_found", "domain", "no such domain: %s", "ドメイン %s はありません",
				target);
	return 0;
}

static int ops_spamlist_pattern(const char *pattern, char *norm, size_t size, struct ops_error *err)
{
	const char *error;

	if (pattern == NULL || spam_list_pattern_check(pattern, norm, size, &error) < 0)
		return ops_fail(err, "invalid_pattern", "pattern", "'%s': %s", "'%s': %s",
				pattern != NULL ? pattern : "", pattern == NULL ? "a pattern is needed" : error);
	return 0;
}

int ops_spamlist_add(struct ops *o, const struct ops_actor *actor, const char *kind, const char *target,
		     const char *pattern, char *norm_r, size_t normsize, struct ops_error *err)
{
	const char *scope, *error;

	memset(err, 0, sizeof(*err));
	if (ops_spamlist_target(o, actor, kind, target, &scope, err) < 0 ||
	    ops_spamlist_pattern(pattern, norm_r, normsize, err) < 0)
		return -1;
	if (directory_spamlist_add(o->dir, scope, target, kind, norm_r, &error) < 0) {
		if (strcmp(error, "already exists") == 0)
			return ops_fail(err, "exists", "pattern", "%s is already on %s's %s list",
					"%s はすでに %s の %s リストにあります", norm_r, target, kind);
		return ops_fail(err, "internal", NULL, "cannot store the pattern: %s", "パターンを保存できません: %s",
				error);
	}
	ops_event(o, actor, "spam-list-changed", target, "%s list + %s", kind, norm_r);
	ops_audit(o, actor, "spam.list.add", target, "%s %s", kind, norm_r);
	return 0;
}

int ops_spamlist_del(struct ops *o, const struct ops_actor *actor, const char *kind, const char *target,
		     const char *pattern, char *norm_r, size_t normsize, struct ops_error *err)
{
	const char *scope, *error;
	int r;

	memset(err, 0, sizeof(*err));
	if (ops_spamlist_target(o, actor, kind, target, &scope, err) < 0 ||
	    ops_spamlist_pattern(pattern, norm_r, normsize, err) < 0)
		return -1;
	r = directory_spamlist_del(o->dir, scope, target, kind, norm_r, &error);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot remove the pattern: %s",
				"パターンを削除できません: %s", error);
	if (r == 0)
		return ops_fail(err, "not_found", "pattern", "%s is not on %s's %s list",
				"%s は %s の %s リストにありません", norm_r, target, kind);
	ops_event(o, actor, "spam-list-changed", target, "%s list - %s", kind, norm_r);
	ops_audit(o, actor, "spam.list.del", target, "%s %s", kind, norm_r);
	return 0;
}

int ops_spamlist_list(struct ops *o, const struct ops_actor *actor, const char *kind, const char *target,
		      dir_spamlist_cb *cb, void *ctx, struct ops_error *err)
{
	const char *scope;

	memset(err, 0, sizeof(*err));
	if (ops_spamlist_target(o, actor, kind != NULL ? kind : "allow", target, &scope, err) < 0)
		return -1;
	if (directory_spamlist_list(o->dir, scope, target, kind, cb, ctx) < 0)
		return ops_fail(err, "internal", NULL, "cannot read the lists of %s", "%s のリストを読めません",
				target);
	return 0;
}
