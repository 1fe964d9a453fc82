#ifndef YUBIN_SERVER_TLSRPT_H
#define YUBIN_SERVER_TLSRPT_H

#include <stdbool.h>

/* The daily TLS reports (RFC 8460): a thread of its own that, when
 * tlsrpt.enabled is on, turns each finished day's journal
 * (DATA/tlsrpt/YYYY-MM-DD, server/outbound_sts.c) into one report per
 * policy domain that publishes a _smtp._tls record, gzip-compressed JSON
 * sent by mail through the outbound queue (from tlsrpt.from, DKIM-signed
 * like the server's own mail) or by HTTPS POST to each rua URI; the day's
 * file is then renamed DAY.sent. `yubinctl tlsrpt send [DAY]` writes
 * DATA/tlsrpt/request (a day, today included) and sends SIGHUP. */
void tlsrpt_start(void);
void tlsrpt_stop(void);
/* Look for finished days and a request now (SIGHUP). */
void tlsrpt_wake(void);

#endif
