#ifndef YUBIN_STORE_MAILDIR_COMMIT_H
#define YUBIN_STORE_MAILDIR_COMMIT_H

#include "store/maildir.h"

#include <limits.h>
#include <stdbool.h>

/* Delivery in two steps, so that the durability work of many messages can
 * be done together (group commit, lib/groupcommit.h):
 *   maildir_stage   writes the message into tmp/ and starts its writeback;
 *                   nothing is visible in new/ and nothing is durable yet;
 *   maildir_commit_batch   for a whole batch of staged files: fdatasync
 *                   each, rename each into new/, then fsync each distinct
 *                   new/ directory once.
 * A file is durable before its name appears in new/, so a crash never shows
 * a reader a partial message; once its new/ has been fsync'd the name is
 * durable too, and only then may the 250 go out. */

struct maildir_staged {
	char dir[PATH_MAX];	/* the folder: the mailbox or one of its .Folders */
	char name[MAILDIR_NAME_MAX];
	/* A flat file instead (a queue file, store/queue_file.h): staged as
	 * dir/.name.tmp, published as dir/name (never replacing a file), and
	 * dir itself is the directory fsync'd. */
	bool flat;
	/* Maildir flags ("S", "FS": letters in ASCII order) to publish with:
	 * the file goes to cur/NAME:2,FLAGS instead of new/ (a delivery a
	 * filter marked read or flagged). Set after maildir_stage. */
	char flags[8];
	const char *error;	/* after the commit: NULL when durable in new/ */
	bool visible;		/* renamed into new/ */
	bool journaled;		/* made durable by the journal (store/journal.h) */
};

/* What maildir_commit_batch's arg points to (every field may be NULL). */
struct maildir_committer {
	struct fanout *syncs;	/* issues the syncs concurrently (lib/fanout.h) */
	struct journal *journal;	/* the delivery journal, when on */
};

/* Writes msg into dir/tmp/: 0, or -1 with *error_r (nothing left behind). */
int maildir_stage(const char *dir, const struct maildir_msg *msg, struct maildir_staged *st,
		  const char **error_r);
/* Whether maildir_stage starts each file's writeback at once (it does by
 * default; with the journal on, the checkpoint writes files out in bulk). */
void maildir_stage_set_writeback(bool on);
/* The group commit function: items are struct maildir_staged *; each gets
 * its error (NULL on success). arg is a struct maildir_committer *, or NULL
 * for one at a time and no journal. With a journal, the Maildir copies go
 * into it with one fdatasync for the batch and are renamed into new/ with
 * no further sync; flat files and copies the journal could not take are
 * fdatasync'd, renamed and their directories fsync'd. A file whose own sync failed never reaches
 * new/; one whose directory fsync failed is in new/ (visible) with error
 * set, for the caller to discard. */
void maildir_commit_batch(void **items, size_t n, void *arg);
/* Removes a staged file, from tmp/ or (when visible) from new/. */
void maildir_staged_discard(struct maildir_staged *st);

#endif
