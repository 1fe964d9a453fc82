#ifndef YUBIN_SERVER_NODE_PURGE_H
#define YUBIN_SERVER_NODE_PURGE_H

#include "directory/directory.h"
#include "lib/config.h"

/* On a mail node (node.name set, not a proxy): the mailboxes the
 * directory asks this node to delete (mailbox_deletions, written when an
 * account or a domain is deleted elsewhere), every NODE_PURGE_SECS from
 * dir_maint.c on a worker. Only what is asked for goes: a node never
 * removes a mailbox because the directory does not list its account. */
#define NODE_PURGE_SECS 10

/* Whether this daemon purges (a mail node). */
bool node_purge_is_on(const struct config *cfg);
/* One pass: each request handled removes the mailbox (with its sieve
 * scripts, address book and search index, all inside it), unless its
 * address was added again on this node meanwhile, then the request. */
void node_purge_run(struct directory *dir, const struct config *cfg, const char *data_dir);

#endif
