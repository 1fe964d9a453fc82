/* Per-domain and per-account settings (`domain set`, `account set`).
 * Each scope has a table of the keys it knows: a key either maps to a
 * column of the directory (an account's memo, enabled) or is stored in the
 * settings table after its check. Unknown keys are refused with the list
 * of known ones, so a typo never lands in the database. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "lib/json.h"
#include "lib/str.h"
#include "policy/forward.h"
#include "policy/sendas.h"

#include <stdio.h>
#include <string.h>

struct ctl_setting {
	const char *key;
	/* Applies value to name itself (a directory column); NULL: the value
	 * is checked by validate, then stored in the settings table. */
	int (*apply)(struct ctl *c, const char *name, const char *value);
	int (*validate)(const char *value, const char **error_r);
};

static int ctl_account_apply_memo(struct ctl *c, const char *address, const char *value)
{
	return ctl_account_set_memo(c, address, value);
}

static int ctl_account_apply_enabled(struct ctl *c, const char *address, const char *value)
{
	bool enabled;

	if (ctl_bool_parse(value, &enabled) < 0)
		return ctl_fail("enabled takes yes or no (also true/false, on/off, 1/0), not '%s'", value);
	return ctl_account_set_enabled(c, address, enabled);
}

/* `forward`: up to 5 addresses, stored normalised ("a@x.example, b@y.example");
 * "" or "off" stops forwarding. */
static int ctl_account_apply_forward(struct ctl *c, const char *address, const char *value)
{
	char list[FORWARD_MAX][FORWARD_ADDR_MAX], stored[FORWARD_MAX * (FORWARD_ADDR_MAX + 2)] = "";
	const char *error;
	size_t n = 0, len = 0;

	if (strcmp(value, "off") != 0 && forward_list_parse(value, address, list, &n, &error) < 0)
		return ctl_fail("cannot set forward to '%s': %s", value, error);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(stored + len, sizeof(stored) - len, "%s%s", i > 0 ? ", " : "",
					list[i]);
	if (directory_setting_set(c->dir, "account", address, "forward", stored, &error) < 0)
		return ctl_fail("cannot store the setting forward: %s", error);
	ctl_event(c, "setting-changed", address, "forward = %s", stored);
	if (n == 0)
		printf("account %s: forward = (none): mail is no longer forwarded\n", address);
	else
		printf("account %s: forward = %s\n", address, stored);
	return 0;
}

/* ---- sender policy (policy/sendas.h): `send-as` (account) and
 * `sender-policy` (domain). Kept together here until the typed settings
 * table takes every key. */

/* `send-as`: addresses (or *@domain) in hosted domains, stored normalised;
 * "" or "off" grants none. */
static int ctl_account_apply_send_as(struct ctl *c, const char *address, const char *value)
{
	char list[SENDAS_MAX][SENDAS_ADDR_MAX], stored[SENDAS_VALUE_MAX] = "";
	const char *error;
	size_t n = 0, len = 0;

	if (strcmp(value, "off") != 0 && sendas_list_parse(value, list, &n, &error) < 0)
		return ctl_fail("cannot set send-as to '%s': %s", value, error);
	for (size_t i = 0; i < n; i++) {
		struct dir_domain d;
		const char *domain = strrchr(list[i], '@') + 1;
		int r = directory_domain_get(c->dir, domain, &d);

		if (r < 0)
			return ctl_fail("cannot read the domain %s from the database", domain);
		if (r == 0)
			return ctl_fail("cannot set send-as: %s is not in a domain hosted here (the"
					" domain %s does not exist)", list[i], domain);
		len += (size_t)snprintf(stored + len, sizeof(stored) - len, "%s%s", i > 0 ? ", " : "",
					list[i]);
	}
	if (directory_setting_set(c->dir, "account", address, "send-as", stored, &error) < 0)
		return ctl_fail("cannot store the setting send-as: %s", error);
	ctl_event(c, "setting-changed", address, "send-as = %s", stored);
	printf("account %s: send-as = %s\n", address, n == 0 ? "(none)" : stored);
	return 0;
}

static int ctl_validate_sender_policy(const char *value, const char **error_r)
{
	enum sender_policy p;

	if (sender_policy_parse(value, &p) < 0) {
		*error_r = "sender-policy takes strict, domain or off";
		return -1;
	}
	return 0;
}

static const struct ctl_setting ctl_account_settings[] = {
	{ "send-as", ctl_account_apply_send_as, NULL },	/* sender policy */
	{ "memo", ctl_account_apply_memo, NULL },
	{ "enabled", ctl_account_apply_enabled, NULL },
	{ "forward", ctl_account_apply_forward, NULL },
	{ "forward-keep", NULL, ctl_validate_on_off },
	{ "send-limit-hour", NULL, ctl_validate_send_limit },
	{ "send-limit-day", NULL, ctl_validate_send_limit },
	{ "abuse-detect", NULL, ctl_validate_on_off },
	{ NULL, NULL, NULL },
};

/* None yet: foreign-auth, spam filter levels and the like come here. */
/* Days Trash and Junk keep mail: 0 (keep forever) to 3650. */
static int ctl_validate_expire_days(const char *value, const char **error_r)
{
	uint64_t days;

	if (str_parse_uint(value, 3650, &days) < 0) {
		*error_r = "trash-expire-days takes a number of days from 0 (never) to 3650";
		return -1;
	}
	return 0;
}

static const struct ctl_setting ctl_domain_settings[] = {
	{ "sender-policy", NULL, ctl_validate_sender_policy },	/* sender policy */
	{ "trash-expire-days", NULL, ctl_validate_expire_days },
	{ "send-limit-hour", NULL, ctl_validate_send_limit },
	{ "send-limit-day", NULL, ctl_validate_send_limit },
	{ "abuse-detect", NULL, ctl_validate_on_off },
	{ "admin-address", NULL, ctl_validate_admin_address },
	{ "batv", ctl_domain_apply_batv, NULL },
	{ "foreign-auth", NULL, ctl_validate_on_off },
	{ "foreign-auth-country", NULL, ctl_validate_country },
	{ "foreign-auth-allow", NULL, ctl_validate_cidr_list },
	{ "foreign-auth-mail", NULL, ctl_validate_on_off },
	/* DMARC enforcement for mail to the domain: off (record only) or on */
	{ "inbound-dmarc", NULL, ctl_validate_on_off },
	{ NULL, NULL, NULL },
};

static const struct ctl_setting *ctl_settings_table(const char *scope)
{
	return strcmp(scope, "account") == 0 ? ctl_account_settings : ctl_domain_settings;
}

static int ctl_setting_unknown(const char *scope, const char *key)
{
	const struct ctl_setting *table = ctl_settings_table(scope);
	char known[256] = "";
	size_t len = 0;

	for (const struct ctl_setting *s = table; s->key != NULL; s++) {
		int n = snprintf(known + len, sizeof(known) - len, "%s%s", len > 0 ? ", " : "", s->key);

		if (n < 0 || (size_t)n >= sizeof(known) - len)
			break;
		len += (size_t)n;
	}
	if (len == 0)
		return ctl_fail("unknown setting '%s': there are no %s settings yet", key, scope);
	return ctl_fail("unknown setting '%s': the %s settings are %s", key, scope, known);
}

int ctl_setting_set(struct ctl *c, const char *scope, const char *name, const char *key,
		    const char *value)
{
	const struct ctl_setting *s;
	const char *error;

	for (s = ctl_settings_table(scope); s->key != NULL; s++) {
		if (strcmp(s->key, key) == 0)
			break;
	}
	if (s->key == NULL)
		return ctl_setting_unknown(scope, key);
	if (s->apply != NULL)
		return s->apply(c, name, value);
	if (s->validate != NULL && s->validate(value, &error) < 0)
		return ctl_fail("cannot set %s to '%s': %s", key, value, error);
	if (directory_setting_set(c->dir, scope, name, key, value, &error) < 0)
		return ctl_fail("cannot store the setting %s: %s", key, error);
	ctl_event(c, "setting-changed", name, "%s = %s", key, value);
	printf("%s %s: %s = %s\n", scope, name, key, value);
	return 0;
}

static void ctl_setting_json_cb(const char *key, const char *value, void *ctx)
{
	json_kv_string(ctx, key, value);
}

void ctl_settings_json(struct ctl *c, struct json *j, const char *scope, const char *name)
{
	json_key(j, "settings");
	json_object_begin(j);
	directory_setting_list(c->dir, scope, name, ctl_setting_json_cb, j);
	json_object_end(j);
}

static void ctl_setting_print_cb(const char *key, const char *value, void *ctx)
{
	printf("  %-14s %s\n", key, value);
	(*(unsigned *)ctx)++;
}

void ctl_settings_print(struct ctl *c, const char *scope, const char *name)
{
	unsigned n = 0;

	printf("settings:\n");
	directory_setting_list(c->dir, scope, name, ctl_setting_print_cb, &n);
	if (n == 0)
		printf("  (none)\n");
}
