/* Per-domain and per-account settings (`domain set`, `account set`) and
 * `yubinctl settings list`, the help of every setting. Keys, types, checks
 * and help come from the settings table (src/settings/); an account column
 * (memo, enabled) is applied here, every other value is checked by
 * settings_check and stored in the settings table. Unknown keys are refused
 * with the list of known ones, so a typo never lands in the database. */
#include "ctl/ctl.h"
#include "directory/directory.h"
#include "lib/json.h"
#include "lib/str.h"
#include "settings/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_setting_set(struct ctl *c, enum setting_scope scope, const char *name, const char *key,
		    const char *value)
{
	struct ops_setting_result r;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	const char *shown;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_setting_set(o, &actor, scope, name, key, value, &r, &err) < 0)
		return ctl_ops_fail(&err);
	if (r.warn[0] != '\0')
		ctl_warn("%s", r.warn);
	shown = settings_display(r.s, r.value, false);
	switch (r.s->id) {
	case SETTING_MEMO:
		printf("memo of %s: %s\n", name, r.value);
		return 0;
	case SETTING_ENABLED:
		ctl_account_enabled_print(name, strcmp(r.value, "on") == 0, r.changed);
		return 0;
	default:
		break;
	}
	if (r.s->type == SETTING_ADDRESS_LIST && r.value[0] == '\0')
		printf("%s %s: %s = (none)%s\n", settings_scope_name(scope), name, key,
		       r.s->id == SETTING_FORWARD ? ": mail is no longer forwarded" : "");
	else
		printf("%s %s: %s = %s\n", settings_scope_name(scope), name, key, shown);
	if (r.s->id == SETTING_BATV && strcmp(r.value, "on") == 0)
		printf("bounces to unsigned addresses of %s are now refused; outgoing envelope senders"
		       " are signed (prvs=) once outbound delivery is enabled\n", name);
	return 0;
}

int ctl_setting_unset(struct ctl *c, enum setting_scope scope, const char *name, const char *key)
{
	struct ops_setting_result r;
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o;
	const char *from;

	if ((o = ctl_ops(c, &actor)) == NULL)
		return 1;
	if (ops_setting_unset(o, &actor, scope, name, key, &r, &err) < 0)
		return ctl_ops_fail(&err);
	from = scope == SETTING_ACCOUNT && (r.s->scopes & SETTING_DOMAIN) != 0 ? "its domain's value or the default"
									       : "the default";
	if (!r.changed)
		printf("%s %s: %s was not set; it is %s (%s)\n", settings_scope_name(scope), name, r.s->key,
		       settings_display(r.s, r.value, false), from);
	else
		printf("%s %s: %s reset to %s (%s)\n", settings_scope_name(scope), name, r.s->key,
		       settings_display(r.s, r.value, false), from);
	return 0;
}

/* The settings stored for a domain or an account, as the API lists them
 * (ops_setting_list: the same scope rules, secrets masked), only those
 * set and not an account column (memo and enabled are shown apart), by
 * key. */
struct ctl_setting_rows {
	struct ctl_setting_row {
		const char *key;
		char *shown;
	} row[SETTING_COUNT];
	size_t n;
};

static void ctl_setting_row_cb(const struct ops_setting_row *row, void *ctx)
{
	struct ctl_setting_rows *rows = ctx;
	char *shown;

	if (!row->set || (row->s->flags & SETTING_COLUMN) != 0 || rows->n == SETTING_COUNT)
		return;
	shown = strdup(row->value);
	if (shown == NULL)
		return;
	rows->row[rows->n].key = row->s->key;
	rows->row[rows->n].shown = shown;
	rows->n++;
}

static int ctl_setting_row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ctl_setting_row *)a)->key, ((const struct ctl_setting_row *)b)->key);
}

static void ctl_setting_rows_get(struct ctl *c, enum setting_scope scope, const char *name,
				 struct ctl_setting_rows *rows)
{
	struct ops_actor actor;
	struct ops_error err;
	struct ops *o = ctl_ops(c, &actor);

	rows->n = 0;
	if (o == NULL)
		return;
	if (ops_setting_list(o, &actor, scope, name, ctl_setting_row_cb, rows, &err) < 0)
		ctl_ops_fail(&err);
	qsort(rows->row, rows->n, sizeof(rows->row[0]), ctl_setting_row_cmp);
}

static void ctl_setting_rows_free(struct ctl_setting_rows *rows)
{
	for (size_t i = 0; i < rows->n; i++)
		free(rows->row[i].shown);
	rows->n = 0;
}

void ctl_settings_json(struct ctl *c, struct json *j, enum setting_scope scope, const char *name)
{
	struct ctl_setting_rows rows;

	ctl_setting_rows_get(c, scope, name, &rows);
	json_key(j, "settings");
	json_object_begin(j);
	for (size_t i = 0; i < rows.n; i++)
		json_kv_string(j, rows.row[i].key, rows.row[i].shown);
	json_object_end(j);
	ctl_setting_rows_free(&rows);
}

void ctl_settings_print(struct ctl *c, enum setting_scope scope, const char *name)
{
	struct ctl_setting_rows rows;

	ctl_setting_rows_get(c, scope, name, &rows);
	printf("settings:\n");
	for (size_t i = 0; i < rows.n; i++)
		printf("  %-20s %s\n", rows.row[i].key, rows.row[i].shown);
	if (rows.n == 0)
		printf("  (none)\n");
	ctl_setting_rows_free(&rows);
}

static void ctl_setting_help_json(struct json *j, const struct setting *s)
{
	char type[256];

	settings_type_text(s, type, sizeof(type));
	json_object_begin(j);
	json_kv_string(j, "key", s->key);
	json_key(j, "scopes");
	json_array_begin(j);
	for (unsigned sc = SETTING_SERVER; sc <= SETTING_ACCOUNT; sc <<= 1) {
		if ((s->scopes & sc) != 0)
			json_string(j, settings_scope_name(sc));
	}
	json_array_end(j);
	json_kv_string(j, "type", type);
	if (s->def != NULL)
		json_kv_string(j, "default", s->def);
	json_kv_bool(j, "secret", (s->flags & SETTING_SECRET) != 0);
	json_kv_bool(j, "restart", (s->flags & SETTING_RESTART) != 0);
	json_kv_string(j, "help_en", s->help_en);
	json_kv_string(j, "help_ja", s->help_ja);
	json_object_end(j);
}

static void ctl_setting_help_print(const struct setting *s)
{
	char type[256], scopes[64] = "";
	size_t len = 0;

	settings_type_text(s, type, sizeof(type));
	for (unsigned sc = SETTING_SERVER; sc <= SETTING_ACCOUNT; sc <<= 1) {
		if ((s->scopes & sc) != 0)
			len += (size_t)snprintf(scopes + len, sizeof(scopes) - len, "%s%s",
						len > 0 ? "/" : "", settings_scope_name(sc));
	}
	printf("%s  (%s; %s; default %s%s%s)\n    %s\n    %s\n", s->key, scopes, type,
	       s->def == NULL ? "unset" : s->def[0] == '\0' ? "empty" : s->def,
	       (s->flags & SETTING_SECRET) != 0 ? "; secret" : "",
	       (s->flags & SETTING_RESTART) != 0 ? "; needs a restart" : "", s->help_en, s->help_ja);
}

/* yubinctl settings list [server|domain|account] [--json] */
int cmd_settings_list(struct ctl *c)
{
	unsigned scopes = SETTING_SERVER | SETTING_DOMAIN | SETTING_ACCOUNT;
	struct json j;

	if (c->argc > 0) {
		scopes = 0;
		for (unsigned sc = SETTING_SERVER; sc <= SETTING_ACCOUNT; sc <<= 1) {
			if (strcmp(c->argv[0], settings_scope_name(sc)) == 0)
				scopes = sc;
		}
		if (scopes == 0)
			return ctl_fail("'%s' is not a scope: server, domain or account", c->argv[0]);
	}
	if (c->json) {
		json_init(&j);
		json_array_begin(&j);
	}
	for (unsigned i = 0; i < SETTING_COUNT; i++) {
		const struct setting *s = settings_get(i);

		if ((s->scopes & scopes) == 0)
			continue;
		if (c->json)
			ctl_setting_help_json(&j, s);
		else
			ctl_setting_help_print(s);
	}
	if (c->json) {
		json_array_end(&j);
		return ctl_json_print(&j);
	}
	return 0;
}
