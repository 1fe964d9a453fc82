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
/* index_write.c: gives the file just put into dst's cur/ its row and the
 * next UID, within the caller's write transaction; _new in a transaction
 * of its own. */
int index_insert_row(struct mail_index *idx, struct index_mailbox *dst, const char *file,
		     uint32_t flags, const char *keywords, uint64_t size, int64_t internaldate,
		     uint32_t *uid_r);
int index_insert_new(struct mail_index *idx, struct index_mailbox *dst, const char *file,
		     uint32_t flags, const char *keywords, uint64_t size, int64_t internaldate,
		     uint32_t *uid_r);
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

/* index_sync.c: a Maildir directory's names as a count and a sum of
 * their hashes (names starting with '.' and names of INDEX_FILE_MAX bytes
 * or more, which a sync skips, are left out). 0, or -1 (a missing
 * directory counts as empty). */
#define INDEX_FILE_MAX (MAILDIR_NAME_MAX + 40)
uint64_t index_name_hash(const char *name);
bool index_dir_name_counts(const char *name);
int index_dir_sum(const char *path, const char *sub, size_t *count_r, uint64_t *sum_r);

/* index_sync.c: a file found in a folder's new/ or cur/. */
struct disk_entry {
	int64_t time;		/* from the name, for delivery order: microseconds */
	uint64_t seq;		/* and the delivering process's count (Q), if named */
	char base[MAILDIR_NAME_MAX];
	char file[MAILDIR_NAME_MAX + 40];
	bool in_new;
	bool recent;		/* found in new/ (it may be in cur/ by now) */
	bool matched;
};

/* The disk entries by base name: an open-addressing hash table of
 * pointers (a power of two, at least twice the entries). Sorting 100,000
 * names that share their first 20 bytes and searching them per row cost
 * more than the directory's reading. */
struct disk_table {
	struct disk_entry **slots;
	size_t mask;
};

/* new/ and cur/ of the folder being synced, open: renames and stats by
 * name in them spare a walk of the whole path each (100,000 of them in a
 * big first sync). -1 when missing. */
struct sync_dirs {
	int new_fd, cur_fd;
};

/* The base name of a Maildir file name (before ':'). index_msgs.c. */
void idx_base_of(const char *file, char *base, size_t size);
/* The directory entries (in_new: of new/, else cur/) appended to *list. */
int idx_disk_scan_dir(const char *path, bool in_new, struct disk_entry **list, size_t *n, size_t *cap);
int idx_disk_table_make(struct disk_table *t, struct disk_entry *disk, size_t n);
/* The entry named base, or NULL. */
struct disk_entry *idx_disk_table_find(const struct disk_table *t, const char *base);
/* qsort order of struct disk_entry pointers: delivery order. */
int idx_disk_cmp_time(const void *a, const void *b);
/* A base name's delivery order: microseconds and the Q count, when named. */
void idx_name_order(const char *base, int64_t *time_r, uint64_t *seq_r);
/* Opens path/sub as a directory (-1 when missing). */
int idx_sync_dir_open(const char *path, const char *sub);
int idx_move_new_to_cur(const struct sync_dirs *dirs, struct disk_entry *e);
/* Gives a file found on disk the next UID (ins: the prepared INSERT), in
 * the caller's write transaction; moves it to cur/ first. 1: gone meanwhile. */
int idx_sync_insert(sqlite3_stmt *ins, const struct sync_dirs *dirs, struct index_mailbox *mbox,
		    struct disk_entry *e, struct index_msg *m);
int idx_mailbox_save_counters(struct mail_index *idx, const struct index_mailbox *mbox);
/* The folder's UIDNEXT and HIGHESTMODSEQ as the index has them now. */
int idx_mailbox_reload(struct mail_index *idx, struct index_mailbox *mbox);
/* Raises the folder's HIGHESTMODSEQ by one in the caller's write
 * transaction, from its current value: an expunge's mod-sequence (RFC 7162
 * 3.2 asks every EXPUNGE, UID EXPUNGE, CLOSE and MOVE to move it). */
int idx_mailbox_bump_modseq(struct mail_index *idx, struct index_mailbox *mbox);
/* Compares the folder's directories with every row (a full sync) and
 * returns every message; *moved_r: it changed cur/ or the rows. */
int idx_sync_full(struct mail_index *idx, struct index_mailbox *mbox, struct index_view *view_r,
		  bool *moved_r);

/* index_msgs.c: frees the message caches no sync is using. */
void index_msgs_cache_cleanup(void);

#endif
