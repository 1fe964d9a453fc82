#ifndef YUBIN_MAIL_ADDRESS_H
#define YUBIN_MAIL_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 paths: the <...> of MAIL FROM and RCPT TO. Pure. */

#define MAIL_LOCAL_MAX 64
#define MAIL_DOMAIN_MAX 255
#define MAIL_PATH_MAX 256

struct mail_path {
	bool null_path;		/* <> */
	bool source_route;	/* <@a,@b:user@c> (RFC 5321 says to ignore it; we refuse relaying) */
	bool local_quoted;	/* "..."@domain */
	bool domain_literal;	/* user@[192.0.2.1] */
	char local[MAIL_LOCAL_MAX * 2 + 3];	/* unquoted, as sent (case kept) */
	char domain[MAIL_DOMAIN_MAX + 1];	/* lowercased, literal brackets kept */
};

/* Parses a path at s (len bytes, not NUL-terminated); leading spaces are
 * skipped. *consumed_r gets the bytes used, through the '>'. Returns 0 or
 * -1 with a reason in *error_r. */
int mail_path_parse(const char *s, size_t len, struct mail_path *path_r, size_t *consumed_r,
		    const char **error_r);

/* If path uses a trick to make a local domain relay elsewhere (percent
 * hack, bang path, quoted '@', source route, IP literal, trailing dot),
 * returns a short description of it; NULL when the path is plain. */
const char *mail_path_relay_trick(const struct mail_path *path);

/* Writes "local@domain" (quoting the local part when needed). */
void mail_path_format(const struct mail_path *path, char *buf, size_t size);

#endif
