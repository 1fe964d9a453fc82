/* Replies and forwards for the composer (compose.h): the subject with one
 * "Re:" or "Fwd:", the References chain, the quoted text. Pure. */
#include "mail/compose.h"

#include <string.h>
#include <strings.h>

#define REFS_MAX 20
#define REF_LEN_MAX 250

void compose_reply_subject(struct strbuf *out, const char *subject, bool fwd)
{
	const char *s = subject != NULL ? subject : "";

	while (*s == ' ' || *s == '\t')
		s++;
	if (fwd ? strncasecmp(s, "fwd:", 4) == 0 || strncasecmp(s, "fw:", 3) == 0 : strncasecmp(s, "re:", 3) == 0) {
		strbuf_append_str(out, s);
		return;
	}
	strbuf_append_str(out, fwd ? "Fwd: " : "Re: ");
	strbuf_append_str(out, s);
}

/* The <...> ids of s into ids (pointers into s, lengths), at most max. */
static size_t ids_scan(const char *s, const char **ids, size_t *lens, size_t n, size_t max)
{
	while (s != NULL && *s != '\0') {
		const char *lt = strchr(s, '<'), *gt;
		bool ok = true;

		if (lt == NULL)
			break;
		gt = strchr(lt, '>');
		if (gt == NULL)
			break;
		for (const char *p = lt + 1; p < gt; p++)
			ok = ok && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && *p != '<';
		if (ok && gt - lt > 2 && (size_t)(gt - lt + 1) <= REF_LEN_MAX) {
			if (n < max) {
				ids[n] = lt;
				lens[n] = (size_t)(gt - lt + 1);
				n++;
			} else if (max >= 3) {	/* keep the first, drop the oldest after it */
				memmove(ids + 1, ids + 2, (max - 2) * sizeof(*ids));
				memmove(lens + 1, lens + 2, (max - 2) * sizeof(*lens));
				ids[max - 1] = lt;
				lens[max - 1] = (size_t)(gt - lt + 1);
			}
		}
		s = gt + 1;
	}
	return n;
}

void compose_references(struct strbuf *out, const char *references, const char *in_reply_to,
			const char *message_id)
{
	const char *ids[REFS_MAX];
	size_t lens[REFS_MAX], n = 0;

	if (references != NULL && strchr(references, '<') != NULL)
		n = ids_scan(references, ids, lens, 0, REFS_MAX);
	else if (in_reply_to != NULL && (n = ids_scan(in_reply_to, ids, lens, 0, REFS_MAX)) > 1)
		n = 0;	/* only when it names one message (RFC 5322 3.6.4) */
	n = ids_scan(message_id, ids, lens, n, REFS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strbuf_append_c(out, ' ');
		strbuf_append(out, ids[i], lens[i]);
	}
}

void compose_quote(struct strbuf *out, const char *attribution, const char *text, size_t len)
{
	size_t i = 0;

	if (attribution != NULL && attribution[0] != '\0') {
		strbuf_append_str(out, attribution);
		strbuf_append_c(out, '\n');
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		size_t body = end > i && text[end - 1] == '\r' ? end - 1 : end;

		strbuf_append_str(out, body > i && text[i] == '>' ? ">" : body > i ? "> " : ">");
		strbuf_append(out, text + i, body - i);
		strbuf_append_c(out, '\n');
		i = end + 1;
	}
}
