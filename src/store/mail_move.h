#ifndef YUBIN_STORE_MAIL_MOVE_H
#define YUBIN_STORE_MAIL_MOVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/index.h"

/* A mailbox moving to another node (ops/ops_move.c), on this node's disk.
 *
 * The source freezes it: one atomic exchange puts a plain file (the
 * tombstone) where the account's directory was, and the directory goes to
 * ROOT.moving. Every writer names its files by path under ROOT, so from
 * that instant nothing lands in the old mailbox: a delivery's rename from
 * tmp/ fails (a temporary error; the message comes again), a session's
 * index cannot be opened, and nothing re-creates the mailbox (ROOT exists,
 * as a file). The move reads the frozen copy, switches the home node, then
 * purges ROOT.moving; the tombstone stays and keeps refusing anything a
 * stale lookup sends here. A target removes a tombstone left by an earlier
 * move away before it fills the mailbox again. */

/* ROOT.moving into buf: 0, or -1 when it does not fit. */
int mail_move_frozen_path(const char *root, char *buf, size_t size);
/* Is root a tombstone (the mailbox moved or is moving away)? */
bool mail_move_is_gone(const char *root);
/* A logged-in session's mailbox, with one lstat: still here, moved (or
 * moving) away (a tombstone), or gone with its account (no such path). */
enum mail_root_state { MAIL_ROOT_HERE, MAIL_ROOT_MOVED, MAIL_ROOT_DELETED };
enum mail_root_state mail_root_state(const char *root);
/* Freezes root as above; frozen already: done again is fine. 0, or -1
 * with *error_r. */
int mail_move_freeze(const char *root, const char **error_r);
/* Undoes a freeze (a move given up before its switch): 0, or -1. */
int mail_move_thaw(const char *root, const char **error_r);
/* After the switch: removes ROOT.moving, keeping the tombstone. 0, -1. */
int mail_move_purge(const char *root, const char **error_r);
/* On the target: removes a tombstone (and a frozen copy) left by an
 * earlier move away, so the mailbox can be made here again. 0, -1. */
int mail_move_clear(const char *root, const char **error_r);

/* A per-account file that moves with the mailbox (besides the folders):
 * relative path, "sieve/NAME" or "contacts.db". */
bool mail_move_file_is_moved(const char *rel);

/* The target's side of a folder copy: makes folder name if missing and
 * gives it uidvalidity (allowed only while it holds no message, or when
 * equal), raises its uidnext to at least uidnext (the UID the next APPEND
 * gets) and its highestmodseq to at least highestmodseq. 0, or -1 with
 * *error_r. */
int mail_index_mailbox_import(struct mail_index *idx, const char *name, uint32_t uidvalidity,
			      uint32_t uidnext, uint64_t highestmodseq, const char **error_r);

#endif
