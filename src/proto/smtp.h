#ifndef YUBIN_PROTO_SMTP_H
#define YUBIN_PROTO_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail/address.h"

/* SMTP command lines and the DATA stream (RFC 5321, 1870, 6152, 6531).
 * Pure: bytes in, structures out, no I/O. */

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO, SMTP_VERB_EHLO, SMTP_VERB_MAIL, SMTP_VERB_RCPT,
	SMTP_VERB_DATA, SMTP_VERB_BDAT, SMTP_VERB_RSET, SMTP_VERB_NOOP,
	SMTP_VERB_QUIT, SMTP_VERB_VRFY, SMTP_VERB_EXPN, SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS, SMTP_VERB_AUTH,
	SMTP_VERB_LHLO,		/* LMTP (RFC 2033) */
	SMTP_VERB_XCLIENT,	/* LMTP from a trusted proxy: the client's address */
	SMTP_VERB_COUNT
};

struct smtp_command {
	enum smtp_verb verb;
	const char *verb_text;	/* points into the line */
	size_t verb_len;
	const char *args;	/* after the verb and one space; "" when none */
	size_t args_len;
};

/* Splits a command line (without CRLF). Returns 0, or -1 for bytes that
 * have no place in a command (NUL, bare CR/LF, 8-bit in the verb). */
int smtp_command_parse(const char *line, size_t len, struct smtp_command *cmd_r,
		       const char **error_r);
const char *smtp_verb_name(enum smtp_verb verb);

enum smtp_body_type { SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };

struct smtp_mail_params {
	bool has_size;
	uint64_t size;
	enum smtp_body_type body;
	bool smtputf8;
};

/* Result codes for MAIL/RCPT argument parsing, mapped to replies by the
 * session: syntax (501 5.5.4 / 501 5.1.7 / 501 5.1.3), unknown parameter
 * (555 5.5.4). */
enum smtp_arg_error {
	SMTP_ARG_OK = 0,
	SMTP_ARG_SYNTAX,	/* "FROM:" / "TO:" missing or junk */
	SMTP_ARG_ADDRESS,	/* the path itself is bad */
	SMTP_ARG_PARAM,		/* unknown or malformed parameter */
};

/* Parses the arguments of MAIL ("FROM:<path> params"). */
enum smtp_arg_error smtp_mail_parse(const char *args, size_t len, struct mail_path *path_r,
				    struct smtp_mail_params *params_r, const char **error_r);
/* Parses the arguments of RCPT ("TO:<path>"); no parameters are offered.
 * "<Postmaster>" without a domain (RFC 5321 section 4.5.1) comes back as
 * local part "postmaster" with an empty domain. */
enum smtp_arg_error smtp_rcpt_parse(const char *args, size_t len, struct mail_path *path_r,
				    const char **error_r);

/* The DATA stream: removes dot-stuffing, ends at <CRLF>.<CRLF> only (so
 * no other sequence can ever end a message, the defence against SMTP
 * smuggling), and stores only CRLF line ends: a bare LF or a bare CR
 * becomes CRLF, but only a real CRLF starts a line that can end the
 * message or be unstuffed. A lone dot ended by a bare LF or CR is no end
 * and no stuffing: it is kept as a "." line. */
struct smtp_data_parser {
	int state;
	uint64_t bytes;		/* message bytes produced so far */
	bool bare_lf;		/* a bare LF was seen (and normalised) */
};

void smtp_data_init(struct smtp_data_parser *p);
/* Feeds len bytes. Writes message bytes to out, which must have room for
 * 2 * len + 2 bytes (a dot and a CR held back from the last call); *out_len_r gets their count and *consumed_r the input
 * bytes used. Returns 1 when the final "." line was consumed (input after it
 * is left alone), 0 when more input is needed. */
int smtp_data_parse(struct smtp_data_parser *p, const char *in, size_t len, char *out,
		    size_t *out_len_r, size_t *consumed_r);

/* SASL PLAIN (RFC 4616) from its base64 form: authzid NUL authcid NUL
 * password. Returns 0, or -1 with a reason. */
int sasl_plain_decode(const char *b64, size_t len, char *authz_r, size_t authz_size,
		      char *authc_r, size_t authc_size, char *pass_r, size_t pass_size,
		      const char **error_r);
/* One base64 line of SASL LOGIN (a user name or a password). */
int sasl_login_decode(const char *b64, size_t len, char *out, size_t size, const char **error_r);

#endif
