#include "lib/config.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits one line into key and value; returns 0 for a blank or comment
 * line, 1 for a setting, -1 for garbage. Modifies line. */
static int config_line_split(char *line, char **key_r, char **value_r)
{
	char *eq, *key;

	key = str_trim(line);
	if (*key == '\0' || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (eq == NULL)
		return -1;
	*eq = '\0';
	*key_r = str_trim(key);
	*value_r = str_trim(eq + 1);
	return **key_r == '\0' ? -1 : 1;
}

int config_parse_lines(const char *text, size_t len, config_line_fn *fn, void *ctx,
		       unsigned *line_r, const char **error_r)
{
	char line[1024];
	size_t pos = 0;
	unsigned lineno = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t linelen = (nl != NULL ? (size_t)(nl - text) : len) - pos;
		char *key, *value;
		int r;

		lineno++;
		*line_r = lineno;
		if (linelen >= sizeof(line)) {
			*error_r = "line too long";
			return -1;
		}
		memcpy(line, text + pos, linelen);
		line[linelen] = '\0';
		pos += linelen + 1;
		if (memchr(line, '\0', linelen) != NULL) {
			*error_r = "NUL byte";
			return -1;
		}
		r = config_line_split(line, &key, &value);
		if (r < 0) {
			*error_r = "expected `key = value`";
			return -1;
		}
		if (r > 0 && fn(ctx, key, value, error_r) < 0)
			return -1;
	}
	return 0;
}

char *config_text_set(const char *text, const char *key, const char *value)
{
	size_t len = strlen(text), cap = len + strlen(key) + strlen(value) + 8;
	char *out = malloc(cap), line[1024];
	size_t pos = 0, o = 0;
	int replaced = 0;

	if (out == NULL)
		return NULL;
	while (pos < len) {
		const char *nl = strchr(text + pos, '\n');
		size_t linelen = (nl != NULL ? (size_t)(nl - text) : len) - pos;
		char *k, *v;

		if (linelen < sizeof(line)) {
			memcpy(line, text + pos, linelen);
			line[linelen] = '\0';
			if (config_line_split(line, &k, &v) > 0 && strcmp(k, key) == 0) {
				/* Later lines for the key would override this one
				 * when parsed: drop them. */
				if (!replaced)
					o += (size_t)sprintf(out + o, "%s = %s\n", key, value);
				replaced = 1;
				pos += linelen + 1;
				continue;
			}
		}
		memcpy(out + o, text + pos, linelen);
		o += linelen;
		out[o++] = '\n';
		pos += linelen + 1;
	}
	if (!replaced)
		o += (size_t)sprintf(out + o, "%s = %s\n", key, value);
	out[o] = '\0';
	return out;
}

/* dns.resolver: "" or an IP address with an optional port. */
int config_resolver_check(const char *s, const char **error_r)
{
	char host[256];
	const char *colon;
	struct in_addr in4;
	struct in6_addr in6;

	if (s[0] == '\0')
		return 0;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || str_copyn(host, sizeof(host), s + 1, (size_t)(end - s - 1)) < 0 ||
		    inet_pton(AF_INET6, host, &in6) != 1)
			goto bad;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			goto bad;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* a bare IPv6 address */
			if (inet_pton(AF_INET6, s, &in6) == 1)
				return 0;
			goto bad;
		}
		if (str_copyn(host, sizeof(host), s, colon != NULL ? (size_t)(colon - s) : strlen(s)) < 0 ||
		    inet_pton(AF_INET, host, &in4) != 1)
			goto bad;
	}
	if (colon != NULL) {
		uint64_t port;
		if (str_parse_uint(colon + 1, 65535, &port) < 0 || port == 0)
			goto bad;
	}
	return 0;
bad:
	*error_r = "must be an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53";
	return -1;
}
