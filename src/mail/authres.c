/* Authentication-Results (RFC 8601) fields: building ours, and finding
 * copies of ours that came from outside. */
#include "mail/authres.h"
#include "mail/rfc5322.h"
#include "mail/header.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Values and comments are capped: a hostile HELO or MAIL FROM cannot make
 * the field long. */
#define AUTHRES_VALUE_MAX 320
#define AUTHRES_COMMENT_MAX 200

/* RFC 2045 token characters. */
static bool authres_is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static bool authres_is_atext(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* local@domain with a dot-atom local part and a plain domain, or a plain
 * domain: written as it is (RFC 8601's pvalue). */
static bool authres_is_plain_address(const char *s)
{
	const char *at = strrchr(s, '@'), *d = at != NULL ? at + 1 : s;
	bool dot_ok = false;

	if (at != NULL) {
		if (at == s)
			return false;
		for (const char *p = s; p < at; p++) {
			if (*p == '.') {
				if (!dot_ok)
					return false;
				dot_ok = false;
			} else if (authres_is_atext((unsigned char)*p)) {
				dot_ok = true;
			} else {
				return false;
			}
		}
		if (!dot_ok)
			return false;
	}
	if (*d == '\0' || *d == '.' || *d == '-')
		return false;
	for (const char *p = d; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return false;
	}
	return true;
}

/* A value: as it is when it is a token (or, for address, a plain
 * address), else a quoted-string. */
static void authres_value(struct strbuf *out, const char *s, bool address)
{
	size_t n = strlen(s);
	bool token = n > 0 && n <= AUTHRES_VALUE_MAX;

	for (size_t i = 0; i < n && token; i++)
		token = authres_is_token_char((unsigned char)s[i]);
	if (token || (address && n <= AUTHRES_VALUE_MAX && authres_is_plain_address(s))) {
		strbuf_append(out, s, n);
		return;
	}
	strbuf_append_c(out, '"');
	for (size_t i = 0; i < n && i < AUTHRES_VALUE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			continue;
		if (c == '"' || c == '\\')
			strbuf_append_c(out, '\\');
		strbuf_append_c(out, (char)c);
	}
	strbuf_append_c(out, '"');
}

/* " (comment)": parentheses and backslashes become brackets and slashes,
 * so the comment always ends where it should. */
static void authres_comment(struct strbuf *out, const char *s)
{
	size_t n = 0;

	if (s == NULL || s[0] == '\0')
		return;
	strbuf_append_str(out, " (");
	for (const char *p = s; *p != '\0' && n < AUTHRES_COMMENT_MAX; p++, n++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f)
			c = '?';
		else if (c == '(')
			c = '[';
		else if (c == ')')
			c = ']';
		else if (c == '\\')
			c = '/';
		strbuf_append_c(out, (char)c);
	}
	strbuf_append_c(out, ')');
}

/* The method's result keyword: one of the registered words, else
 * "permerror" (nothing else may appear there). */
static const char *authres_result(const char *r)
{
	static const char *const known[] = {
		"none", "pass", "fail", "softfail", "neutral", "temperror", "permerror", "policy", NULL
	};

	for (size_t i = 0; r != NULL && known[i] != NULL; i++) {
		if (strcmp(r, known[i]) == 0)
			return known[i];
	}
	return "permerror";
}

void authres_build(const struct authres *ar, struct strbuf *out)
{
	bool any = false;

	strbuf_append_str(out, "Authentication-Results: ");
	authres_value(out, ar->authserv_id != NULL && ar->authserv_id[0] != '\0' ? ar->authserv_id : "localhost",
		      true);
	if (ar->spf_result != NULL) {
		strbuf_printf(out, ";\r\n\tspf=%s", authres_result(ar->spf_result));
		authres_comment(out, ar->spf_comment);
		if (ar->spf_identity != NULL && ar->spf_identity[0] != '\0') {
			strbuf_append_str(out, ar->spf_helo ? " smtp.helo=" : " smtp.mailfrom=");
			authres_value(out, ar->spf_identity, true);
		}
		any = true;
	}
	if (ar->dkim_checked && ar->ndkim == 0) {
		strbuf_append_str(out, ";\r\n\tdkim=none");
		any = true;
	}
	for (size_t i = 0; ar->dkim_checked && i < ar->ndkim; i++) {
		const struct authres_dkim *d = &ar->dkim[i];

		strbuf_printf(out, ";\r\n\tdkim=%s", authres_result(d->result));
		if (d->reason != NULL && d->reason[0] != '\0') {
			strbuf_append_str(out, " reason=");
			authres_value(out, d->reason, false);
		}
		if (d->domain != NULL && d->domain[0] != '\0') {
			strbuf_append_str(out, " header.d=");
			authres_value(out, d->domain, true);
		}
		if (d->selector != NULL && d->selector[0] != '\0') {
			strbuf_append_str(out, " header.s=");
			authres_value(out, d->selector, false);
		}
		if (d->b != NULL && d->b[0] != '\0') {
			strbuf_append_str(out, " header.b=");
			authres_value(out, d->b, false);
		}
		any = true;
	}
	if (ar->dmarc_result != NULL) {
		strbuf_printf(out, ";\r\n\tdmarc=%s", authres_result(ar->dmarc_result));
		authres_comment(out, ar->dmarc_comment);
		if (ar->dmarc_from != NULL && ar->dmarc_from[0] != '\0') {
			strbuf_append_str(out, " header.from=");
			authres_value(out, ar->dmarc_from, true);
		}
		if (ar->dmarc_policy != NULL && ar->dmarc_policy[0] != '\0') {
			strbuf_append_str(out, " policy.dmarc=");
			authres_value(out, ar->dmarc_policy, false);
		}
		any = true;
	}
	if (!any)
		strbuf_append_str(out, "; none");
	strbuf_append_str(out, "\r\n");
}


int authres_authserv_id(const char *value, size_t len, char *buf, size_t size)
{
	size_t i = rfc5322_skip_cfws(value, len, 0), n = 0;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	if (i < len && value[i] == '"') {
		for (i++; i < len && value[i] != '"'; i++) {
			if (value[i] == '\\' && i + 1 < len)
				i++;
			if (n + 1 >= size)
				return -1;
			buf[n++] = value[i];
		}
		if (i >= len)
			return -1;
	} else {
		for (; i < len && value[i] != ';' && value[i] != '(' && value[i] != ' ' && value[i] != '\t' &&
		       value[i] != '\r' && value[i] != '\n'; i++) {
			if (n + 1 >= size)
				return -1;
			buf[n++] = value[i];
		}
	}
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

size_t authres_find_ours(const char *msg, size_t len, const char *authserv_id, struct authres_range *ranges,
			 size_t max, bool *more_r)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	size_t n = 0, idlen = strlen(authserv_id);

	*more_r = false;
	if (idlen > 0 && authserv_id[idlen - 1] == '.')
		idlen--;
	mail_header_iter_init(&it, msg, mail_header_block_size(msg, len));
	while (mail_header_iter_next(&it, &f)) {
		char id[512];
		size_t l;

		if (!mail_header_field_is(&f, "Authentication-Results"))
			continue;
		if (authres_authserv_id(f.value, f.value_len, id, sizeof(id)) < 0)
			continue;
		l = strlen(id);
		if (l > 0 && id[l - 1] == '.')
			l--;
		if (l != idlen || strncasecmp(id, authserv_id, l) != 0)
			continue;
		if (n == max) {
			*more_r = true;
			break;
		}
		ranges[n].offset = f.offset;
		ranges[n].size = f.size;
		n++;
	}
	return n;
}
