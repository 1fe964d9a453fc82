/* Messages in the index, written: expunge, copy and move (one message or
 * many in batches), and the row a new file gets (index_insert_row). */
#include "store/index_private.h"
#include "store/journal.h"
#include "store/quota.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Copies and moves go to the index in transactions of at most this many:
 * one commit and one fsync per directory per batch, and the write lock
 * held for a bounded time. */
#define COPY_BATCH 1000

int mail_index_expunge(struct mail_index *idx, struct index_mailbox *mbox,
		       const struct index_msg *msgs, size_t count)
{
	char path[PATH_MAX], cur[PATH_MAX], sql[128];
	uint64_t freed = 0;

	if (count == 0)
		return 0;
	for (size_t i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/cur/%s", mbox->path, msgs[i].file);
		journal_wait_durable(msgs[i].file);	/* or a crash could bring it back */
		if (unlink(path) < 0 && errno != ENOENT)
			return -1;
		freed += msgs[i].size;
	}
	snprintf(cur, sizeof(cur), "%s/cur", mbox->path);
	fs_fsync_dir(cur);
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE mailbox_id = %lld AND uid = %u",
			 (long long)mbox->id, msgs[i].uid);
		idx_exec(idx, sql);
	}
	idx_mailbox_bump_modseq(idx, mbox);
	idx_exec(idx, "COMMIT");
	quota_release(idx->root, freed);
	mcache_invalidate(mbox->path);
	store_changed_cached(idx->root);
	return 0;
}

int index_insert_row(struct mail_index *idx, struct index_mailbox *dst, const char *file,
		     uint32_t flags, const char *keywords, uint64_t size, int64_t internaldate,
		     uint32_t *uid_r)
{
	char base[MAILDIR_NAME_MAX];
	sqlite3_stmt *st;

	idx_base_of(file, base, sizeof(base));
	if (idx_mailbox_reload(idx, dst) < 0)
		return -1;
	*uid_r = dst->uidnext++;
	index_recent_note(dst, *uid_r);
	st = idx_prepare(idx, "INSERT INTO messages(mailbox_id, uid, base, file, flags, keywords, modseq,"
			 " size, internaldate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, dst->id);
	sqlite3_bind_int64(st, 2, *uid_r);
	sqlite3_bind_text(st, 3, base, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, flags);
	sqlite3_bind_text(st, 6, keywords != NULL ? keywords : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)++dst->highestmodseq);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)size);
	sqlite3_bind_int64(st, 9, internaldate);
	if (idx_step_done(st) < 0 || idx_mailbox_save_counters(idx, dst) < 0)
		return -1;
	return 0;
}

int index_insert_new(struct mail_index *idx, struct index_mailbox *dst, const char *file,
		     uint32_t flags, const char *keywords, uint64_t size, int64_t internaldate,
		     uint32_t *uid_r)
{
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (index_insert_row(idx, dst, file, flags, keywords, size, internaldate, uid_r) < 0 ||
	    idx_exec(idx, "COMMIT") < 0) {
		idx_exec(idx, "ROLLBACK");
		return -1;
	}
	store_changed_cached(idx->root);
	return 0;
}

/* The file name a copy (a new unique name) or a move (the same) gets. */
static void copy_name(const struct index_msg *msg, bool move, char *file, size_t size)
{
	char base[MAILDIR_NAME_MAX], letters[16];

	if (move) {
		str_copy(file, size, msg->file);
		return;
	}
	maildir_unique_name(base, sizeof(base), (size_t)msg->size);
	index_flags_to_maildir(msg->flags, letters, sizeof(letters));
	snprintf(file, size, "%s:2,%s", base, letters);
}

/* One batch of mail_index_copy_many: the files linked (renamed), each
 * directory fsynced once, the rows in one transaction. How many of msgs
 * were done (a prefix); fewer than n with *error_r set. */
static size_t copy_batch(struct mail_index *idx, struct index_mailbox *src, const struct index_msg *const *msgs,
			 size_t n, struct index_mailbox *dst, bool move, uint32_t *uids_r, const char **error_r)
{
	char from[PATH_MAX], to[PATH_MAX], dir[PATH_MAX], sql[128];
	char (*files)[MAILDIR_NAME_MAX + 40] = malloc(n * sizeof(*files));
	size_t k = 0;

	if (files == NULL) {
		*error_r = "[SERVERBUG] Out of memory";
		return 0;
	}
	/* The write transaction is held from before the files appear in
	 * dst until their rows are there: a sync of dst that reads a new file
	 * meanwhile waits (BEGIN IMMEDIATE) and then finds its row, instead of
	 * giving the file a UID of its own beside the one inserted here. */
	if (idx_exec(idx, "BEGIN IMMEDIATE") < 0) {
		*error_r = "[SERVERBUG] Index busy";
		free(files);
		return 0;
	}
	for (; k < n; k++) {
		copy_name(msgs[k], move, files[k], sizeof(files[k]));
		snprintf(from, sizeof(from), "%s/cur/%s", src->path, msgs[k]->file);
		snprintf(to, sizeof(to), "%s/cur/%s", dst->path, files[k]);
		if ((move ? rename(from, to) : link(from, to)) < 0) {
			*error_r = errno == ENOENT ? "[EXPUNGEISSUED] The message was expunged meanwhile"
						   : "[SERVERBUG] Cannot store the message";
			break;
		}
	}
	snprintf(dir, sizeof(dir), "%s/cur", dst->path);
	if (k > 0)
		fs_fsync_dir(dir);
	if (k > 0 && move) {
		snprintf(dir, sizeof(dir), "%s/cur", src->path);
		fs_fsync_dir(dir);
	}
	/* the source's expunges move its mod-sequence (RFC 7162 3.2) */
	if (k > 0 && move && idx_mailbox_bump_modseq(idx, src) < 0)
		goto fail;
	for (size_t i = 0; i < k; i++) {
		if (move) {
			snprintf(sql, sizeof(sql), "DELETE FROM messages WHERE mailbox_id = %lld AND uid = %u",
				 (long long)src->id, msgs[i]->uid);
			idx_exec(idx, sql);
		}
		if (index_insert_row(idx, dst, files[i], msgs[i]->flags, msgs[i]->keywords, msgs[i]->size,
				     msgs[i]->internaldate, &uids_r[i]) < 0)
			goto fail;
	}
	if (idx_exec(idx, "COMMIT") < 0)
		goto fail;
	free(files);
	return k;
fail:
	idx_exec(idx, "ROLLBACK");	/* the files stay: the next sync numbers them */
	*error_r = "[SERVERBUG] Index update failed";
	free(files);
	return 0;
}

size_t mail_index_copy_many(struct mail_index *idx, struct index_mailbox *src, const struct index_msg *const *msgs,
			    size_t n, struct index_mailbox *dst, bool move, uint32_t *uids_r, const char **error_r)
{
	size_t done = 0;

	while (done < n) {
		size_t k = n - done < COPY_BATCH ? n - done : COPY_BATCH;
		size_t got = copy_batch(idx, src, msgs + done, k, dst, move, uids_r + done, error_r);

		done += got;
		if (got < k)
			break;
	}
	/* The caches are dropped after the transaction ends, never inside it:
	 * a sync holds a folder's cache lock while it waits for the write
	 * lock, so taking the cache lock while holding the write lock would
	 * deadlock with it. */
	if (move)
		mcache_invalidate(src->path);
	mcache_invalidate(dst->path);
	if (done > 0)
		store_changed_cached(idx->root);
	return done;
}

int mail_index_copy(struct mail_index *idx, struct index_mailbox *src, const struct index_msg *msg,
		    struct index_mailbox *dst, bool move, uint32_t *uid_r, const char **error_r)
{
	return mail_index_copy_many(idx, src, &msg, 1, dst, move, uid_r, error_r) == 1 ? 0 : -1;
}

