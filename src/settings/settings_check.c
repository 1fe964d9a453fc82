/* Checking and normalising setting values: the one boolean parser, the
 * checks every type makes, and the validators the table names. */
#include "settings/settings.h"
#include "settings/settings_check.h"
#include "directory/directory.h"
#include "directory/validate.h"
#include "lib/config.h"
#include "lib/https_client.h"
#include "lib/str.h"
#include "policy/foreign.h"
#include "policy/forward.h"
#include "policy/sendas.h"
#include "policy/sendlimit.h"
#include "proto/clamd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETTINGS_MASK "********"
#define WIDE_V4_PREFIX 8	/* IPv4 networks shorter than this get a warning */
#define WIDE_V6_PREFIX 16

int settings_bool_parse(const char *s, bool *value_r)
{
	static const char *const yes[] = { "on", "yes", "true", "1", NULL };
	static const char *const no[] = { "off", "no", "false", "0", NULL };

	for (int i = 0; yes[i] != NULL; i++) {
		if (str_eq_ci(s, yes[i])) {
			*value_r = true;
			return 0;
		}
		if (str_eq_ci(s, no[i])) {
			*value_r = false;
			return 0;
		}
	}
	return -1;
}

int settings_duration_parse(const char *s, uint64_t *seconds_r)
{
	static const struct { char suffix; uint64_t mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	char digits[24];
	size_t len = strlen(s);
	uint64_t mult = 1, v;

	if (len == 0 || len >= sizeof(digits))
		return -1;
	memcpy(digits, s, len + 1);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (tolower((unsigned char)digits[len - 1]) == units[i].suffix) {
			mult = units[i].mult;
			digits[--len] = '\0';
			break;
		}
	}
	if (str_parse_uint(digits, UINT32_MAX, &v) < 0 || v > UINT32_MAX / mult)
		return -1;
	*seconds_r = v * mult;
	return 0;
}

int settings_check_resolver(const char *name, const char *value, char *norm, size_t normsize,
			    char *warn, size_t warnsize, const char **error_r)
{
	return config_resolver_check(value, error_r);
}

int settings_check_acme_url(const char *name, const char *value, char *norm, size_t normsize,
			    char *warn, size_t warnsize, const char **error_r)
{
	struct https_url u;

	return https_url_parse(value, &u, error_r);
}

int settings_check_acme_contact(const char *name, const char *value, char *norm, size_t normsize,
				char *warn, size_t warnsize, const char **error_r)
{
	char local[256], domain[256];

	if (value[0] == '\0')
		return 0;
	if (validate_address(value, local, sizeof(local), domain, sizeof(domain), error_r) < 0)
		return -1;
	snprintf(norm, normsize, "%s@%s", local, domain);
	return 0;
}

int settings_check_path(const char *name, const char *value, char *norm, size_t normsize,
			char *warn, size_t warnsize, const char **error_r)
{
	if (value[0] != '\0' && value[0] != '/') {
		*error_r = "must be an absolute path (or empty)";
		return -1;
	}
	return 0;
}

int settings_check_directory_url(const char *name, const char *value, char *norm, size_t normsize,
				 char *warn, size_t warnsize, const char **error_r)
{
	if (strncmp(value, "postgresql://", 13) == 0 || strncmp(value, "postgres://", 11) == 0) {
		for (const char *p = value; *p != '\0'; p++) {
			if ((unsigned char)*p <= ' ' || *p == 0x7f) {
				*error_r = "a connection URI has no spaces or control characters";
				return -1;
			}
		}
		return 0;
	}
	if (value[0] != '\0' && value[0] != '/') {
		*error_r = "must be empty (DATA/yubin.db), an absolute path or a postgresql:// URI";
		return -1;
	}
	return 0;
}

int settings_check_retention_days(const char *name, const char *value, char *norm, size_t normsize,
				  char *warn, size_t warnsize, const char **error_r)
{
	unsigned long days = strtoul(norm, NULL, 10);

	/* the compromise detection and doctor read the last days' events */
	if (days != 0 && days < 7) {
		*error_r = "0 (kept for ever) or at least 7 days";
		return -1;
	}
	return 0;
}

int settings_check_ip_list_or_empty(const char *name, const char *value, char *norm, size_t normsize,
				    char *warn, size_t warnsize, const char **error_r)
{
	char copy[512], *save = NULL, *a;
	unsigned char bin[16];

	if (str_copy(copy, sizeof(copy), value) < 0) {
		*error_r = "the address list is too long";
		return -1;
	}
	for (a = strtok_r(copy, ", \t", &save); a != NULL; a = strtok_r(NULL, ", \t", &save)) {
		if (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1) {
			*error_r = "takes IP addresses like 192.0.2.1 or 2001:db8::1, separated by commas";
			return -1;
		}
	}
	return 0;
}

int settings_check_clamd(const char *name, const char *value, char *norm, size_t normsize,
			 char *warn, size_t warnsize, const char **error_r)
{
	struct clamd_address a;

	return value[0] == '\0' ? 0 : clamd_address_parse(value, &a, error_r);
}

/* A warning for a network so wide that the exemption means little. */
static void settings_cidr_wide(const struct net_cidr *c, const char *text, char *warn, size_t warnsize)
{
	bool v4 = net_addr_is_v4(&c->addr) && c->prefix >= 96;
	unsigned bits = v4 ? c->prefix - 96 : c->prefix;

	if (bits >= (v4 ? WIDE_V4_PREFIX : WIDE_V6_PREFIX) || warn[0] != '\0')
		return;
	if (bits == 0)
		snprintf(warn, warnsize, "%s is every %s address: logins from anywhere in the world are"
			 " exempt, as if the foreign-access restriction were off", text,
			 v4 ? "IPv4" : c->prefix == 0 ? "IPv4 and IPv6" : "IPv6");
	else
		snprintf(warn, warnsize, "%s is a very wide range (a 1/%llu share of all %s addresses,"
			 " spanning many providers and countries): logins from all of it are exempt from"
			 " the foreign-access restriction; list only your own networks", text,
			 1ULL << (bits > 63 ? 63 : bits), v4 ? "IPv4" : "IPv6");
}

/* Appends item to a normalised list ("a, b"); -1 when it no longer fits. */
static int settings_list_append(char *norm, size_t normsize, size_t *len, const char *item,
				const char **error_r)
{
	int w = snprintf(norm + *len, normsize - *len, "%s%s", *len > 0 ? ", " : "", item);

	if (w < 0 || (size_t)w >= normsize - *len) {
		*error_r = "the list is too long";
		return -1;
	}
	*len += (size_t)w;
	return 0;
}

/* CIDRs separated by commas or blanks, stored canonical ("10.0.0.0/8,
 * 2001:db8::/32"); very wide ranges are accepted with a warning. */
int settings_check_cidr_list(const char *name, const char *value, char *norm, size_t normsize,
			     char *warn, size_t warnsize, const char **error_r)
{
	const char *p = value;
	size_t len = 0;

	norm[0] = '\0';
	while (*p != '\0') {
		char item[256], canon[64];
		struct net_cidr c;
		size_t n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		if (str_copyn(item, sizeof(item), p, n) < 0) {
			*error_r = "an entry is too long to be a CIDR";
			return -1;
		}
		if (net_cidr_parse(item, &c, error_r) < 0)
			return -1;
		net_cidr_format(&c, canon, sizeof(canon));
		settings_cidr_wide(&c, item, warn, warnsize);
		if (settings_list_append(norm, normsize, &len, canon, error_r) < 0)
			return -1;
		p += n;
	}
	return 0;
}

/* `forward`: up to 100 addresses, stored normalised ("a@x.example,
 * b@y.example"); "" or "off" stops forwarding. */
int settings_check_forward(const char *name, const char *value, char *norm, size_t normsize,
			   char *warn, size_t warnsize, const char **error_r)
{
	char list[FORWARD_MAX][FORWARD_ADDR_MAX];
	size_t n = 0, len = 0;

	norm[0] = '\0';
	if (str_eq_ci(value, "off"))
		return 0;
	if (forward_list_parse(value, name, list, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (settings_list_append(norm, normsize, &len, list[i], error_r) < 0)
			return -1;
	}
	return 0;
}

/* UTF-8 of at most max bytes without control characters. */
static int autoreply_text(const char *value, size_t max, const char **error_r)
{
	size_t len = strlen(value);

	if (len > max) {
		*error_r = max == 200 ? "at most 200 bytes" : "at most 4000 bytes";
		return -1;
	}
	for (size_t i = 0; i < len;) {
		size_t n = str_utf8_char_len(value + i, len - i);

		if (n == 0 || (unsigned char)value[i] < 0x20 || value[i] == 0x7f) {
			*error_r = "must be UTF-8 text without control characters";
			return -1;
		}
		i += n;
	}
	return 0;
}

int settings_check_autoreply_subject(const char *name, const char *value, char *norm, size_t normsize,
				     char *warn, size_t warnsize, const char **error_r)
{
	return autoreply_text(value, 200, error_r);
}

int settings_check_autoreply_body(const char *name, const char *value, char *norm, size_t normsize,
				  char *warn, size_t warnsize, const char **error_r)
{
	return autoreply_text(value, 4000, error_r);
}

/* YYYY-MM-DD of a real day, or "" (none). */
int settings_check_autoreply_date(const char *name, const char *value, char *norm, size_t normsize,
				  char *warn, size_t warnsize, const char **error_r)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, m, d;
	int used = 0;

	if (value[0] == '\0' || str_eq_ci(value, "off")) {
		norm[0] = '\0';
		return 0;
	}
	if (strlen(value) != 10 || sscanf(value, "%4u-%2u-%2u%n", &y, &m, &d, &used) != 3 || used != 10 ||
	    value[4] != '-' || value[7] != '-' || y < 2000 || y > 2999 || m < 1 || m > 12 || d < 1 ||
	    (int)d > mdays[m - 1] || (m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)))) {
		*error_r = "a date is YYYY-MM-DD, e.g. 2026-12-24";
		return -1;
	}
	return 0;
}

/* `send-as`: addresses or *@domain, lowercased and joined with ", ";
 * "" or "off" grants none. */
int settings_check_send_as(const char *name, const char *value, char *norm, size_t normsize,
			   char *warn, size_t warnsize, const char **error_r)
{
	char list[SENDAS_MAX][SENDAS_ADDR_MAX];
	size_t n = 0, len = 0;

	norm[0] = '\0';
	if (str_eq_ci(value, "off"))
		return 0;
	if (sendas_list_parse(value, list, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (settings_list_append(norm, normsize, &len, list[i], error_r) < 0)
			return -1;
	}
	return 0;
}

/* Every domain of a send-as list must be hosted here. */
int settings_check_send_as_domains(struct directory *dir, const char *norm, const char **error_r)
{
	static __thread char text[SENDAS_ADDR_MAX + 96];
	char list[SENDAS_MAX][SENDAS_ADDR_MAX];
	size_t n = 0;

	if (sendas_list_parse(norm, list, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *domain = strrchr(list[i], '@') + 1;
		struct dir_domain d;
		int r = directory_domain_get(dir, domain, &d);

		if (r <= 0) {
			snprintf(text, sizeof(text), r < 0 ? "cannot read the domain %s from the database"
				 : "%s is not in a domain hosted here (the domain %s does not exist)",
				 r < 0 ? domain : list[i], domain);
			*error_r = text;
			return -1;
		}
	}
	return 0;
}

static int settings_check_number(const struct setting *s, const char *value, uint64_t *v_r,
				 const char **error_r)
{
	int r;

	switch (s->type) {
	case SETTING_SIZE:
		r = str_parse_size(value, v_r);
		*error_r = "not a size (digits, optional K/M/G)";
		break;
	case SETTING_DURATION:
		r = settings_duration_parse(value, v_r);
		*error_r = "not a duration (seconds, or a number with s, m, h or d)";
		break;
	case SETTING_LIMIT:
		return sendlimit_parse(value, v_r, error_r);
	default:
		r = str_parse_uint(value, UINT32_MAX, v_r);
		*error_r = "not a number";
		break;
	}
	if (r < 0)
		return -1;
	if (*v_r < s->min || *v_r > s->max) {
		*error_r = "out of range";
		return -1;
	}
	return 0;
}

/* The LDH rule for host names; one label (localhost) is allowed. */
static int settings_check_hostname(const char *host, const char **error_r)
{
	size_t len = strlen(host), label = 0;

	if (len == 0 || len > 253) {
		*error_r = "the host name must be 1 to 253 characters";
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		char ch = host[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || host[i - 1] == '-' || host[i - label] == '-') {
				*error_r = "each part of a host name must be 1 to 63 characters of a-z, 0-9"
					   " and '-', not starting or ending with '-'";
				return -1;
			}
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)ch) && ch != '-') {
			*error_r = "a host name has only a-z, 0-9, '-' and '.'";
			return -1;
		}
		label++;
	}
	return 0;
}

/* IP addresses separated by commas or blanks, at least one. */
static int settings_check_ip_list(const char *value, const char **error_r)
{
	char copy[256], *save = NULL, *a;
	unsigned char bin[16];
	int n = 0;

	if (str_copy(copy, sizeof(copy), value) < 0) {
		*error_r = "the address list is too long";
		return -1;
	}
	for (a = strtok_r(copy, ", \t", &save); a != NULL; a = strtok_r(NULL, ", \t", &save)) {
		if (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1) {
			*error_r = "takes IP addresses like 0.0.0.0, 127.0.0.1 or ::1, separated by commas";
			return -1;
		}
		n++;
	}
	if (n == 0) {
		*error_r = "needs at least one IP address";
		return -1;
	}
	return 0;
}

static int settings_check_enum(const struct setting *s, const char *value, const char **error_r)
{
	for (const char *const *c = s->choices; *c != NULL; c++) {
		if (strcmp(*c, value) == 0)
			return 0;
	}
	{
		static __thread char text[160];
		size_t len = (size_t)snprintf(text, sizeof(text), "must be ");

		for (const char *const *c = s->choices; *c != NULL && len < sizeof(text); c++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
						c == s->choices ? "" : c[1] == NULL ? " or " : ", ", *c);
		*error_r = text;
	}
	return -1;
}

/* "" or a host name (lower-cased): proxy.node_tls_name. */
int settings_check_hostname_or_empty(const char *name, const char *value, char *norm, size_t normsize,
				     char *warn, size_t warnsize, const char **error_r)
{
	if (value[0] == '\0')
		return 0;
	str_copy(norm, normsize, value);
	str_lower(norm);
	return settings_check_hostname(norm, error_r);
}

/* The type's own check; may write a normalised form into norm. */
static int settings_check_type(const struct setting *s, const char *value, char *norm,
			       size_t normsize, const char **error_r)
{
	char local[DIR_LOCAL_MAX + 1], domain[DIR_DOMAIN_MAX + 1];
	uint64_t v;
	bool b;

	switch (s->type) {
	case SETTING_BOOL:
		if (settings_bool_parse(value, &b) < 0) {
			*error_r = "must be on or off (also yes/no, true/false, 1/0)";
			return -1;
		}
		return str_copy(norm, normsize, b ? "on" : "off");
	case SETTING_UINT: case SETTING_PORT: case SETTING_SIZE: case SETTING_DURATION: case SETTING_LIMIT:
		return settings_check_number(s, value, &v, error_r);
	case SETTING_ENUM:
		return settings_check_enum(s, value, error_r);
	case SETTING_HOSTNAME:
		str_lower(norm);
		return settings_check_hostname(norm, error_r);
	case SETTING_IP_LIST:
		return settings_check_ip_list(value, error_r);
	case SETTING_ADDRESS:
		if (validate_address(value, local, sizeof(local), domain, sizeof(domain), error_r) < 0)
			return -1;
		snprintf(norm, normsize, "%s@%s", local, domain);
		return 0;
	case SETTING_COUNTRY:
		if (strlen(value) != 2 || !isalpha((unsigned char)value[0]) ||
		    !isalpha((unsigned char)value[1])) {
			*error_r = "a country is two letters (ISO 3166-1), e.g. JP";
			return -1;
		}
		norm[0] = (char)toupper((unsigned char)value[0]);
		norm[1] = (char)toupper((unsigned char)value[1]);
		norm[2] = '\0';
		return 0;
	default:
		return 0;
	}
}

bool settings_is_text(const struct setting *s)
{
	return s->type == SETTING_STRING || s->type == SETTING_HOSTNAME || s->type == SETTING_IP_LIST ||
	       s->type == SETTING_CIDR_LIST || s->type == SETTING_ENUM || s->type == SETTING_ADDRESS ||
	       s->type == SETTING_ADDRESS_LIST || s->type == SETTING_COUNTRY;
}

int settings_check(const struct setting *s, const char *name, const char *value, char *norm,
		   size_t normsize, char *warn, size_t warnsize, const char **error_r)
{
	if (warnsize > 0)
		warn[0] = '\0';
	if (strpbrk(value, "\r\n") != NULL) {
		*error_r = "a value cannot contain a line break";
		return -1;
	}
	if (str_copy(norm, normsize, value) < 0) {
		*error_r = "value too long";
		return -1;
	}
	if (settings_check_type(s, value, norm, normsize, error_r) < 0)
		return -1;
	if (s->check != NULL &&
	    s->check(name, value, norm, normsize, warn, warnsize, error_r) < 0)
		return -1;
	/* server strings live in fixed buffers of struct config */
	if (s->size > 0 && settings_is_text(s) && strlen(norm) >= s->size) {
		*error_r = "value too long";
		return -1;
	}
	return 0;
}

const char *settings_display(const struct setting *s, const char *value, bool show)
{
	if (show || (s->flags & SETTING_SECRET) == 0 || value[0] == '\0')
		return value;
	return SETTINGS_MASK;
}

void settings_type_text(const struct setting *s, char *buf, size_t size)
{
	size_t len = 0;

	switch (s->type) {
	case SETTING_BOOL: snprintf(buf, size, "on|off"); return;
	case SETTING_PORT: snprintf(buf, size, "port 0..65535"); return;
	case SETTING_UINT: snprintf(buf, size, "%" PRIu64 "..%" PRIu64, s->min, s->max); return;
	case SETTING_SIZE: snprintf(buf, size, "size %" PRIu64 "..%" PRIu64 " bytes (K/M/G)", s->min, s->max); return;
	case SETTING_DURATION:
		snprintf(buf, size, "seconds %" PRIu64 "..%" PRIu64 " (s/m/h/d)", s->min, s->max);
		return;
	case SETTING_LIMIT: snprintf(buf, size, "0..%" PRIu64 "|unlimited", s->max); return;
	case SETTING_ENUM:
		buf[0] = '\0';
		for (const char *const *c = s->choices; *c != NULL && len < size; c++)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len > 0 ? "|" : "", *c);
		return;
	case SETTING_STRING: snprintf(buf, size, "text"); return;
	case SETTING_HOSTNAME: snprintf(buf, size, "host name"); return;
	case SETTING_ADDRESS: snprintf(buf, size, "mail address"); return;
	case SETTING_ADDRESS_LIST: snprintf(buf, size, "mail addresses"); return;
	case SETTING_IP_LIST: snprintf(buf, size, "IP addresses"); return;
	case SETTING_CIDR_LIST: snprintf(buf, size, "CIDR list"); return;
	case SETTING_COUNTRY: snprintf(buf, size, "country code"); return;
	}
	snprintf(buf, size, "?");
}
