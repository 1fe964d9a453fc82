#ifndef YUBIN_MAIL_AUTHRES_H
#define YUBIN_MAIL_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"

/* Authentication-Results (RFC 8601): the field a receiving server adds
 * with what it checked, and the search for fields that claim to be ours
 * in mail from outside (forged: they must go, section 5). Pure. */

struct authres_dkim {
	const char *result;	/* "pass", "fail", ... */
	const char *domain;	/* header.d */
	const char *selector;	/* header.s */
	const char *b;		/* header.b: the start of the signature */
	const char *reason;	/* reason=, "" or NULL for none */
};

struct authres {
	const char *authserv_id;	/* our host name */
	/* SPF: result NULL when not checked */
	const char *spf_result;
	bool spf_helo;			/* identity is smtp.helo, not smtp.mailfrom */
	const char *spf_identity;
	const char *spf_comment;	/* a comment: what decided, or why it failed */
	/* DKIM: checked means one entry per signature, dkim=none for none */
	bool dkim_checked;
	const struct authres_dkim *dkim;
	size_t ndkim;
	/* DMARC: result NULL when not checked */
	const char *dmarc_result;
	const char *dmarc_from;		/* header.from */
	const char *dmarc_policy;	/* policy.dmarc: the published policy, or NULL */
	const char *dmarc_comment;
};

/* Appends the whole field, "Authentication-Results: ID;\r\n\t...\r\n",
 * folded one result a line. Values that are not tokens are quoted;
 * comments and values lose bytes outside printable ASCII. */
void authres_build(const struct authres *ar, struct strbuf *out);

struct authres_range {
	size_t offset, size;
};

/* Finds the Authentication-Results fields of the header block at
 * msg[0..len) whose authserv-id is authserv_id (case-insensitive): byte
 * ranges of the whole fields (line ends included), in order, at most max
 * (*more_r tells whether there were more). Returns how many. */
size_t authres_find_ours(const char *msg, size_t len, const char *authserv_id, struct authres_range *ranges,
			 size_t max, bool *more_r);

/* The authserv-id of an Authentication-Results value (after the colon):
 * 0 with it in buf, -1 when there is none. */
int authres_authserv_id(const char *value, size_t len, char *buf, size_t size);

#endif
