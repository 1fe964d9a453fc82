/* libFuzzer target: yubin.conf text (settings_conf_parse: the line format
 * of lib/config.c with every key's check from the settings table) and
 * rewriting one key in it (config_text_set): a text that parses still
 * parses after a set, and then gives the value that was set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "settings/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "hostname", "smtp.port", "log.level", "smtp.max_message_size" };
	static const char *const values[] = { "fuzz.example.test", "2525", "warn", "1048576" };
	struct config cfg;
	unsigned line = 0;
	const char *error = NULL;
	char *text, *out, buf[512];
	int r;

	settings_conf_defaults(&cfg);
	r = settings_conf_parse(&cfg, (const char *)data, size, &line, &error);
	if (r < 0 && (error == NULL || line == 0))
		abort();
	/* each string setting stays NUL-terminated inside its buffer */
	if (strnlen(cfg.hostname, sizeof(cfg.hostname)) == sizeof(cfg.hostname) ||
	    strnlen(cfg.log_level, sizeof(cfg.log_level)) == sizeof(cfg.log_level))
		abort();
	if (r < 0 || memchr(data, '\0', size) != NULL)
		return 0;

	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	size_t k = size > 0 ? data[0] % 4 : 0;
	out = config_text_set(text, keys[k], values[k]);
	if (out == NULL)
		abort();
	settings_conf_defaults(&cfg);
	error = NULL;
	if (settings_conf_parse(&cfg, out, strlen(out), &line, &error) < 0)
		abort();
	if (settings_conf_get(&cfg, keys[k], buf, sizeof(buf)) < 0 || strcmp(buf, values[k]) != 0)
		abort();
	free(out);
	free(text);
	return 0;
}
