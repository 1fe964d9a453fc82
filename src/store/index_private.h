#ifndef YUBIN_STORE_INDEX_PRIVATE_H
#define YUBIN_STORE_INDEX_PRIVATE_H

/* Shared by index.c (folders) and index_msgs.c (messages) only. */

#include <sqlite3.h>

#include "store/index.h"

#include <sys/types.h>
#include <time.h>

struct mail_index {
	sqlite3 *db;
	struct mail_index *pool_next;	/* idle handles (mail_index_acquire) */
	ino_t db_ino;			/* index.db when opened: replaced means reopen */
	struct timespec db_mtime;	/* index.db's when last looked at */
	bool corrupt;			/* a statement met SQLITE_CORRUPT / NOTADB */
	struct timespec root_mtime;	/* the account directory at the folder scan */
	char root[4096];
};

int idx_exec(struct mail_index *idx, const char *sql);
/* Opens the index file at path (index.db or a rebuild's new file) of the
 * account at root, without the damage check of mail_index_open. */
struct mail_index *idx_open_file(const char *root, const char *path, bool wal, char *err,
				 size_t errsize);
/* Adds and drops folder rows to match the directories on disk. */
int idx_scan_folders(struct mail_index *idx);
/* SQLite result codes that mean the file is damaged. */
bool idx_rc_is_corrupt(int rc);

/* A change made through the index, which keeps the message cache up to
 * date itself: bumps only the counter IDLE polls. */
void store_changed_cached(const char *root);
/* The counter of changes made elsewhere (store_changed). */
uint64_t store_ext_generation(const char *root);
/* Forgets the cached messages of the folder at path. */
void mcache_invalidate(const char *path);
/* Forgets every cached folder of the account (its index was replaced). */
void mcache_invalidate_root(const char *root);
/* index_msgs.c: a folder's rows from its cache entry, into the rebuild of
 * a damaged index (1 done, 0 none usable, -1 error). */
int mcache_salvage(const char *path, struct mail_index *idx, int64_t id, uint32_t uidvalidity,
		   uint32_t *uidvalidity_r, uint32_t *uidnext_r, uint64_t *highestmodseq_r);
sqlite3_stmt *idx_prepare(struct mail_index *idx, const char *sql);
int idx_step_done(sqlite3_stmt *st);

/* index_recent.c: sets each message's recent (not yet claimed by a
 * read-write session) in a view fresh from a sync. */
void index_recent_mark(const struct index_mailbox *mbox, struct index_view *view);
/* A message is being added under uid (APPEND, COPY, MOVE): when the
 * folder has no floor yet, it starts there so the message is recent. */
void index_recent_note(const struct index_mailbox *mbox, uint32_t uid);

/* index_dirsum.c: a Maildir directory's names as a count and a sum of
 * their hashes (names starting with '.' and names of INDEX_FILE_MAX bytes
 * or more, which a sync skips, are left out). 0, or -1 (a missing
 * directory counts as empty). */
#define INDEX_FILE_MAX (MAILDIR_NAME_MAX + 40)
uint64_t index_name_hash(const char *name);
bool index_dir_name_counts(const char *name);
int index_dir_sum(const char *path, const char *sub, size_t *count_r, uint64_t *sum_r);

/* index_msgs.c: frees the message caches no sync is using. */
void index_msgs_cache_cleanup(void);

#endif
