/* SMTP replies as a client sees them (RFC 5321 4.2, RFC 3463, RFC 2034). */
#include "proto/smtp_client.h"
#include "lib/str.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

/* Length of an RFC 3463 code "x.y.z" at s (class matching the reply's
 * first digit), or 0. */
static size_t enhanced_len(const char *s, size_t len, char cls)
{
	size_t i = 0, dots = 0, digits = 0;

	if (len < 5 || s[0] != cls || s[1] != '.')
		return 0;
	for (i = 2; i < len && (isdigit((unsigned char)s[i]) || s[i] == '.'); i++) {
		if (s[i] == '.') {
			if (digits == 0 || digits > 3)
				return 0;
			dots++;
			digits = 0;
		} else {
			digits++;
		}
	}
	if (dots != 1 || digits == 0 || digits > 3)
		return 0;
	if (i < len && s[i] != ' ')
		return 0;
	return i;
}

int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len, const char **error_r)
{
	unsigned code;
	bool last;
	size_t off = 4, elen;

	if (len < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) || line[0] < '2' || line[0] > '5') {
		*error_r = "malformed reply line";
		return -1;
	}
	if (len > 3 && line[3] != ' ' && line[3] != '-') {
		*error_r = "malformed reply line";
		return -1;
	}
	code = (unsigned)((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
	if (r->lines > 0 && code != r->code) {
		*error_r = "reply code changed within a multi-line reply";
		return -1;
	}
	last = len == 3 || line[3] == ' ';
	if (len <= 4)
		off = len;
	elen = off < len ? enhanced_len(line + off, len - off, line[0]) : 0;
	if (r->lines == 0) {
		r->code = code;
		if (elen > 0)
			str_copyn(r->enhanced, sizeof(r->enhanced), line + off, elen);
	}
	if (elen > 0) {
		off += elen;
		if (off < len && line[off] == ' ')
			off++;
	}
	if (r->lines > 0 && r->text_len + 1 < sizeof(r->text))
		r->text[r->text_len++] = '\n';
	for (size_t i = off; i < len && r->text_len + 1 < sizeof(r->text); i++) {
		char c = line[i];
		r->text[r->text_len++] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	r->text[r->text_len] = '\0';
	r->lines++;
	return last ? 1 : 0;
}

void smtp_reply_format(const struct smtp_reply *r, char *buf, size_t size)
{
	size_t n;
	int k = snprintf(buf, size, "%03u%s%s ", r->code, r->enhanced[0] != '\0' ? " " : "",
			 r->enhanced);

	if (k < 0 || (size_t)k >= size)
		return;
	n = (size_t)k;
	for (size_t i = 0; i < r->text_len && n + 1 < size; i++) {
		if (r->text[i] == '\n') {
			if (n + 3 >= size)
				break;
			buf[n++] = ';';
			buf[n++] = ' ';
		} else {
			buf[n++] = r->text[i];
		}
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

int smtp_reply_class(const struct smtp_reply *r)
{
	unsigned c = r->code / 100;

	return c == 2 || c == 5 ? (int)c : c == 3 ? 3 : 4;
}

static bool keyword_is(const char *s, size_t len, const char *kw)
{
	return strlen(kw) == len && strncasecmp(s, kw, len) == 0;
}

void smtp_ehlo_parse(struct smtp_ehlo *e, const struct smtp_reply *r)
{
	const char *p = strchr(r->text, '\n');

	memset(e, 0, sizeof(*e));
	while (p != NULL) {
		const char *line = p + 1, *end = strchr(line, '\n'), *sp;
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line), kwlen;

		sp = memchr(line, ' ', len);
		kwlen = sp != NULL ? (size_t)(sp - line) : len;
		if (keyword_is(line, kwlen, "STARTTLS"))
			e->starttls = true;
		else if (keyword_is(line, kwlen, "PIPELINING"))
			e->pipelining = true;
		else if (keyword_is(line, kwlen, "8BITMIME"))
			e->eightbitmime = true;
		else if (keyword_is(line, kwlen, "SMTPUTF8"))
			e->smtputf8 = true;
		else if (keyword_is(line, kwlen, "DSN"))
			e->dsn = true;
		else if (keyword_is(line, kwlen, "CHUNKING"))
			e->chunking = true;
		else if (keyword_is(line, kwlen, "SIZE")) {
			e->size = true;
			if (sp != NULL) {
				char num[24];
				uint64_t v;
				if (str_copyn(num, sizeof(num), sp + 1, len - kwlen - 1) == 0 &&
				    str_parse_uint(num, UINT64_MAX, &v) == 0)
					e->size_max = v;
			}
		} else if (keyword_is(line, kwlen, "AUTH") && sp != NULL) {
			const char *q = sp + 1, *lend = line + len;
			while (q < lend) {
				const char *w = q;
				while (q < lend && *q != ' ')
					q++;
				if (keyword_is(w, (size_t)(q - w), "PLAIN"))
					e->auth_plain = true;
				else if (keyword_is(w, (size_t)(q - w), "LOGIN"))
					e->auth_login = true;
				while (q < lend && *q == ' ')
					q++;
			}
		}
		p = end;
	}
}
