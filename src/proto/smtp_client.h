#ifndef YUBIN_PROTO_SMTP_CLIENT_H
#define YUBIN_PROTO_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The client side of SMTP, pure: replies from a server (multi-line,
 * RFC 3463 enhanced status codes) and the EHLO extensions. No I/O. */

#define SMTP_REPLY_TEXT_MAX 2048

struct smtp_reply {
	unsigned code;			/* 250; 0 until the first line */
	char enhanced[16];		/* "2.1.0" from the first line, or "" */
	char text[SMTP_REPLY_TEXT_MAX];	/* each line's text after the code (and
					 * enhanced code), joined by '\n' */
	size_t text_len;
	unsigned lines;
};

void smtp_reply_init(struct smtp_reply *r);
/* Feeds one line of a reply without its CRLF. Returns 1 when the reply is
 * complete (a "NNN " or "NNN" line), 0 when lines follow ("NNN-"), -1 on a
 * malformed line or a code that changes between lines (*error_r says). */
int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len, const char **error_r);
/* One line for logs and DSNs: "550 5.1.1 no such user; second line". */
void smtp_reply_format(const struct smtp_reply *r, char *buf, size_t size);
/* 2, 4 or 5 (the class of the code); 4 for anything unexpected. */
int smtp_reply_class(const struct smtp_reply *r);

struct smtp_ehlo {
	bool starttls, pipelining, eightbitmime, size, smtputf8, dsn, chunking;
	bool auth_plain, auth_login;
	uint64_t size_max;		/* 0: no limit given */
};

/* Reads the extensions from an EHLO reply (every line after the first). */
void smtp_ehlo_parse(struct smtp_ehlo *e, const struct smtp_reply *r);

#endif
