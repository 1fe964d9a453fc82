#ifndef YUBIN_SERVER_CERTS_H
#define YUBIN_SERVER_CERTS_H

#include <openssl/ssl.h>
#include <stdbool.h>

/* The daemon's side of the certificates: the renewal thread (ACME through
 * ops/ops_acme.c, off the loops) and the SNI names no certificate covers,
 * recorded as "tls-sni-unknown" events. */

/* lib/tls.c's SNI-miss hook: at most one event per name an hour, and at
 * most CERTS_SNI_EVENTS_PER_HOUR in all (random names cannot flood the
 * events table). */
void certs_sni_miss(void *arg, SSL *ssl, const char *name);
/* Starts the renewal thread (after the loops run: the challenges are
 * answered on ports 80 and 443); it looks at every name soon after the
 * start and then hourly, or when woken. */
void certs_start(void);
/* Wakes the renewal thread now (SIGHUP: settings or domains changed). */
void certs_wake(void);
/* Queues name for an ACME order on the renewal thread (the API's renew)
 * and wakes it; false when CERTS_QUEUE_MAX names wait already. */
#define CERTS_QUEUE_MAX 64
bool certs_renew_request(const char *name, bool force);
/* Stops and joins it (an order in progress finishes first). */
void certs_stop(void);

#endif
