#ifndef YUBIN_SERVER_EXPIRE_H
#define YUBIN_SERVER_EXPIRE_H

#include "server/server.h"

/* Schedules the Trash/Junk expiry on base: a minute after start, then
 * hourly. */
void expire_start(struct event_base *base);
/* Frees the timers (after the loops have stopped). */
void expire_stop(void);
/* One pass over every account (blocking; worker threads). */
void expire_run_once(void);

#endif
