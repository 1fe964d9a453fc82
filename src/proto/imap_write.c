/* IMAP response strings: atom, quoted or literal, whichever is safe. */
#include "proto/imap_write.h"
#include "proto/imap_mailbox.h"

#include <string.h>
#include <strings.h>

static bool is_astring_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\[", c) == NULL;
}

void imap_write_literal(struct strbuf *out, const char *s, size_t len, unsigned flags)
{
	bool nul = len > 0 && memchr(s, 0, len) != NULL;

	strbuf_printf(out, "%s{%zu}\r\n", nul && (flags & IMAP_WRITE_LITERAL8) ? "~" : "", len);
	strbuf_append(out, s, len);
}

void imap_write_string(struct strbuf *out, const char *s, size_t len, unsigned flags)
{
	bool quotable = len <= IMAP_WRITE_QUOTED_MAX;

	for (size_t i = 0; i < len && quotable; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0 || c == '\r' || c == '\n' || (c >= 0x80 && !(flags & IMAP_WRITE_UTF8)))
			quotable = false;
	}
	if (!quotable) {
		imap_write_literal(out, s, len, flags);
		return;
	}
	strbuf_reserve(out, len + 2);
	strbuf_append_c(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			strbuf_append_c(out, '\\');
		strbuf_append_c(out, s[i]);
	}
	strbuf_append_c(out, '"');
}

void imap_write_astring(struct strbuf *out, const char *s, size_t len, unsigned flags)
{
	bool atom = len > 0 && !(len == 3 && strncasecmp(s, "NIL", 3) == 0);

	for (size_t i = 0; i < len && atom; i++)
		atom = is_astring_char((unsigned char)s[i]);
	if (atom)
		strbuf_append(out, s, len);
	else
		imap_write_string(out, s, len, flags);
}

void imap_write_nstring(struct strbuf *out, const char *s, size_t len, unsigned flags)
{
	if (s == NULL)
		strbuf_append_str(out, "NIL");
	else
		imap_write_string(out, s, len, flags);
}

void imap_write_mailbox(struct strbuf *out, const char *name, bool utf8)
{
	struct strbuf enc = STRBUF_INIT;
	size_t len = strlen(name);

	if (utf8 || imap_utf8_to_mutf7(name, len, &enc) < 0) {
		imap_write_astring(out, name, len, utf8 ? IMAP_WRITE_UTF8 : 0);
	} else {
		imap_write_astring(out, strbuf_cstr(&enc), enc.len, 0);
	}
	strbuf_free(&enc);
}
