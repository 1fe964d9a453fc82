/* yubin.conf through the settings table: defaults, setting one key from
 * its text (the same check as yubinctl config set), formatting one key,
 * parsing and loading the file. */
#include "settings/settings.h"
#include "settings/settings_check.h"
#include "lib/config.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void settings_conf_defaults(struct config *cfg)
{
	const char *error;

	memset(cfg, 0, sizeof(*cfg));
	for (unsigned i = 0; i < SETTING_COUNT; i++) {
		const struct setting *s = &settings_table[i];

		if (s->scopes == SETTING_SERVER && settings_conf_set(cfg, s->key, s->def, &error) < 0)
			abort();	/* the table itself is wrong */
	}
}

int settings_conf_set(struct config *cfg, const char *key, const char *value, const char **error_r)
{
	const struct setting *s = settings_find(key, SETTING_SERVER);
	char norm[1024], warn[8];
	char *field;
	uint64_t v;

	if (s == NULL) {
		*error_r = "unknown setting";
		return -1;
	}
	/* Check everything first: a refused value leaves the old one. */
	if (settings_check(s, "", value, norm, sizeof(norm), warn, sizeof(warn), error_r) < 0)
		return -1;
	field = (char *)cfg + s->offset;
	if (settings_is_text(s))
		return str_copy(field, s->size, norm);
	if (s->type == SETTING_SIZE)
		str_parse_size(norm, &v);
	else if (s->type == SETTING_DURATION)
		settings_duration_parse(norm, &v);
	else
		str_parse_uint(norm, UINT32_MAX, &v);
	if (s->size == sizeof(unsigned))
		*(unsigned *)field = (unsigned)v;
	else
		*(uint64_t *)field = v;
	return 0;
}

int settings_conf_get(const struct config *cfg, const char *key, char *buf, size_t bufsize)
{
	const struct setting *s = settings_find(key, SETTING_SERVER);
	const char *field;

	if (s == NULL)
		return -1;
	field = (const char *)cfg + s->offset;
	if (settings_is_text(s))
		return str_copy(buf, bufsize, field);
	if (s->size == sizeof(unsigned))
		snprintf(buf, bufsize, "%u", *(const unsigned *)field);
	else
		snprintf(buf, bufsize, "%" PRIu64, *(const uint64_t *)field);
	return 0;
}

static int settings_conf_line(void *ctx, const char *key, const char *value, const char **error_r)
{
	return settings_conf_set(ctx, key, value, error_r);
}

int settings_conf_parse(struct config *cfg, const char *text, size_t len, unsigned *line_r,
			const char **error_r)
{
	return config_parse_lines(text, len, settings_conf_line, cfg, line_r, error_r);
}

int settings_conf_load(struct config *cfg, const char *path, char *err, size_t errsize)
{
	unsigned line = 0;
	const char *error;
	size_t len;
	char *text;
	int r;

	settings_conf_defaults(cfg);
	text = fs_read_file(path, 1 << 20, &len);
	if (text == NULL) {
		snprintf(err, errsize, "%s: %s", path, errno == EFBIG ? "too large" : strerror(errno));
		return -1;
	}
	r = settings_conf_parse(cfg, text, len, &line, &error);
	free(text);
	if (r < 0)
		snprintf(err, errsize, "%s line %u: %s", path, line, error);
	return r;
}
