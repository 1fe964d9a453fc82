#ifndef YUBIN_SERVER_SMTP_VIRUS_H
#define YUBIN_SERVER_SMTP_VIRUS_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/virus.h"

/* The virus check of a message at the end of DATA/BDAT, on the delivery's
 * worker, after the inbound DMARC check and before any copy is written:
 * clamd scans the message (policy/virus.h); a virus refuses it; when clamd
 * cannot scan, the message is accepted with "X-Virus-Scan: unavailable"
 * or deferred (virus.unavailable). Forged X-Virus-Scan fields from outside
 * are removed either way. */

struct smtp_virus_msg {
	const char *sid, *txid, *ip, *from;
	const char *login;		/* the authenticated login, or "" (port 25) */
	const char *const *rcpts;	/* every recipient */
	size_t nrcpts;
};

struct smtp_virus {
	bool found;		/* refuse: 554 5.7.1 naming name */
	bool defer;		/* refuse for now: 451 4.7.1 */
	char name[CLAMD_NAME_MAX];
	char *copy;		/* the rewritten message, in memory ... */
	int copy_fd;		/* ... or in an unlinked file (-1: none) */
};

void smtp_virus_init(struct smtp_virus *v);
/* Scans the message at *body / *body_fd (*body_len bytes) and, when it
 * must change (a header added, forged fields removed), points them at the
 * rewritten copy, which v owns. 0: deliver; -1: refused (v->found or
 * v->defer) or a local error (neither). */
int smtp_virus_run(struct smtp_virus *v, const struct smtp_virus_msg *m, const char **body, int *body_fd,
		   size_t *body_len);
void smtp_virus_free(struct smtp_virus *v);

#endif
