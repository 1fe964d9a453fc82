#ifndef YUBIN_SERVER_DIR_MAINT_H
#define YUBIN_SERVER_DIR_MAINT_H

#include "server/server.h"

/* The daemon's upkeep of its directory, on a timer of loop 0 whose work
 * runs on a worker (one pass at a time):
 * - while the directory cannot be opened (PostgreSQL down, also at
 *   start), a new attempt every second, so it is back without waiting for
 *   a client's lookup to find it;
 * - every DIR_MAINT_PRUNE_SECS, the ever-growing tables pruned in small
 *   batches (directory_prune);
 * - on a mail node, every NODE_PURGE_SECS, the mailboxes the directory
 *   asks it to delete (node_purge.h). */
#define DIR_MAINT_PRUNE_SECS 300

void dir_maint_start(struct event_base *base);
/* Frees the timer (after the loops and workers have stopped). */
void dir_maint_stop(void);

#endif
