#ifndef YUBIN_STORE_INDEX_H
#define YUBIN_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/maildir.h"

/* The per-account mail index (DATA/mail/DOMAIN/USER/index.db, SQLite):
 * folders with their UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ, and for each
 * message its UID, current file name, flags, keywords, MODSEQ, size and
 * internal date. The Maildir stays the truth: mail_index_sync() brings the
 * index in line with the directories (new files get UIDs, vanished files
 * are expunged, flags changed in file names are picked up), so the index
 * can be deleted at any time and is rebuilt, keeping every UID it still
 * holds. Blocking: call from a worker thread. */

#define INDEX_NAME_MAX 512
#define INDEX_KEYWORDS_MAX 256

enum index_flag {
	INDEX_FLAG_SEEN = 1 << 0,
	INDEX_FLAG_ANSWERED = 1 << 1,
	INDEX_FLAG_FLAGGED = 1 << 2,
	INDEX_FLAG_DELETED = 1 << 3,
	INDEX_FLAG_DRAFT = 1 << 4,
};

struct mail_index;

struct index_mailbox {
	int64_t id;
	char name[INDEX_NAME_MAX];	/* IMAP name (UTF-8), "INBOX" for the inbox */
	char path[4096];		/* its Maildir */
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	bool subscribed;
	char special_use[16];		/* "\\Sent", ... or "" */
};

struct index_msg {
	uint32_t uid;
	uint32_t flags;
	uint64_t modseq;
	uint64_t size;
	int64_t internaldate;
	bool recent;			/* not yet claimed by a read-write session */
	char file[MAILDIR_NAME_MAX + 40];	/* name in cur/ */
	char keywords[INDEX_KEYWORDS_MAX];	/* space-separated */
};

struct index_view {
	struct index_msg *msgs;		/* by ascending UID */
	size_t count;
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	/* The state it shows, for mail_index_sync_since; 0 when it has no
	 * name (the process's message cache could not keep it). */
	uint64_t version;
};

/* What changed in a folder since a state a caller saw. */
struct index_changes {
	bool full;			/* no delta: view holds every message */
	struct index_view view;		/* else the rows changed since, and all above last_uid */
	uint32_t *gone;			/* not full: UIDs at or below last_uid now gone */
	size_t ngone;
};

/* Opens the index of the account whose Maildir++ root is root, creating it
 * (and the rows for the folders found on disk) when missing. */
struct mail_index *mail_index_open(const char *root, char *err, size_t errsize);
void mail_index_close(struct mail_index *idx);
const char *mail_index_root(const struct mail_index *idx);

/* A handle from a process-wide pool of open indexes: sessions borrow one
 * for the length of a command instead of holding one each, so an idle
 * session costs no SQLite connection and page cache, and the few handles
 * in use stay warm. A handle is used by one thread at a time; release
 * returns it (closing the least recently used idle ones past a bound). */
struct mail_index *mail_index_acquire(const char *root, char *err, size_t errsize);
void mail_index_release(struct mail_index *idx);
/* Closes the idle handles of root and drops its cached messages (its
 * mailbox is deleted): nothing of it is reused for a new one there. */
void mail_index_pool_forget(const char *root);
/* At shutdown, once no session holds a handle: closes the idle handles and
 * frees the shared message caches. */
void mail_index_pool_cleanup(void);

/* Damaged indexes. An index that SQLite reports corrupt (SQLITE_CORRUPT,
 * SQLITE_NOTADB: on open, in a quick integrity check at open, or in any
 * statement run through a pooled handle) is set aside as
 * index.db.corrupt-TIMESTAMP (the newest INDEX_CORRUPT_KEEP are kept) and
 * rebuilt from the Maildir into a new file that replaces index.db by an
 * atomic rename. Each folder keeps its UIDVALIDITY and UIDs when its rows
 * can still be read from the damaged file, or else from this process's
 * message cache; otherwise it gets a new UIDVALIDITY.
 * Rebuilds of one account are serialised across processes by a lock on
 * index.lock, so the daemon and yubinctl can both do it. */
#define INDEX_CORRUPT_KEEP 3

struct index_rebuild_report {
	unsigned folders, messages;
	unsigned renewed;		/* folders with a new UIDVALIDITY */
	bool corrupt;			/* the old index was damaged (set aside) */
	char detail[400];		/* "INBOX (3 messages, UIDs kept), Sent (...)" */
};

enum index_rebuild_mode {
	INDEX_REBUILD_DAMAGED,		/* only if damaged; keep what it can still tell */
	INDEX_REBUILD_FRESH,		/* every folder gets a new UIDVALIDITY */
};

/* Rebuilds the account's index as above. 0 done, -1 error (err set). */
int mail_index_rebuild(const char *root, enum index_rebuild_mode mode,
		       struct index_rebuild_report *report_r, char *err, size_t errsize);
/* 1: index.db is damaged, 0: it is fine (or missing), -1: cannot tell. */
int mail_index_check(const char *root);

/* Told (on the worker thread) of every rebuild the pool did by itself. */
typedef void index_rebuilt_cb(const char *root, const struct index_rebuild_report *report);
/* Once at start-up, before SQLite is first used: installs the hook and
 * SQLite's error log through which pooled handles notice corruption. */
void mail_index_pool_init(index_rebuilt_cb *cb);

/* Folders. Names are IMAP names with '/' as the hierarchy separator;
 * "INBOX" is case-insensitive. get returns 1 found, 0 not found, -1. */
int mail_index_mailbox_get(struct mail_index *idx, const char *name, struct index_mailbox *mbox_r);
typedef void index_mailbox_cb(const struct index_mailbox *mbox, void *ctx);
int mail_index_mailbox_list(struct mail_index *idx, index_mailbox_cb *cb, void *ctx);
int mail_index_mailbox_create(struct mail_index *idx, const char *name, const char **error_r);
/* The Maildir of folder name (an IMAP name, UTF-8, '/' between levels;
 * "INBOX" is root itself) of the mailbox at root, without the index: a
 * delivery filing into a folder. create: make it when missing (the index
 * finds it at its next look, subscribed, as every folder found on disk).
 * 1 there (or made), 0 missing, -1 with *error_r (a bad name). */
int mail_folder_path(const char *root, const char *name, bool create, char *buf, size_t size,
		     const char **error_r);
int mail_index_mailbox_delete(struct mail_index *idx, const char *name, const char **error_r);
int mail_index_mailbox_rename(struct mail_index *idx, const char *from, const char *to,
			      const char **error_r);
/* Subscriptions are names (RFC 3501 6.3.6): a mailbox may be subscribed
 * before it exists and stays subscribed when deleted. CREATE does not
 * subscribe; folders found on disk (the account's own) start subscribed. */
int mail_index_mailbox_subscribe(struct mail_index *idx, const char *name, bool on,
				 const char **error_r);
/* Calls cb with every subscribed name, existing or not. */
int mail_index_subscriptions(struct mail_index *idx, void (*cb)(const char *name, void *ctx), void *ctx);

/* Brings the folder's index in line with its Maildir and returns the
 * messages. Files found in new/ are moved to cur/. A message is recent
 * until a session claims it (below). */
int mail_index_sync(struct mail_index *idx, struct index_mailbox *mbox, struct index_view *view_r);
/* A session with the folder selected read-write takes \Recent for the
 * messages below uidnext that nobody has claimed: returns the lowest UID
 * that is recent for it. */
uint32_t mail_index_recent_claim(const struct index_mailbox *mbox, uint32_t uidnext);
void index_view_free(struct index_view *view);
/* mail_index_sync, telling only what changed since the state since (a
 * view's version; 0: none) for a caller that knows the UIDs up to last_uid:
 * the cost grows with the changes, not with the folder. When that state is
 * no longer known, ch_r->full is set and the view holds every message. */
int mail_index_sync_since(struct mail_index *idx, struct index_mailbox *mbox, uint64_t since,
			  uint32_t last_uid, struct index_changes *ch_r);
void index_changes_free(struct index_changes *ch);
/* The rows of the given UIDs (ascending) as the last sync left them; UIDs
 * no longer there are left out. */
int mail_index_rows(struct mail_index *idx, struct index_mailbox *mbox, const uint32_t *uids, size_t n,
		    struct index_view *view_r);

/* What a message list needs of each message, without its file name and
 * keywords (32 bytes a message instead of a view's row). */
struct index_brief {
	uint32_t uid, flags;
	uint64_t size, modseq;
	int64_t internaldate;
};
/* The folder's messages in brief, by ascending UID, from the message
 * cache when it is current (as mail_index_sync would use it), else after a
 * full sync. *rows_r is malloc'd; mbox's counters are brought up to date. */
int mail_index_brief(struct mail_index *idx, struct index_mailbox *mbox, struct index_brief **rows_r,
		     size_t *count_r);

/* Path of a message's file. */
int mail_index_msg_path(const struct index_mailbox *mbox, const struct index_msg *msg,
			char *buf, size_t size);
/* Sets flags and keywords of one message (renaming its file); the message's
 * modseq and the folder's HIGHESTMODSEQ grow. msg is updated. */
int mail_index_set_flags(struct mail_index *idx, struct index_mailbox *mbox, struct index_msg *msg,
			 uint32_t flags, const char *keywords);
/* One message's change for mail_index_set_flags_many. */
struct index_flag_change {
	struct index_msg *msg;	/* updated when the change is made */
	uint32_t flags;
	const char *keywords;	/* NULL: unchanged */
	int result;		/* out: 0 made, -1 not */
};
/* Sets flags and keywords of many messages of one folder at once: their
 * files renamed, then one index transaction (one commit) per batch of up to
 * 1,000. Each change's result says whether it was made; -1 when a batch's
 * transaction failed. */
int mail_index_set_flags_many(struct mail_index *idx, struct index_mailbox *mbox,
			      struct index_flag_change *ch, size_t n);
/* Removes messages (files and rows); their sizes go back to the quota. */
int mail_index_expunge(struct mail_index *idx, struct index_mailbox *mbox,
		       const struct index_msg *msgs, size_t count);
/* Stores a new message durably in the folder with flags and internal date
 * (0: now) and gives it the next UID. The caller has reserved quota. */
int mail_index_append(struct mail_index *idx, struct index_mailbox *mbox, const struct maildir_msg *msg,
		      uint32_t flags, const char *keywords, int64_t internaldate, uint32_t *uid_r,
		      const char **error_r);
/* One message of mail_index_append_many. */
struct index_append {
	const struct maildir_msg *msg;
	uint32_t flags;
	const char *keywords;
	int64_t internaldate;	/* 0: now */
};
/* Stores messages durably in the folder together (MULTIAPPEND): each file
 * written and synced out of sight, then all named in cur/ with one fsync
 * of it and given consecutive UIDs (uids_r) in one index transaction, so a
 * batch costs one directory fsync and one commit, not one of each per
 * message. All or nothing: on failure nothing of the batch stays. The
 * caller has reserved quota. */
int mail_index_append_many(struct mail_index *idx, struct index_mailbox *mbox, const struct index_append *v,
			   size_t n, uint32_t *uids_r, const char **error_r);
/* Copies (or moves) a message into another folder durably; *uid_r gets its
 * UID there. A copy is a hard link (no extra disk, but counted again in the
 * quota, as every copy is); a move is a rename. */
int mail_index_copy(struct mail_index *idx, struct index_mailbox *src, const struct index_msg *msg,
		    struct index_mailbox *dst, bool move, uint32_t *uid_r, const char **error_r);
/* Copies (or moves) many messages of one folder: in batches of up to
 * 1,000, the files linked (renamed), each directory fsynced once and the
 * rows added in one transaction. uids_r[i] gets msgs[i]'s UID. Returns how
 * many were done, in order; fewer than n when one failed (*error_r says
 * why; those before it stay done). */
size_t mail_index_copy_many(struct mail_index *idx, struct index_mailbox *src, const struct index_msg *const *msgs,
			    size_t n, struct index_mailbox *dst, bool move, uint32_t *uids_r, const char **error_r);

/* Maildir flag letters for flags (ASCII order) and back. */
void index_flags_to_maildir(uint32_t flags, char *buf, size_t size);
uint32_t index_flags_from_maildir(const char *name);

/* A change counter per account, bumped by anything that changes a mailbox
 * (delivery, POP3, IMAP): sessions in IDLE poll it cheaply. */
void store_changed(const char *root);
/* Completes POP3 deletions a crash left half done (maildir.h), giving the
 * bytes back to the quota. */
void store_deletions_resume(const char *root);
uint64_t store_generation(const char *root);

#endif
