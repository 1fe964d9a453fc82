#ifndef YUBIN_SERVER_AUTH_H
#define YUBIN_SERVER_AUTH_H

#include <stdbool.h>

#include "server/server.h"

/* Password authentication shared by SMTP, POP3 (and IMAP, webmail later).
 * The login name is the full address. The check runs on a worker; the
 * result comes back on the caller's loop. Every failure is recorded as an
 * `auth-failed` event with its real reason. */

struct auth_request {
	char user[320];
	char password[256];
	char ip[64];
	char service[16];
};

struct auth_result {
	bool ok;
	char address[320];	/* canonical address on success */
	char reason[64];	/* "unknown user", "wrong password", "account disabled" */
};

void auth_submit(struct loop *loop, const struct auth_request *req, struct auth_result *res,
		 void (*done)(void *ctx), void *ctx);
void auth_request_wipe(struct auth_request *req);

#endif
