#ifndef YUBIN_OPS_OPS_MAIL_H
#define YUBIN_OPS_OPS_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"
#include "store/index.h"

/* A mail user's own mailbox, as the webmail reads and changes it: through
 * the same index and Maildir as IMAP (store/index*.c), so a flag set here
 * is seen by an IMAP session at its next command with a new MODSEQ, and
 * what IMAP expunges is gone here. Only a mail user acts, and only on its
 * own mailbox (an administrator or a token gets forbidden). Blocking: call
 * from a worker. */

#define OPS_MAIL_UIDS_MAX 1000		/* messages named in one request */
#define OPS_MAIL_PAGE_MAX 200		/* messages in one page of the list */
#define OPS_MAIL_READ_MAX (64u << 20)	/* bytes of a message read into memory */
#define OPS_MAIL_FOLDER_NAME_MAX 200	/* bytes of a user folder's name */

/* Learning from moves into and out of Junk, as IMAP MOVE does
 * (server/spam_learn.h); the server fills it, NULL means no learning. */
struct ops_mail_learn {
	/* A batch for a move from src to dst (names and special-use), or
	 * NULL when it teaches nothing. */
	void *(*begin)(const char *address, const char *src, const char *src_use, const char *dst,
		       const char *dst_use);
	int (*add)(void *batch, const char *path);	/* before the move */
	void (*drop)(void *batch, int i);		/* the move failed */
	void (*submit)(void *batch);			/* trains on a worker; frees */
};

struct ops_mailbox {
	struct mail_index *idx;
	char root[4096];
	char address[DIR_ADDRESS_MAX + 1];
	uint64_t quota_bytes;		/* 0: no limit */
	const struct ops_mail_learn *learn;	/* may be NULL */
};

/* Opens the actor's own mailbox (a mail user's, enabled). */
int ops_mail_open(struct ops *o, const struct ops_actor *actor, struct ops_mailbox *mb,
		  struct ops_error *err);
void ops_mail_close(struct ops_mailbox *mb);
/* The mailbox's usage in bytes (the quota's count). */
uint64_t ops_mail_usage(struct ops_mailbox *mb);

struct ops_mail_folder {
	const struct index_mailbox *mbox;
	const char *role;	/* "inbox", "drafts", "sent", "junk", "trash" or NULL */
	uint64_t total, unseen, bytes;
};
typedef void ops_mail_folder_cb(const struct ops_mail_folder *f, void *ctx);
/* Every folder with its counts (each one synced with its Maildir). */
int ops_mail_folders(struct ops_mailbox *mb, ops_mail_folder_cb *cb, void *ctx, struct ops_error *err);
/* A folder by name (404 not_found). */
int ops_mail_folder(struct ops_mailbox *mb, const char *name, struct index_mailbox *mbox_r,
		    struct ops_error *err);
/* The folder of a role ("trash", "junk", ...), or 404. */
int ops_mail_folder_by_role(struct ops_mailbox *mb, const char *role, struct index_mailbox *mbox_r,
			    struct ops_error *err);
const char *ops_mail_role(const struct index_mailbox *mbox);
/* A user's own folders: the special ones (INBOX, Drafts, Sent, Junk,
 * Trash) cannot be renamed or deleted (forbidden). */
int ops_mail_folder_create(struct ops_mailbox *mb, const char *name, struct ops_error *err);
int ops_mail_folder_rename(struct ops_mailbox *mb, const char *from, const char *to, struct ops_error *err);
int ops_mail_folder_delete(struct ops_mailbox *mb, const char *name, struct ops_error *err);

/* ---- the list (ops_mail_list.c) ---- */

enum ops_mail_sort { OPS_MAIL_SORT_DATE, OPS_MAIL_SORT_FROM, OPS_MAIL_SORT_SUBJECT, OPS_MAIL_SORT_SIZE };

struct ops_mail_summary {
	struct index_msg msg;
	int64_t date;			/* Date: header, else the arrival */
	char from_name[256];		/* decoded display name, or "" */
	char from_addr[320];		/* local@domain, or "" */
	char to_name[256], to_addr[320];	/* the first recipient, the same way */
	char subject[512];		/* decoded */
	bool attachment;		/* multipart/mixed or a non-text body */
};

struct ops_mail_page {
	struct index_mailbox mbox;
	uint64_t total, unseen;
	struct ops_mail_summary *items;
	size_t count;
};

/* One page of a folder, sorted (date: arrival order) and descending when
 * desc. limit at most OPS_MAIL_PAGE_MAX. */
int ops_mail_list(struct ops_mailbox *mb, const char *folder, enum ops_mail_sort sort, bool desc,
		  size_t offset, size_t limit, struct ops_mail_page *page_r, struct ops_error *err);
void ops_mail_page_free(struct ops_mail_page *page);
/* The summary of one message from its header bytes. Pure. */
void ops_mail_summarize(const char *header, size_t len, struct ops_mail_summary *s);

/* ---- changes (ops_mail_change.c) ---- */

/* Sets and clears flags (INDEX_FLAG_SEEN, _ANSWERED, _FLAGGED) of the
 * messages uids; those gone are skipped. *changed_r: how many changed. */
int ops_mail_flags(struct ops_mailbox *mb, const char *folder, const uint32_t *uids, size_t n,
		   uint32_t set, uint32_t clear, size_t *changed_r, struct ops_error *err);
/* Moves (or copies) messages to folder dst; a copy is counted against the
 * quota (over_quota when it does not fit). Moves into or out of Junk
 * teach the spam filter as IMAP's do. *done_r: messages moved. */
int ops_mail_move(struct ops_mailbox *mb, const char *folder, const uint32_t *uids, size_t n,
		  const char *dst, bool copy, size_t *done_r, struct ops_error *err);
/* Delete: to Trash, or from Trash for good. *freed_r: bytes given back. */
int ops_mail_delete(struct ops_mailbox *mb, const char *folder, const uint32_t *uids, size_t n,
		    size_t *done_r, uint64_t *freed_r, struct ops_error *err);
/* Removes every message of Trash or Junk (others: forbidden). */
int ops_mail_empty(struct ops_mailbox *mb, const char *folder, size_t *count_r, uint64_t *freed_r,
		   struct ops_error *err);

/* ---- reading (ops_mail_read.c) ---- */

/* The message uid of folder: its row and its bytes (malloc'd; at most
 * OPS_MAIL_READ_MAX, else too_large). */
int ops_mail_read(struct ops_mailbox *mb, const char *folder, uint32_t uid, struct index_mailbox *mbox_r,
		  struct index_msg *msg_r, char **data_r, size_t *len_r, struct ops_error *err);
/* The same, an open descriptor of its file instead of its bytes (for
 * sending it as it is): >= 0, or -1. */
int ops_mail_fd(struct ops_mailbox *mb, const char *folder, uint32_t uid, struct index_msg *msg_r,
		struct ops_error *err);

#endif
