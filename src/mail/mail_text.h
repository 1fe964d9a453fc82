#ifndef YUBIN_MAIL_MAIL_TEXT_H
#define YUBIN_MAIL_MAIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"

/* The searchable text of a message, decoded to UTF-8: what IMAP SEARCH
 * compares against and what the full-text index (store/fts.c) holds, made
 * by the same functions so the two always agree. Pure: bytes in, text
 * out, limits passed in. */

/* The MIME structure limits SEARCH uses (the scan and the index alike). */
#define MAIL_TEXT_MIME_DEPTH 100
#define MAIL_TEXT_MIME_PARTS 10000

struct mail_text_limits {
	size_t max_header;	/* bytes of decoded header text kept */
	size_t max_body;	/* bytes of decoded body text kept */
	unsigned max_depth, max_parts;	/* MIME structure (mail/mime.h) */
};

struct mail_text {
	struct strbuf header;	/* the header block decoded (RFC 2047, charsets), fields on lines */
	struct strbuf body;	/* each text part decoded, followed by "\n"; HTML reduced to text */
	struct strbuf subject;	/* each Subject field decoded, "\n" between them */
	struct strbuf from, to, cc;	/* each address as mail_text_addresses gives it, "\n" between */
	struct strbuf attachments;	/* names of the parts that are not text, "\n" between */
	struct strbuf from_display;	/* the first From field decoded, for display */
	bool truncated;		/* a limit cut the header or body text */
};

/* Fills t (initialised with mail_text_init) from the message of len bytes
 * (not NUL-terminated; may hold NULs). */
void mail_text_extract(const char *msg, size_t len, const struct mail_text_limits *limits, struct mail_text *t);
void mail_text_init(struct mail_text *t);
void mail_text_free(struct mail_text *t);

/* SEARCH TEXT/BODY's body text: the decoded text of every text part, each
 * followed by "\n" (HTML parts reduced to text), at most max bytes (cut
 * at a character boundary). Returns true when it was cut. */
bool mail_text_body(const char *msg, size_t len, const struct mail_text_limits *limits, size_t max,
		    struct strbuf *out);

/* Calls cb with each address of the header fields called name, as SEARCH
 * FROM/TO/CC compare it (RFC 3501 6.4.4): "name <mailbox@host>" with the
 * display name RFC 2047 decoded, the way ENVELOPE shows the address
 * (comments gone, a group's name for the group); a field holding no
 * address gives its whole decoded value. cb returns false to stop. */
typedef bool mail_text_address_cb(const char *text, size_t len, void *ctx);
void mail_text_addresses(const char *header, size_t size, const char *name, mail_text_address_cb *cb,
			 void *ctx);

/* HTML to plain text: tags dropped (block tags become line ends), script
 * and style contents dropped, character references decoded, comments
 * skipped. in is UTF-8. */
void mail_text_html(const char *in, size_t len, struct strbuf *out);

/* ASCII letters folded to lower case in place (the case-insensitive
 * comparison SEARCH uses: other bytes compare as they are). */
void mail_text_fold(char *s, size_t len);

#endif
