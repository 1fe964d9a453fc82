#ifndef YUBIN_SERVER_SMTP_FORWARD_H
#define YUBIN_SERVER_SMTP_FORWARD_H

#include <stddef.h>

/* Forwarding of a delivered message for one account (settings `forward`,
 * `forward-keep`), on the delivery worker after the local copies and the
 * queue file are on disk. Each copy carries "Delivered-To: ACCOUNT" above
 * its trace fields; a message that already carries that line has been
 * forwarded by this account before (a loop) and is not forwarded again.
 * Copies for local addresses go straight into their Maildir (their own
 * forwarding is not applied: one hop); others go to the outbound queue
 * with the original envelope sender. The copies count against the
 * account's sending limits (sendguard_count_forward). */

struct forward_msg {
	const char *sid, *txid, *ip;
	const char *from;	/* envelope sender, "" for <> */
	const char *received;	/* "Received: from ... id X" without "for" and date */
	const char *tls_suite;	/* "" without TLS */
	const char *date;
	const char *body;	/* or body_fd */
	int body_fd;
	size_t body_len;
};

/* Forwards msg for account to the addresses of list (a `forward` value).
 * Returns the number of copies made (the message is then forwarded), or
 * -1 when none was: the caller keeps the account's own copy. */
int smtp_forward(const struct forward_msg *msg, const char *account, const char *list);

#endif
