#ifndef YUBIN_MAIL_COMPOSE_H
#define YUBIN_MAIL_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/* The webmail's message composer (RFC 5322, MIME, RFC 2047, RFC 2231,
 * RFC 3676): a structured draft in, one message in wire form (CRLF, every
 * line at most 998 bytes, header lines folded near 78) out. Pure: no I/O,
 * no clock, no randomness (the caller passes the date, the Message-ID and
 * a boundary seed), limits below. Text is UTF-8; it goes out as UTF-8
 * (7bit, quoted-printable or base64, whichever suits it) or, on request,
 * as ISO-2022-JP, which fails with "not_representable" when a character
 * has no JIS X 0208 form. Bcc is written only when keep_bcc is set (a
 * stored draft), never in a message to send. */

#define COMPOSE_ADDRS_MAX 100		/* per To, Cc, Bcc */
#define COMPOSE_PARTS_MAX 100		/* attachments */
#define COMPOSE_NAME_MAX 200		/* a display name, bytes */
#define COMPOSE_SUBJECT_MAX 2000	/* bytes */
#define COMPOSE_FILENAME_MAX 255	/* bytes */
#define COMPOSE_ADDRESS_MAX 254		/* an addr-spec, bytes */

struct compose_addr {
	const char *name;	/* UTF-8 display name, NULL or "" for none */
	const char *address;	/* addr-spec, ASCII */
};

struct compose_part {
	const char *filename;	/* UTF-8 */
	const char *content_type;	/* "type/subtype"; anything else is application/octet-stream */
	const void *data;
	size_t len;
};

enum compose_charset { COMPOSE_UTF8, COMPOSE_ISO2022JP };

struct compose_draft {
	struct compose_addr from;
	const struct compose_addr *to, *cc, *bcc;
	size_t nto, ncc, nbcc;
	const char *subject;	/* UTF-8 or NULL */
	const char *text;	/* UTF-8 body, LF or CRLF line ends, or NULL */
	const char *html;	/* simple HTML alternative (UTF-8), or NULL */
	const struct compose_part *parts;
	size_t nparts;
	const char *in_reply_to;	/* "<id>" or NULL */
	const char *references;		/* "<a> <b> ..." or NULL */
	int64_t date;			/* seconds since the epoch */
	int tz_minutes;			/* the zone's offset east of UTC */
	const char *message_id;		/* "<...@host>" */
	const char *boundary_seed;	/* [0-9A-Za-z] letters from the caller's random source */
	enum compose_charset charset;
	bool flowed;			/* text/plain; format=flowed (UTF-8 only) */
	bool keep_bcc;			/* a draft to store: Bcc is kept */
	const char *extra_headers;	/* "Name: value\r\n" lines, already checked, or NULL */
};

/* What went wrong: a stable code ("invalid_address", "not_representable",
 * "invalid_utf8", "too_long", "too_many", "no_recipients"...) and the draft
 * field it is about ("to", "subject", "text", ...). */
struct compose_error {
	const char *code;
	const char *field;
	const char *text;	/* English, for the log and the API's message */
};

/* Appends the message to out. 0, or -1 with err filled (out then holds a
 * partial message the caller discards). */
int compose_message(const struct compose_draft *d, struct strbuf *out, struct compose_error *err);

/* ---- the encoders (compose_enc.c), exposed for the tests ---- */

/* Appends text (UTF-8) as header text starting at column *col: as it is
 * when it is printable ASCII, else as RFC 2047 B encoded words of at most
 * 75 characters each, split between characters, folded with CRLF SP so
 * that lines stay within 78. phrase: a display name (quoted when it holds
 * specials). 0, or -1 (not representable in the charset, invalid UTF-8). */
int compose_header_text(struct strbuf *out, size_t *col, const char *text, size_t len,
			enum compose_charset cs, bool phrase);
/* Appends a MIME parameter name=value for a UTF-8 value: plain or quoted
 * when ASCII, else RFC 2231 (name*0*=utf-8''%XX...) in continuations; each
 * piece starts a new folded line. */
void compose_param(struct strbuf *out, const char *name, const char *value);
/* Appends data as quoted-printable (RFC 2045 6.7), lines at most 76. The
 * input's line ends are CRLF and stay hard line breaks. */
void compose_qp(struct strbuf *out, const char *data, size_t len);
/* Appends data as base64 in lines of 76 characters, each ended by CRLF. */
void compose_base64(struct strbuf *out, const void *data, size_t len);
/* Converts UTF-8 text to ISO-2022-JP, each line ending back in ASCII.
 * 0, or -1 when a character has no ISO-2022-JP form (or bad UTF-8). */
int compose_iso2022jp(const char *in, size_t len, struct strbuf *out);
/* RFC 3676 format=flowed: lines over 78 characters wrapped at spaces (a
 * trailing space marks the soft break), trailing spaces of the input's
 * lines removed, lines starting with a space, "From " or ">" space-stuffed
 * unless they are quotes. in has CRLF line ends. */
void compose_flowed(struct strbuf *out, const char *in, size_t len);

/* ---- replies and forwards (compose_reply.c) ---- */

/* "Re: " + subject, unless it already starts with "Re:" (any case, after
 * blanks); fwd: "Fwd: " unless "Fwd:" or "Fw:". Appends to out. */
void compose_reply_subject(struct strbuf *out, const char *subject, bool fwd);
/* The References of a reply: the original's References (or its
 * In-Reply-To when it has none) and then its Message-ID, at most 20 ids
 * (the first and the last 19 are kept, RFC 5322 3.6.4). Ids are taken
 * only in <...> form, bounded. Appends to out. */
void compose_references(struct strbuf *out, const char *references, const char *in_reply_to,
			const char *message_id);
/* The quoted body of a reply: "On DATE, WHO wrote:" then every line of
 * text with "> " (">" before a line that is a quote already). */
void compose_quote(struct strbuf *out, const char *attribution, const char *text, size_t len);

#endif
