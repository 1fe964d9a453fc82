#ifndef YUBIN_STORE_FTS_H
#define YUBIN_STORE_FTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/index.h"

/* The per-account full-text search index, DATA/mail/DOMAIN/USER/search.db
 * (SQLite FTS5 with the trigram tokenizer, so Japanese words are found
 * without a dictionary). It holds, per folder and UID, the text of
 * mail/mail_text.h with ASCII letters folded to lower case: the decoded
 * header, the body text, Subject, From/To/Cc as SEARCH compares them and
 * the attachments' names. It is a cache, rebuildable from the Maildir at
 * any time (synchronous=NORMAL, never touched by delivery): each search
 * first brings a folder's rows in line with the mail index's view
 * (fts_folder_sync: rows of vanished UIDs or an old UIDVALIDITY go,
 * messages not yet indexed are read and added), so it cannot return a
 * message that is gone and never misses one it has not indexed (the
 * caller treats those as unknown). Blocking: call from a worker. */

#define FTS_FILE "search.db"
/* Text indexed per message; a message with more is marked incomplete
 * (IMAP SEARCH reads it; the webmail finds words in its first part). */
#define FTS_MAX_BODY (256 * 1024)
#define FTS_MAX_HEADER (64 * 1024)
/* Messages indexed by one fts_folder_sync by default. */
#define FTS_SYNC_MAX 5000

struct fts_index;

enum fts_field {
	FTS_TEXT,	/* header or body (IMAP TEXT) */
	FTS_BODY,
	FTS_SUBJECT,
	FTS_FROM,
	FTS_TO,
	FTS_CC,
	FTS_TOCC,	/* To or Cc */
	FTS_ANY,	/* header, body or an attachment's name */
};

/* Opens (creating) the account's search index; a damaged file is
 * replaced by an empty one. NULL with err on failure. */
struct fts_index *fts_open(const char *root, char *err, size_t errsize);
void fts_close(struct fts_index *f);

/* What the index knows of one folder after a sync. */
struct fts_folder {
	int64_t fid;		/* the folder's key in search.db */
	uint8_t *exact;		/* per message of the view: indexed completely */
	size_t indexed;		/* messages added by this sync */
	size_t missing;		/* messages of the view still not indexed */
};

/* Brings the folder's rows in line with the view (UIDs ascending) and
 * indexes up to max_new messages it lacks, reading their files. Returns
 * 0 (fs_r filled; free with fts_folder_free), -1 on a database error. */
int fts_folder_sync(struct fts_index *f, const struct index_mailbox *mbox, const struct index_view *v,
		    size_t max_new, struct fts_folder *fs_r);
void fts_folder_free(struct fts_folder *fs);

/* The UIDs (ascending, malloc'd) of the folder's indexed messages whose
 * field contains needle (UTF-8, compared as SEARCH does: ASCII letters
 * case-insensitively, anything else as it is). Needles of 3 characters or
 * more use the trigram index; shorter ones read the indexed text. -1 on a
 * database error. */
int fts_folder_match(struct fts_index *f, int64_t fid, enum fts_field field, const char *needle, size_t len,
		     uint32_t **uids_r, size_t *n_r);

/* Can the index answer a SEARCH for needle exactly (as the scan would)?
 * Valid UTF-8, at least 3 characters (the trigram's length), no line end
 * (the index joins fields with them). */
bool fts_needle_is_exact(const char *needle, size_t len);

/* What the webmail shows of an indexed message. */
struct fts_summary {
	char subject[512], from[512], snippet[640];
};
/* 1 found, 0 not indexed, -1 error. */
int fts_summary_get(struct fts_index *f, int64_t fid, uint32_t uid, struct fts_summary *s_r);

/* Drops the rows of folders not named in names (n of them): folders
 * deleted or renamed since they were indexed. */
int fts_folders_prune(struct fts_index *f, const char *const *names, size_t n);

/* Empties the index (yubinctl index rebuild): one transaction, safe while
 * the daemon uses it. */
int fts_clear(struct fts_index *f);

/* Index statistics for reports. */
int fts_count(struct fts_index *f, uint64_t *messages_r);

#endif
