/* The MIME-dependent parts of FETCH and SEARCH. Interim version until the
 * MIME structure parser (src/mail/mime.c) lands: part 1 of a single-part
 * message is its body, multipart sections are not resolved yet, and the
 * structure items are refused by the caller. */
#include "server/imap_msgset.h"
#include "mail/charset.h"
#include "mail/header.h"

#include <string.h>

int imap_fetch_part(const char *msg, size_t len, const struct imap_fetch_section *sec, bool decode,
		    struct strbuf *out)
{
	size_t hdr = mail_header_block_size(msg, len);

	if (sec->nparts == 1 && sec->parts[0] == 1 && sec->text == IMAP_SECTION_NONE) {
		strbuf_append(out, msg + hdr, len - hdr);
		return 0;
	}
	return -1;
}

void imap_fetch_structure(struct imap_session *s, enum imap_fetch_type type, const char *msg, size_t len)
{
	strbuf_append_str(&s->out, type == IMAP_FETCH_ENVELOPE ? "ENVELOPE NIL"
				   : type == IMAP_FETCH_BODY ? "BODY NIL" : "BODYSTRUCTURE NIL");
}

void imap_header_decode(const char *value, size_t len, struct strbuf *out)
{
	struct strbuf raw = STRBUF_INIT;

	mail_header_unfold(value, len, &raw);
	charset_utf8_append_valid(out, raw.data != NULL ? raw.data : "", raw.len);
	strbuf_free(&raw);
}

void imap_message_text(const char *msg, size_t len, struct strbuf *out)
{
	size_t hdr = mail_header_block_size(msg, len);

	charset_utf8_append_valid(out, msg, hdr);
	strbuf_append_c(out, '\0');
	charset_utf8_append_valid(out, msg + hdr, len - hdr);
}
