#ifndef YUBIN_SERVER_LOOP_H
#define YUBIN_SERVER_LOOP_H

/* The event loops (struct loop in server/server.h): one thread each, with
 * its own listeners. Called by main only, in this order. */

/* Makes server->nloops loops, each with its resolver and its listeners
 * bound (before privileges are dropped). */
void loops_start(void);
/* Starts the loop threads: connections are accepted from here on. */
void loops_run(void);
/* Stops accepting, lets each loop finish its connections (up to the
 * shutdown grace), joins the threads and frees the loops. */
void loops_stop(void);
/* Frees the loops' event bases, once nothing can post to them any more
 * (after the worker pool and the timers on them are gone). */
void loops_free(void);

#endif
