#include "mail/address.h"
#include "lib/str.h"

#include <stdio.h>
#include <string.h>

/* atext of RFC 5321 (dot-string characters besides '.'), plus any UTF-8
 * byte for SMTPUTF8 (RFC 6531). */
static bool is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_domain_char(unsigned char c)
{
	return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Skips an A-d-l source route ("@a,@b:"); returns its length or -1. */
static long parse_source_route(const char *s, size_t len)
{
	size_t i = 0;

	for (;;) {
		if (i >= len || s[i] != '@')
			return -1;
		i++;
		while (i < len && is_domain_char((unsigned char)s[i]))
			i++;
		if (i >= len)
			return -1;
		if (s[i] == ':')
			return (long)i + 1;
		if (s[i] != ',')
			return -1;
		i++;
	}
}

static int parse_local(const char *s, size_t len, size_t *i, struct mail_path *p,
		       const char **error_r)
{
	size_t o = 0;

	if (*i < len && s[*i] == '"') {
		p->local_quoted = true;
		(*i)++;
		for (;;) {
			unsigned char c;
			if (*i >= len) {
				*error_r = "unterminated quoted local part";
				return -1;
			}
			c = (unsigned char)s[*i];
			if (c == '"')
				break;
			if (c == '\\') {
				(*i)++;
				if (*i >= len) {
					*error_r = "unterminated quoted local part";
					return -1;
				}
				c = (unsigned char)s[*i];
			}
			if (c < 0x20 || c == 0x7f) {
				*error_r = "control character in address";
				return -1;
			}
			if (o >= sizeof(p->local) - 1) {
				*error_r = "local part too long";
				return -1;
			}
			p->local[o++] = (char)c;
			(*i)++;
		}
		(*i)++;
	} else {
		bool prev_dot = true;	/* no leading dot */
		while (*i < len && (is_atext((unsigned char)s[*i]) || s[*i] == '.')) {
			if (s[*i] == '.' && prev_dot) {
				*error_r = "empty label in local part";
				return -1;
			}
			prev_dot = s[*i] == '.';
			if (o >= sizeof(p->local) - 1) {
				*error_r = "local part too long";
				return -1;
			}
			p->local[o++] = s[(*i)++];
		}
		if (o == 0) {
			*error_r = "missing local part";
			return -1;
		}
		if (prev_dot) {
			*error_r = "local part ends with a dot";
			return -1;
		}
	}
	p->local[o] = '\0';
	if (o > MAIL_LOCAL_MAX) {
		*error_r = "local part longer than 64 octets";
		return -1;
	}
	return 0;
}

static int parse_domain(const char *s, size_t len, size_t *i, struct mail_path *p,
			const char **error_r)
{
	size_t start = *i;

	if (*i < len && s[*i] == '[') {
		p->domain_literal = true;
		while (*i < len && s[*i] != ']') {
			unsigned char c = (unsigned char)s[*i];
			if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '>') {
				*error_r = "bad address literal";
				return -1;
			}
			(*i)++;
		}
		if (*i >= len) {
			*error_r = "unterminated address literal";
			return -1;
		}
		(*i)++;
	} else {
		while (*i < len && is_domain_char((unsigned char)s[*i]))
			(*i)++;
	}
	if (*i == start) {
		*error_r = "missing domain";
		return -1;
	}
	if (str_copyn(p->domain, sizeof(p->domain), s + start, *i - start) < 0) {
		*error_r = "domain too long";
		return -1;
	}
	str_lower(p->domain);
	if (!p->domain_literal && (p->domain[0] == '.' || strstr(p->domain, "..") != NULL)) {
		*error_r = "empty label in domain";
		return -1;
	}
	return 0;
}

int mail_path_parse(const char *s, size_t len, struct mail_path *path_r, size_t *consumed_r,
		    const char **error_r)
{
	size_t i = 0, start;

	memset(path_r, 0, sizeof(*path_r));
	while (i < len && s[i] == ' ')
		i++;
	if (i >= len || s[i] != '<') {
		*error_r = "address must be enclosed in <>";
		return -1;
	}
	start = ++i;
	if (i < len && s[i] == '>') {
		path_r->null_path = true;
		*consumed_r = i + 1;
		return 0;
	}
	if (i < len && s[i] == '@') {
		long r = parse_source_route(s + i, len - i);
		if (r < 0) {
			*error_r = "bad source route";
			return -1;
		}
		path_r->source_route = true;
		i += (size_t)r;
	}
	if (parse_local(s, len, &i, path_r, error_r) < 0)
		return -1;
	if (i >= len || s[i] != '@') {
		*error_r = "address needs a domain (user@domain)";
		return -1;
	}
	i++;
	if (parse_domain(s, len, &i, path_r, error_r) < 0)
		return -1;
	if (i >= len || s[i] != '>') {
		*error_r = "unexpected character in address";
		return -1;
	}
	if (i - start > MAIL_PATH_MAX) {
		*error_r = "address longer than 256 octets";
		return -1;
	}
	*consumed_r = i + 1;
	return 0;
}

const char *mail_path_relay_trick(const struct mail_path *p)
{
	size_t dlen = strlen(p->domain);

	if (p->null_path)
		return NULL;
	if (p->source_route)
		return "source route";
	if (p->domain_literal)
		return "IP address literal";
	if (dlen > 0 && p->domain[dlen - 1] == '.')
		return "trailing dot in domain";
	if (p->local_quoted)
		return "quoted local part";
	if (strchr(p->local, '%') != NULL)
		return "percent hack";
	if (strchr(p->local, '!') != NULL)
		return "bang path";
	if (strchr(p->local, '@') != NULL)
		return "'@' in local part";
	return NULL;
}

void mail_path_format(const struct mail_path *p, char *buf, size_t size)
{
	size_t o = 0;
	bool quote;

	if (p->null_path) {
		str_copy(buf, size, "");
		return;
	}
	quote = p->local_quoted;
	if (quote && o + 1 < size)
		buf[o++] = '"';
	for (const char *c = p->local; *c != '\0' && o + 3 < size; c++) {
		if (quote && (*c == '"' || *c == '\\'))
			buf[o++] = '\\';
		buf[o++] = *c;
	}
	if (quote && o + 1 < size)
		buf[o++] = '"';
	buf[o] = '\0';
	if (o + 1 < size)
		snprintf(buf + o, size - o, "@%s", p->domain);
}
