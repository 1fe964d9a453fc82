/* Per-domain and per-account settings, through the one settings table. */
#include "ops/ops.h"
#include "ops/ops_rules.h"
#include "lib/str.h"

#include <stdio.h>
#include <string.h>

static int ops_setting_unknown(enum setting_scope scope, const char *key, struct ops_error *err)
{
	char known[1024];
	const char *sn = settings_scope_name(scope);

	settings_keys_text(scope, known, sizeof(known));
	return ops_fail(err, "unknown_setting", "key",
			"unknown setting '%s': the %s settings are %s (yubinctl settings list %s"
			" explains them)", "設定 '%s' はありません: %s の設定は %s です (%s の説明は settings list)",
			key, sn, known, sn);
}

/* The scope check and the existence of the domain or account. */
static int ops_setting_target(struct ops *o, const struct ops_actor *actor, enum setting_scope scope,
			      const struct setting *s, const char *name, struct ops_error *err)
{
	struct dir_domain d;
	struct dir_account a;
	int r;

	if (scope == SETTING_ACCOUNT) {
		if (ops_actor_role(actor) == OPS_ACTOR_USER && s->id != SETTING_FORWARD &&
		    s->id != SETTING_FORWARD_KEEP && s->id != SETTING_SPAM &&
		    s->id != SETTING_SPAM_LEVEL && s->id != SETTING_SPAM_ACTION && !ops_rules_setting(s->id))
			return ops_fail(err, "forbidden", NULL, "you may not change %s of %s",
					"%s の %s を変更する権限がありません", s->key, name);
		return ops_account_get(o, actor, name, &a, err);
	}
	if (scope != SETTING_DOMAIN || !ops_may_domain(actor, name))
		return ops_fail(err, "forbidden", NULL, "you may not change %s of %s",
				"%s の %s を変更する権限がありません", s->key, name);
	r = directory_domain_get(o->dir, name, &d);
	if (r < 0)
		return ops_fail(err, "internal", NULL, "cannot read the domain %s", "ドメイン %s を読めません",
				name);
	if (r == 0)
		return ops_fail(err, "not_found", "domain", "no such domain: %s", "ドメイン %s はありません",
				name);
	return 0;
}

/* batv on makes the domain's signing key before the setting is stored. */
static int ops_setting_batv(struct ops *o, const char *domain, const char *value, struct ops_error *err)
{
	char hex[160];

	if (strcmp(value, "on") == 0 && directory_batv_key(o->dir, domain, 0, true, hex, sizeof(hex)) <= 0)
		return ops_fail(err, "internal", NULL, "cannot create the BATV key of %s",
				"%s の BATV 鍵を作れません", domain);
	explicit_bzero(hex, sizeof(hex));
	return 0;
}

/* The value as an error message quotes it: at most 80 bytes, cut on a
 * character boundary, "..." after a cut. */
static const char *ops_value_excerpt(const char *value, char *buf, size_t size)
{
	size_t len = strlen(value), o = 0;

	if (len <= 80)
		return value;
	while (o < len && o < 80 && o + 4 < size) {
		size_t n = str_utf8_char_len(value + o, len - o);
		if (n == 0)
			n = 1;
		if (o + n > 80)
			break;
		o += n;
	}
	memcpy(buf, value, o);
	memcpy(buf + o, "...", 4);
	return buf;
}

/* The start of a change: r and err cleared, the key known in the scope
 * (r->s), the actor allowed and the target there. */
static int ops_setting_begin(struct ops *o, const struct ops_actor *actor, enum setting_scope scope,
			     const char *name, const char *key, struct ops_setting_result *r,
			     struct ops_error *err)
{
	memset(err, 0, sizeof(*err));
	memset(r, 0, sizeof(*r));
	if ((r->s = settings_find(key, scope)) == NULL)
		return ops_setting_unknown(scope, key, err);
	return ops_setting_target(o, actor, scope, r->s, name, err);
}

int ops_setting_set(struct ops *o, const struct ops_actor *actor, enum setting_scope scope,
		    const char *name, const char *key, const char *value, struct ops_setting_result *r,
		    struct ops_error *err)
{
	const struct setting *s;
	const char *error;
	char shown[96];

	if (ops_setting_begin(o, actor, scope, name, key, r, err) < 0)
		return -1;
	s = r->s;
	if (settings_check(s, name, value, r->value, sizeof(r->value), r->warn, sizeof(r->warn),
			   &error) < 0)
		return ops_fail(err, "invalid_value", s->key, "cannot set %s to '%s': %s",
				"%s を '%s' にできません: %s", key, ops_value_excerpt(value, shown, sizeof(shown)),
				error);
	if (s->id == SETTING_MEMO)
		return r->changed = true, ops_account_memo(o, actor, name, r->value, err);
	if (s->id == SETTING_ENABLED)
		return ops_account_enable(o, actor, name, strcmp(r->value, "on") == 0, &r->changed, err);
	if (s->id == SETTING_BATV && ops_setting_batv(o, name, r->value, err) < 0)
		return -1;
	if (settings_store(o->dir, scope, name, s, value, r->value, sizeof(r->value), r->warn,
			   sizeof(r->warn), &error) < 0)
		return ops_fail(err, "invalid_value", s->key, "cannot set %s to '%s': %s",
				"%s を '%s' にできません: %s", key, ops_value_excerpt(value, shown, sizeof(shown)),
				error);
	r->changed = true;
	ops_event(o, actor, "setting-changed", name, "%s = %s", s->key, settings_display(s, r->value, false));
	ops_audit(o, actor, "setting.set", name, "%s = %s", s->key, settings_display(s, r->value, false));
	if (scope == SETTING_ACCOUNT && ops_rules_setting(s->id))
		return ops_rules_regenerate(o, name, err);	/* the panel's script follows */
	return 0;
}

int ops_setting_unset(struct ops *o, const struct ops_actor *actor, enum setting_scope scope,
		      const char *name, const char *key, struct ops_setting_result *r,
		      struct ops_error *err)
{
	const struct setting *s;
	struct dir_account a;
	const char *error;
	bool own;
	int removed;

	if (ops_setting_begin(o, actor, scope, name, key, r, err) < 0)
		return -1;
	s = r->s;
	if ((s->flags & SETTING_COLUMN) != 0)
		return ops_fail(err, "invalid_value", s->key, "%s has no default to return to: set it instead",
				"%s には戻す既定値がありません: 値を設定してください", s->key);
	if (scope == SETTING_ACCOUNT && ops_account_get(o, actor, name, &a, err) < 0)
		return -1;
	removed = directory_setting_unset(o->dir, settings_scope_name(scope), name, s->key, &error);
	if (removed < 0)
		return ops_fail(err, "internal", NULL, "cannot remove %s of %s: %s", "設定 %s (%s) を削除できません: %s",
				s->key, name, error);
	ops_setting_value(o, s, scope, name, scope == SETTING_ACCOUNT ? &a : NULL, r->value, sizeof(r->value),
			  &own);
	r->changed = removed > 0;
	if (!r->changed)
		return 0;
	ops_event(o, actor, "setting-changed", name, "%s reset, now %s", s->key,
		  settings_display(s, r->value, false));
	ops_audit(o, actor, "setting.unset", name, "%s (now %s)", s->key, settings_display(s, r->value, false));
	if (scope == SETTING_ACCOUNT && ops_rules_setting(s->id))
		return ops_rules_regenerate(o, name, err);
	return 0;
}
