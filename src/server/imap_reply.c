/* IMAP reply writers: untagged and tagged lines, strings (quoted or
 * literal), astrings, flag lists and mailbox names, all appended to the
 * session's output buffer. */
#include "server/imap_session.h"
#include "server/imap_msgset.h"
#include "proto/imap_mailbox.h"
#include "lib/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

void imap_out(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	strbuf_append(&s->out, "\r\n", 2);
}

/* Refusals an operator should see get a log line: a server fault
 * (SERVERBUG) as an error, a size, quota or limit refusal as a notice. */
static void imap_tagged_log(const struct imap_session *s, const struct imap_command *cmd, const char *status,
			    const char *text, size_t len)
{
	const char *name = cmd != NULL && cmd->name != NULL ? cmd->name : "-";
	int n = len > 300 ? 300 : (int)len;

	if (strcmp(status, "NO") != 0 || len < 2 || text[0] != '[')
		return;
	if (strncmp(text, "[SERVERBUG]", 11) == 0)
		log_error(s->sid, "imap: %s failed for %s: %.*s", name, s->user[0] ? s->user : "-", n, text);
	else if (strncmp(text, "[TOOBIG]", 8) == 0 || strncmp(text, "[OVERQUOTA]", 11) == 0 ||
		 strncmp(text, "[LIMIT]", 7) == 0)
		log_info(s->sid, "imap: %s refused for %s: %.*s", name, s->user[0] ? s->user : "-", n, text);
}

void imap_tagged(struct imap_session *s, const struct imap_command *cmd, const char *status,
		 const char *fmt, ...)
{
	va_list ap;

	size_t start;

	strbuf_printf(&s->out, "%s %s ", cmd != NULL && cmd->tag != NULL ? cmd->tag : "*", status);
	start = s->out.len;
	va_start(ap, fmt);
	strbuf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	imap_tagged_log(s, cmd, status, s->out.data + start, s->out.len - start);
	strbuf_append(&s->out, "\r\n", 2);
}

static bool imap_is_quotable(const char *str, size_t len)
{
	if (len > 1024)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];
		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			return false;
	}
	return true;
}

void imap_out_string(struct imap_session *s, const char *str, size_t len)
{
	if (!imap_is_quotable(str, len)) {
		strbuf_printf(&s->out, "{%zu}\r\n", len);
		strbuf_append(&s->out, str, len);
		return;
	}
	strbuf_append_c(&s->out, '"');
	for (size_t i = 0; i < len; i++) {
		if (str[i] == '"' || str[i] == '\\')
			strbuf_append_c(&s->out, '\\');
		strbuf_append_c(&s->out, str[i]);
	}
	strbuf_append_c(&s->out, '"');
}

/* An ASTRING-CHAR run (RFC 3501 9: ATOM-CHAR or ']'), not spelled NIL. */
static bool imap_is_astring_atom(const char *str, size_t len)
{
	if (len == 0 || len > 1024 || strcasecmp(str, "NIL") == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\", c) != NULL)
			return false;
	}
	return true;
}

void imap_out_astring(struct imap_session *s, const char *str)
{
	size_t len = strlen(str);

	if (imap_is_astring_atom(str, len))
		strbuf_append(&s->out, str, len);
	else
		imap_out_string(s, str, len);
}

void imap_out_uint(struct imap_session *s, uint64_t n)
{
	char buf[24];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	strbuf_append(&s->out, buf + i, sizeof(buf) - i);
}

/* Appended piece by piece, not through printf: FETCH 1:* (FLAGS) writes
 * one list per message. */
void imap_out_flags(struct imap_session *s, uint32_t flags, const char *keywords, bool recent)
{
	static const struct { uint32_t flag; const char *name; } names[] = {
		{ INDEX_FLAG_ANSWERED, "\\Answered" }, { INDEX_FLAG_FLAGGED, "\\Flagged" },
		{ INDEX_FLAG_DELETED, "\\Deleted" }, { INDEX_FLAG_SEEN, "\\Seen" },
		{ INDEX_FLAG_DRAFT, "\\Draft" },
	};
	bool first = true;

	strbuf_append_c(&s->out, '(');
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].flag) {
			if (!first)
				strbuf_append_c(&s->out, ' ');
			strbuf_append_str(&s->out, names[i].name);
			first = false;
		}
	}
	if (recent && !s->rev2) {
		strbuf_append_str(&s->out, first ? "\\Recent" : " \\Recent");
		first = false;
	}
	if (keywords != NULL && keywords[0] != '\0') {
		if (!first)
			strbuf_append_c(&s->out, ' ');
		strbuf_append_str(&s->out, keywords);
	}
	strbuf_append_c(&s->out, ')');
}

void imap_out_mailbox(struct imap_session *s, const char *name)
{
	struct strbuf buf = STRBUF_INIT;

	if (s->enabled_utf8 || imap_utf8_to_mutf7(name, strlen(name), &buf) < 0)
		imap_out_astring(s, name);
	else
		imap_out_astring(s, strbuf_cstr(&buf));
	strbuf_free(&buf);
}
