#ifndef YUBIN_MAIL_AUTOREPLY_H
#define YUBIN_MAIL_AUTOREPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/* Auto-replies (RFC 3834, RFC 5230 vacation): whether a message may get
 * one, and the reply itself, written through mail/compose. Pure: the
 * caller passes the header block, the clock, the Message-ID and the
 * boundary seed. */

#define AUTOREPLY_HEADER_MAX (64 * 1024)	/* octets of the original's header looked at */
#define AUTOREPLY_ORIGINAL_MAX (256 * 1024)	/* octets of the original read for a quote */
#define AUTOREPLY_QUOTE_MAX (8 * 1024)	/* octets of the original's text quoted */
/* The :handle of the panel's auto-reply when it quotes the original
 * (ops_rules_gen.c writes it, delivery honours it for the panel script). */
#define AUTOREPLY_QUOTE_HANDLE "yubin-autoreply-quote"

/* Why the message must not get an auto-reply, or NULL when it may:
 * the null sender, MAILER-DAEMON, owner-*, *-request, Auto-Submitted
 * other than "no", Precedence bulk/list/junk, any List-* field, or a
 * sender that is the user (account or one of own[0..nown-1]). */
const char *autoreply_refused(const char *header, size_t len, const char *env_from, const char *account,
			      const char *const *own, size_t nown);

struct autoreply_in {
	const char *header;	/* the original's header block */
	size_t header_len;
	const char *from;	/* ":from": "addr", "Name <addr>", or NULL (the account) */
	const char *account;
	const char *to;		/* the envelope sender */
	const char *subject;	/* ":subject" (UTF-8) or NULL: "Auto: " + the original's */
	const char *reason;	/* UTF-8 text, or a MIME entity when mime */
	bool mime;
	int64_t date;
	int tz_minutes;
	const char *message_id;		/* "<...@host>" */
	const char *boundary_seed;
	/* quote the original (not with mime): its text after the reason */
	bool quote;
	const char *original;	/* the original message (header and body), at most AUTOREPLY_ORIGINAL_MAX */
	size_t original_len;
};

/* The original's text as a reply quotes it, appended to out: "On DATE,
 * FROM wrote:" (ja: "DATE、FROM さんは書きました:") and each line of its first text/plain part (else its
 * first text/html reduced to text) after "> ", decoded to UTF-8 from its
 * transfer encoding and charset (ISO-2022-JP, Shift_JIS, EUC-JP ...), at
 * most AUTOREPLY_QUOTE_MAX octets of it (cut at a character, "[...]"
 * marking the cut). Nothing when the original has no text. */
void autoreply_quote(const char *msg, size_t len, bool ja, struct strbuf *out);
/* Does the text hold Japanese (kana or CJK ideographs)? The quote's
 * attribution follows the language of the user's own text. */
bool autoreply_text_is_japanese(const char *text);

/* Appends the reply (CRLF, wire form) to out: 0, or -1 with *error_r. */
int autoreply_build(const struct autoreply_in *in, struct strbuf *out, const char **error_r);

/* ---- refusals (autoreply_refusal.c): Sieve reject and ereject (RFC 5429)
 * when the SMTP reply has already been given or is shared by other
 * recipients ---- */

#define REFUSAL_REASON_MAX 400	/* octets of the reason put into an SMTP reply or a status field */

/* Why the message must not get a refusal notice, or NULL when it may:
 * the null sender, MAILER-DAEMON, a sender that is the recipient itself,
 * Auto-Submitted other than "no", or a report (multipart/report) itself. */
const char *autoreply_refusal_refused(const char *header, size_t len, const char *env_from,
				      const char *account);

/* The reason as one line of printable ASCII for an SMTP reply or a
 * Diagnostic-Code (controls and line breaks become spaces, at most
 * REFUSAL_REASON_MAX octets): 1 written, 0 when the reason is not ASCII
 * (out then holds a generic text). */
int autoreply_refusal_line(const char *reason, char *out, size_t size);

struct refusal_in {
	const char *header;	/* the original's header block */
	size_t header_len;
	bool mdn;		/* reject: an MDN (RFC 8098, "deleted"); ereject: a DSN (RFC 3464) */
	const char *account;	/* the final recipient */
	const char *to;		/* the envelope sender */
	const char *reason;	/* UTF-8 */
	const char *hostname;	/* the reporting MTA / UA */
	int64_t date;
	int tz_minutes;
	const char *message_id;		/* "<...@host>" */
	const char *boundary_seed;	/* [0-9A-Za-z] */
};

/* Appends the notice, a multipart/report with the human-readable reason,
 * the machine-readable part and the original's header (text/rfc822-headers),
 * from the null sender's point of view (Auto-Submitted: auto-replied): 0,
 * or -1 with *error_r. */
int autoreply_refusal_build(const struct refusal_in *in, struct strbuf *out, const char **error_r);

#endif
