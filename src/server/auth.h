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
	bool mover;		/* an account move's proxy login (may reach the move's target) */
};

/* Why a login failed, so each protocol can answer in its own words. */
enum auth_code {
	AUTH_OK = 0,
	AUTH_FAILED,		/* bad credentials, unknown user, disabled: the generic reply */
	AUTH_FOREIGN,		/* the foreign-access restriction refused the address
				 * (SMTP 535 5.7.1, POP3 -ERR [AUTH], IMAP NO [AUTHENTICATIONFAILED]) */
	AUTH_BLOCKED,		/* the address is blocked after failed logins (SMTP 454 4.7.0,
				 * POP3 -ERR [SYS/TEMP], IMAP NO [UNAVAILABLE]) */
	AUTH_TEMPFAIL,		/* directory trouble (SMTP 454 4.7.0, POP3 -ERR [SYS/TEMP]) */
};

struct auth_result {
	bool ok;
	enum auth_code code;
	char address[320];	/* canonical address on success */
	char reason[64];	/* "unknown user", "wrong password", "account disabled" */
	char text[256];		/* for the client when code is FOREIGN, BLOCKED or TEMPFAIL */
	char country[3];	/* GeoIP country of the client ("" unknown or private) */
};

/* Opens the GeoIP database (DATA/geoip/country.mmdb) and the brute-force
 * table, and makes the login cache's key; says loudly (log and a
 * `geoip-missing` event) when the database is missing. Called by main
 * before the loops run; auth_stop after the workers are gone. */
void auth_start(void);
void auth_stop(void);

void auth_submit(struct loop *loop, const struct auth_request *req, struct auth_result *res,
		 void (*done)(void *ctx), void *ctx);
/* The same check on the calling thread (a worker already: the web panel's
 * login); *delay_ms_r: how long the answer should wait. A refusal is not
 * counted in the metrics here: the API counts every refused web login
 * (http_api_env.login_refused), also those refused before any check. */
void auth_check_now(const struct auth_request *req, struct auth_result *res, unsigned *delay_ms_r);
/* An administrator's panel login (name, no address) under the same
 * brute-force defence as the mail logins of its client address: blocked
 * now? A failure counted (an auth-failed event), and how long its answer
 * should wait (ms). On a worker. */
bool auth_admin_blocked(const char *ip, const char *name);
unsigned auth_admin_failed(const char *ip, const char *name);
void auth_request_wipe(struct auth_request *req);

#endif
