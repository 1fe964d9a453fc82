/* Reading domain and account settings from the directory through typed
 * getters; the decisions the daemon and yubinctl both make from them
 * (foreign access, sending limits). */
#include "settings/settings.h"
#include "settings/settings_check.h"
#include "directory/directory.h"
#include "lib/config.h"
#include "lib/str.h"
#include "policy/forward.h"
#include "policy/sendlimit.h"

#include <stdio.h>
#include <string.h>


/* The stored text of id for scope/name; 1 found, 0 unset, -1 error. */
static int settings_stored(struct directory *dir, enum setting_scope scope, const char *name,
			   enum setting_id id, char *buf, size_t size)
{
	if (dir == NULL || name == NULL)
		return 0;
	return directory_setting_get(dir, settings_scope_name(scope), name, settings_key(id), buf, size);
}

/* The account's value, else its domain's when the key is a domain
 * setting too. */
static int settings_account_stored(struct directory *dir, const char *address, enum setting_id id,
				   char *buf, size_t size)
{
	const char *at = address != NULL ? strrchr(address, '@') : NULL;
	int r = settings_stored(dir, SETTING_ACCOUNT, address, id, buf, size);

	if (r != 0)
		return r;
	if ((settings_table[id].scopes & SETTING_DOMAIN) != 0 && at != NULL)
		return settings_stored(dir, SETTING_DOMAIN, at + 1, id, buf, size);
	return 0;
}

static bool settings_bool_of(enum setting_id id, int found, const char *text)
{
	bool v;

	if (found > 0 && settings_bool_parse(text, &v) == 0)
		return v;
	return settings_bool_parse(settings_table[id].def, &v) == 0 && v;
}

bool settings_domain_bool(struct directory *dir, const char *domain, enum setting_id id)
{
	char v[16];

	return settings_bool_of(id, settings_stored(dir, SETTING_DOMAIN, domain, id, v, sizeof(v)), v);
}

bool settings_account_bool(struct directory *dir, const char *address, enum setting_id id)
{
	char v[16];

	return settings_bool_of(id, settings_account_stored(dir, address, id, v, sizeof(v)), v);
}

uint64_t settings_domain_uint(struct directory *dir, const char *domain, enum setting_id id)
{
	const struct setting *s = &settings_table[id];
	char v[32];
	uint64_t n;

	if (settings_stored(dir, SETTING_DOMAIN, domain, id, v, sizeof(v)) > 0 &&
	    str_parse_uint(v, s->max, &n) == 0 && n >= s->min)
		return n;
	if (s->def != NULL && str_parse_uint(s->def, s->max, &n) == 0)
		return n;
	return 0;
}

int settings_domain_string(struct directory *dir, const char *domain, enum setting_id id,
			   char *buf, size_t size)
{
	int r = settings_stored(dir, SETTING_DOMAIN, domain, id, buf, size);

	if (r > 0)
		return 1;
	str_copy(buf, size, settings_table[id].def != NULL ? settings_table[id].def : "");
	return r;
}

int settings_account_string(struct directory *dir, const char *address, enum setting_id id,
			    char *buf, size_t size)
{
	int r = settings_account_stored(dir, address, id, buf, size);

	if (r > 0)
		return 1;
	str_copy(buf, size, settings_table[id].def != NULL ? settings_table[id].def : "");
	return r;
}

int settings_store(struct directory *dir, enum setting_scope scope, const char *name,
		   const struct setting *s, const char *value, char *norm, size_t normsize,
		   char *warn, size_t warnsize, const char **error_r)
{
	if ((s->scopes & scope) == 0 || scope == SETTING_SERVER || (s->flags & SETTING_COLUMN) != 0) {
		*error_r = "not a setting of this scope";
		return -1;
	}
	if (settings_check(s, name, value, norm, normsize, warn, warnsize, error_r) < 0)
		return -1;
	if (s->dir_check != NULL && s->dir_check(dir, norm, error_r) < 0)
		return -1;
	return directory_setting_set(dir, settings_scope_name(scope), name, s->key, norm, error_r);
}

static uint64_t settings_limit(struct directory *dir, const char *address, enum setting_id id,
			       uint64_t def)
{
	char v[64];
	uint64_t n;
	const char *error;

	if (settings_account_stored(dir, address, id, v, sizeof(v)) > 0 && sendlimit_parse(v, &n, &error) == 0)
		return n;
	return def;
}

void settings_send_limits(struct directory *dir, const struct config *cfg, const char *address,
			  uint64_t *hour_r, uint64_t *day_r)
{
	*hour_r = settings_limit(dir, address, SETTING_SEND_LIMIT_HOUR, cfg->send_limit_hour);
	*day_r = settings_limit(dir, address, SETTING_SEND_LIMIT_DAY, cfg->send_limit_day);
}

void settings_foreign_get(struct directory *dir, const char *domain, struct settings_foreign *f)
{
	char home[8];

	memset(f, 0, sizeof(*f));
	f->on = settings_domain_bool(dir, domain, SETTING_FOREIGN_AUTH);
	f->mail = settings_domain_bool(dir, domain, SETTING_FOREIGN_AUTH_MAIL);
	f->web = settings_domain_bool(dir, domain, SETTING_FOREIGN_AUTH_WEB);
	settings_domain_string(dir, domain, SETTING_FOREIGN_AUTH_COUNTRY, home, sizeof(home));
	if (strlen(home) != 2)
		str_copy(home, sizeof(home), settings_table[SETTING_FOREIGN_AUTH_COUNTRY].def);
	str_copy(f->home, sizeof(f->home), home);
	settings_domain_string(dir, domain, SETTING_FOREIGN_AUTH_ALLOW, f->allow, sizeof(f->allow));
}

bool settings_foreign_applies(const struct settings_foreign *f, const char *service)
{
	if (strcmp(service, "smtp") == 0)
		return f->on;
	if (strcmp(service, "web") == 0)
		return f->on && f->web;
	return f->on && f->mail;
}
