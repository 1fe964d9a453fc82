#ifndef YUBIN_STORE_JOURNAL_H
#define YUBIN_STORE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The delivery journal: group commit with one write and one fdatasync per
 * batch instead of an fdatasync per message file and an fsync per folder.
 *
 * The committer (store/maildir_commit.c) appends each staged copy of the
 * batch to the current segment (DATA/journal/SEQ.log, records in
 * store/journal_record.h), fdatasyncs the segment once, and only then
 * renames the copies from tmp/ into new/ (or cur/) without syncing them:
 * the journal holds what the 250 promises. A checkpoint thread starts a
 * new segment every checkpoint_ms, makes the whole file system durable
 * (syncfs) and removes the older segments; at start, journal_recover
 * writes again every copy a leftover segment holds.
 *
 * A copy still only in the journal must not be deleted (expunged, POP3
 * DELE) before its segment is checkpointed, or recovery would bring it
 * back: journal_wait_durable(name) makes such a deletion wait for the
 * checkpoint (at most about checkpoint_ms). Moves and renames keep the
 * base name, and recovery looks for it in every folder of the account. */

struct journal;

/* Opens (making it) the journal directory dir on the file system of the
 * mailboxes; it must hold no segment (journal_recover first). A
 * checkpoint_ms of 0 is taken as 1000. NULL with *error_r on failure. */
struct journal *journal_open(const char *dir, unsigned checkpoint_ms, const char **error_r);
/* Checkpoints what is left, removes the segments and stops the thread.
 * NULL is fine. */
void journal_close(struct journal *j);

/* The committer's side, for one batch: begin, add each copy (the staged
 * file at tmp_path, to be published into folder as name with flags),
 * sync, then for each copy journal_published before its rename, end.
 * journal_add returns 0, or -1 when that copy could not be written (the
 * caller makes it durable another way); journal_sync -1 means none of the
 * batch's copies is in the journal. */
void journal_begin(struct journal *j);
int journal_add(struct journal *j, const char *folder, const char *name, const char *flags,
		const char *tmp_path);
int journal_sync(struct journal *j);
void journal_published(struct journal *j, const char *name);
void journal_end(struct journal *j);

/* The journal deletions check with (one per process; NULL: none). */
void journal_set_global(struct journal *j);
/* Waits until the copy with this file name (a base name, or one with
 * ":2,FLAGS") is durable in its folder, when it is still only in the
 * journal; returns at once otherwise. */
void journal_wait_durable(const char *file);

/* Waits until every copy published so far is durable in its folder: before
 * a folder, an account or a domain is removed, so that a replay never puts
 * old copies into one made again under the same name. */
void journal_wait_all(void);

/* Checkpoints so far (tests, logs). */
unsigned long journal_checkpoints(struct journal *j);

struct journal_recovery {
	unsigned records;	/* valid records in the leftover segments */
	unsigned rewritten;	/* copies found whose content was written again */
	unsigned restored;	/* copies missing from every folder, put back */
	unsigned intact;	/* copies found whole */
	unsigned skipped;	/* folder gone, or outside mail_root */
	unsigned torn;		/* segments that ended in an incomplete or bad record */
};

/* Replays the leftover segments in dir, writing copies under mail_root
 * only, makes everything durable and removes the segments. 0, or -1 with
 * *error_r (the segments are then kept). */
int journal_recover(const char *dir, const char *mail_root, struct journal_recovery *stats,
		    const char **error_r);

#endif
