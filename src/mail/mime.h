#ifndef YUBIN_MAIL_MIME_H
#define YUBIN_MAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"

/* MIME structure of a message held in memory (RFC 2045, 2046, 5322), with
 * the byte offsets IMAP FETCH needs, as Dovecot's message parser records
 * them. Pure: the parser reads the buffer and allocates only from the
 * message's own arena. Linear in the input (times the nesting depth for
 * delimiter lines); limits are passed in and, once reached, the rest of a
 * part is kept as an opaque body. Lines end in CRLF or a bare LF. */

struct mime_param {
	const char *name;	/* lowercased, without RFC 2231 "*" suffixes */
	const char *value;	/* continuations joined, charset'd values in UTF-8 */
	bool extended;		/* was name* (RFC 2231 encoded) */
};

struct mime_part {
	struct mime_part *parent, *children, *next;
	unsigned int depth;	/* 0 for the message itself */

	/* offsets in the message; header_size includes the empty line that
	 * ends the header; body_size excludes the line end before a
	 * multipart delimiter (it belongs to the delimiter) */
	size_t header_offset, header_size;
	size_t body_offset, body_size;
	size_t body_lines;	/* LFs in the body */

	/* Content-Type: lowercased; text/plain (or message/rfc822 in a
	 * multipart/digest) when absent or invalid */
	const char *type, *subtype;
	const struct mime_param *params;
	unsigned int param_count;
	bool has_content_type;

	const char *encoding;	/* Content-Transfer-Encoding token, "7bit" if absent */
	const char *id, *description, *md5, *location;	/* unfolded, or NULL */
	const char *disposition;	/* token, lowercased, or NULL */
	const struct mime_param *disposition_params;
	unsigned int disposition_param_count;
	const char *const *languages;	/* Content-Language tags, or NULL */
	unsigned int language_count;

	/* children hold the parts (multipart) or the embedded message
	 * (message/rfc822); false when a limit or a missing boundary made
	 * the body opaque */
	bool is_multipart, is_message;
};

struct mime_limits {
	unsigned int max_depth;	/* nesting of multiparts and messages, e.g. 100 */
	unsigned int max_parts;	/* parts in all, e.g. 10000 */
};

struct mime_arena;

struct mime_message {
	const char *data;	/* the caller's buffer; must outlive the message */
	size_t size;
	struct mime_part *root;
	unsigned int part_count;
	bool limit_reached;	/* some structure was kept opaque */
	struct mime_arena *arena;
};

/* Parses the message in data (size bytes, not NUL-terminated, may hold
 * NULs). Every input gives a structure; returns 0, or -1 with *error_r
 * only when limits are unusable (zero). */
int mime_message_parse(const char *data, size_t size, const struct mime_limits *limits,
		       struct mime_message **msg_r, const char **error_r);
/* Frees the message and all its parts; accepts NULL. */
void mime_message_free(struct mime_message *msg);

/* The value of parameter name (lowercase) of the Content-Type, or NULL. */
const char *mime_part_param(const struct mime_part *part, const char *name);
/* The charset of a text part: its parameter, else "us-ascii". */
const char *mime_part_charset(const struct mime_part *part);
bool mime_part_is_type(const struct mime_part *part, const char *type, const char *subtype);

/* Appends the decoded UTF-8 text of a leaf text part (transfer encoding
 * removed, charset converted) for SEARCH BODY/TEXT. Returns 0, or -1 when
 * the part is not text (nothing is appended). */
int mime_part_text_decode(const struct mime_message *msg, const struct mime_part *part,
			  struct strbuf *out);

#endif
