#ifndef YUBIN_SERVER_OUTBOUND_H
#define YUBIN_SERVER_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "store/queue_file.h"

/* The SMTP client of the outbound queue: blocking, on the queue's own
 * delivery threads (never the daemon's worker pool, which stays free for
 * local work). One connection per destination carries several messages,
 * and the queue keeps it open between jobs for a few seconds. */

struct outbound_opts {
	char hostname[256];		/* EHLO name */
	char resolver[256];		/* dns.resolver */
	char relayhost[256];		/* smtp.relayhost, "" = MX */
	char user[256], password[256];	/* AUTH at the relay host */
	unsigned port;			/* smtp.remote_port */
	bool sts;			/* mta_sts.outbound: honour MTA-STS policies */
	char sts_ca_file[512];		/* mta_sts.ca_file */
};

struct outbound_conn;

/* Connects to the mail exchanger of domain (or the relay host): MX lookup
 * in preference order, A/AAAA fallback, greeting, EHLO, opportunistic
 * STARTTLS, AUTH at a relay host. NULL on failure with a reply in reply
 * ("451 4.4.1 ..." or "550 5.1.2 ...": its first digit is the class);
 * reply is "" on success. */
struct outbound_conn *outbound_open(const struct outbound_opts *o, const char *domain, char *reply,
				    size_t size);

/* Sends one message to the recipients env->rcpts[idx[i]]. The message is
 * read from the queue file at path. replies[i] receives each recipient's
 * result, starting with the reply code ("250 2.0.0 ...", "550 5.1.1 ...").
 * Returns -1 when the connection broke before the server answered MAIL:
 * it took nothing, so the message may be sent again on a new connection
 * at once (a reused connection the server had just closed); else 0. */
int outbound_send(struct outbound_conn *c, const struct queue_env *env, const char *path,
		  const size_t *idx, size_t n, char (*replies)[QUEUE_REPLY_MAX]);

/* true while the connection can take another message. */
bool outbound_is_usable(const struct outbound_conn *c);
/* Before reusing an idle connection: false when the server has closed it
 * or said something unasked (a 421); it is then marked broken. */
bool outbound_is_alive(struct outbound_conn *c);
/* Transactions begun on the connection so far. */
unsigned outbound_sent(const struct outbound_conn *c);
/* When the connection was made. */
time_t outbound_opened(const struct outbound_conn *c);
/* QUIT and close; NULL is fine. */
void outbound_close(struct outbound_conn *c);

/* The TLS client context every delivery shares: made by queue_start,
 * freed by queue_stop once the delivery threads are gone. ca_file (""
 * the system's) holds the CAs MX certificates are checked against for
 * MTA-STS; opportunistic TLS never checks them. */
void outbound_start(const char *ca_file);
void outbound_stop(void);

#endif
