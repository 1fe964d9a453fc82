#ifndef YUBIN_SERVER_SPAM_LEARN_H
#define YUBIN_SERVER_SPAM_LEARN_H

#include <stdbool.h>
#include <stddef.h>

/* Learning from a user's moves over IMAP (COPY, MOVE, UID MOVE; APPEND is
 * not a move): a message put into Junk trains the account's own model
 * (DATA/spam/account/ADDRESS.model, on top of the server's) as spam; one
 * taken out of Junk to any folder but Trash trains it as ham. Each
 * account keeps a record of what was learned (ADDRESS.learned: a hash of
 * the message and its direction, the newest SPAM_LEARN_RECORD_MAX), so a
 * message is never learned twice in the same direction, and a move the
 * other way undoes the earlier lesson instead of teaching a new one.
 *
 * The IMAP command only reads the messages (at most SPAM_LEARN_MSGS, the
 * first 512 KiB of each, 16 MiB in all; the rest of a bigger move is not
 * learned) and hands them over; the training runs as a job
 * of its own on the worker pool, one writer at a time (a lock around
 * every model write, and a lock file that yubinctl honours too). */

#define SPAM_LEARN_MSGS 200
#define SPAM_LEARN_RECORD_MAX 20000

struct spam_learn;

/* The direction of a move from folder src to dst (IMAP names, with their
 * special-use attributes): 1 spam, -1 ham, 0 nothing to learn. */
int spam_learn_direction(const char *src, const char *src_use, const char *dst, const char *dst_use);
/* A batch for address and direction; NULL when out of memory. */
struct spam_learn *spam_learn_new(const char *sid, const char *address, int direction);
/* Reads the message file at path into the batch (beyond SPAM_LEARN_MSGS
 * it is skipped); returns its index or -1. */
int spam_learn_add(struct spam_learn *l, const char *path);
/* Forgets message i (its copy failed). */
void spam_learn_drop(struct spam_learn *l, int i);
/* Hands the batch to a worker (it frees it); frees it at once when it
 * holds nothing. */
void spam_learn_submit(struct spam_learn *l);
void spam_learn_free(struct spam_learn *l);

#endif
