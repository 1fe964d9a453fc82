#include "mail/rfc5322.h"

#include <stdbool.h>

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t rfc5322_comment(const char *s, size_t len, struct strbuf *text)
{
	size_t i = 0;
	unsigned depth = 0;

	while (i < len) {
		char c = s[i++];

		if (c == '\\' && i < len) {
			c = s[i++];
		} else if (c == '(') {
			if (depth++ == 0)
				continue;
		} else if (c == ')') {
			if (--depth == 0)
				break;
		}
		if (text != NULL && c != '\r' && c != '\n')
			strbuf_append_c(text, c);
	}
	return i;
}

size_t rfc5322_quoted(const char *s, size_t len, struct strbuf *text)
{
	size_t i = 1;

	while (i < len && s[i] != '"') {
		char c = s[i++];
		if (c == '\\' && i < len)
			c = s[i++];
		if (text != NULL && c != '\r' && c != '\n')
			strbuf_append_c(text, c);
	}
	return i < len ? i + 1 : len;
}

size_t rfc5322_skip_cfws(const char *s, size_t len, size_t i)
{
	while (i < len) {
		if (is_fws(s[i]))
			i++;
		else if (s[i] == '(')
			i += rfc5322_comment(s + i, len - i, NULL);
		else
			break;
	}
	return i;
}

const char *rfc5322_addr_at(const char *spec, size_t len)
{
	const char *at = NULL;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		if (spec[i] == '\\' && quoted && i + 1 < len)
			i++;
		else if (spec[i] == '"')
			quoted = !quoted;
		else if (spec[i] == '@' && !quoted)
			at = spec + i;
	}
	return at;
}
