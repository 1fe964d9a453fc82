#ifndef YUBIN_MAIL_MIME_VIEW_H
#define YUBIN_MAIL_MIME_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"
#include "mail/mime.h"

/* What a reader (the webmail) shows of a parsed message: which part is the
 * text, which the HTML, which are attachments and inline images, their
 * IMAP part numbers and decoded file names, and the Content-Disposition
 * header a download gets. Pure: no I/O, no globals. */

#define MIME_PART_ID_MAX 64

enum mime_view_kind {
	MIME_VIEW_TEXT,		/* the text/plain body shown first */
	MIME_VIEW_HTML,		/* the text/html body */
	MIME_VIEW_INLINE,	/* an image of a multipart/related, named by Content-ID */
	MIME_VIEW_ATTACHMENT,	/* anything else that is not a container */
};

/* Called once per leaf part shown, in the message's order; id is the
 * part's IMAP section number ("1", "1.2"). */
typedef void mime_view_cb(const struct mime_part *part, const char *id, enum mime_view_kind kind,
			  void *ctx);
/* Walks the message's parts: the first text/plain and the first text/html
 * that are not attachments become the bodies (in a multipart/alternative
 * both may be shown), a part with a Content-ID inside a multipart/related
 * is inline, the rest are attachments. A message/rfc822 part is one
 * attachment (its own parts are not walked). */
void mime_view_walk(const struct mime_message *msg, mime_view_cb *cb, void *ctx);

/* The part with IMAP section number id ("1", "2.1"), or NULL. For a
 * message that is not multipart, "1" is its body. */
const struct mime_part *mime_view_part_find(const struct mime_message *msg, const char *id);

/* Appends the part's file name, decoded to UTF-8: Content-Disposition's
 * filename, else Content-Type's name; RFC 2231 values come decoded from
 * the parser, others go through RFC 2047. Path separators and control
 * characters become '_'. Appends nothing when the part has no name. */
void mime_view_filename(const struct mime_part *part, struct strbuf *out);

/* Appends the body of a leaf part with its transfer encoding (base64,
 * quoted-printable) removed; other encodings are copied as they are. */
void mime_view_body_decode(const struct mime_message *msg, const struct mime_part *part,
			   struct strbuf *out);

/* Appends the Content-ID without its angle brackets ("" when none). */
void mime_view_content_id(const struct mime_part *part, struct strbuf *out);

/* A Content-Disposition value per RFC 6266: "attachment" or "inline", an
 * ASCII filename="..." (other bytes as '_') and, when the name is not
 * plain ASCII, filename*=UTF-8''... (RFC 8187 percent-encoding). The name
 * is cut at a character boundary to fit size; name NULL or "" gives
 * fallback. out is always NUL-ended (size at least 64). */
void mime_view_disposition(bool attachment, const char *name, const char *fallback, char *out,
			   size_t size);

#endif
