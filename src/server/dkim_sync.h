#ifndef YUBIN_SERVER_DKIM_SYNC_H
#define YUBIN_SERVER_DKIM_SYNC_H

#include "server/server.h"

/* DKIM keys from the directory (policy/dkim_share.h): written out to
 * DATA/dkim once at start (before the first message is signed), then every
 * DKIM_SYNC_INTERVAL seconds on a worker, so a key made or rotated on any
 * machine sharing the directory signs here too. */
#define DKIM_SYNC_INTERVAL 30

void dkim_sync_start(struct event_base *base);
/* Frees the timer (after the loops have stopped). */
void dkim_sync_stop(void);

#endif
