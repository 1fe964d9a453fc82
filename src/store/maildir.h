#ifndef YUBIN_STORE_MAILDIR_H
#define YUBIN_STORE_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Maildir++ mailboxes: DATA/mail/DOMAIN/USER/{cur,new,tmp} for INBOX and
 * .Sent .Drafts .Trash .Junk beside them. Message files are kept in wire
 * form (CRLF line ends), so a file's size is the message's RFC 822 size;
 * names carry it as ",S=<size>" and flags after ":2,". */

#define MAILDIR_NAME_MAX 128

/* The folders every new mailbox gets, besides INBOX. */
extern const char *const maildir_default_folders[];

int maildir_path(char *buf, size_t size, const char *data_dir, const char *domain, const char *local);
/* Creates the mailbox with its default folders (existing parts are kept). */
int maildir_create(const char *path);
/* The default folders of an existing mailbox, made when missing (as
 * maildir_create). -1 with errno ENOENT when the mailbox itself is gone:
 * its account was deleted while a message for it was under way, and a
 * delivery must not make it again (an account added later under the
 * address would find that mail). */
int maildir_folders_mend(const char *path);

/* A message to write: a prefix (trace headers) then the body, which is in
 * memory (body != NULL) or in a file (body_fd, read from offset 0). */
struct maildir_msg {
	const char *prefix;
	size_t prefix_len;
	const char *body;
	int body_fd;
	size_t body_len;
};

/* Writes msg's body (after its prefix) to fd: 0, or -1 with errno. */
int maildir_write_body(int fd, const struct maildir_msg *msg);

/* A new unique base name "SECONDS.M<usec>P<pid>Q<n>.HOST,S=<size>". */
void maildir_unique_name(char *buf, size_t size, size_t msg_size);
/* Writes msg durably (fdatasync) into path/tmp/ under a new unique name
 * (in name_r): 0, or -1 with *error_r and nothing left behind. The caller
 * names it in new/ or cur/ and fsyncs that directory. */
int maildir_write_tmp(const char *path, const struct maildir_msg *msg, char *name_r, size_t name_size,
		      const char **error_r);

/* Writes msg into tmp/, fsyncs it, renames it into new/ and fsyncs new/.
 * Only after it returns 0 is the message durable. The base name is written
 * to name_r. */
int maildir_deliver(const char *path, const struct maildir_msg *msg, char *name_r,
		    size_t name_size, const char **error_r);

/* As maildir_deliver, but into cur/ with the Maildir flags given (letters
 * in ASCII order, e.g. "FS"): what IMAP APPEND needs. name_r receives the
 * full file name (base name + ":2,flags"). */
int maildir_deliver_cur(const char *path, const struct maildir_msg *msg, const char *flags,
			char *name_r, size_t name_size, const char **error_r);

/* Removes files in tmp/ (INBOX and folders) older than max_age seconds:
 * leftovers of deliveries interrupted by a crash (the Maildir spec says
 * 36 hours). Returns how many were removed. */
int maildir_clean_tmp(const char *path, long max_age);

/* Removes the messages of one folder (its cur/ and new/) that were put
 * there before cutoff (the file's ctime: set by the delivery, move or copy
 * that placed it). Returns the bytes freed; *count_r grows by the number
 * of messages removed. */
uint64_t maildir_expire(const char *folder, time_t cutoff, unsigned *count_r);

/* Sums the sizes of every message in every folder. */
int maildir_usage(const char *path, uint64_t *bytes_r, uint64_t *count_r);
/* The same per folder: cb for the inbox (name "") and each ".NAME"
 * folder (name without the dot, as stored). -1 when path cannot be read. */
typedef void maildir_folder_cb(const char *name, uint64_t bytes, uint64_t count, void *ctx);
int maildir_folder_usage(const char *path, maildir_folder_cb *cb, void *ctx);

struct maildir_entry {
	char name[MAILDIR_NAME_MAX];	/* file name in its directory */
	char uid[MAILDIR_NAME_MAX];	/* base name, before ":2," */
	bool in_cur;
	uint64_t size;
	int64_t mtime;
};

/* Lists INBOX messages (new/ and cur/) oldest first. *entries_r is
 * malloc'd. */
int maildir_list(const char *path, struct maildir_entry **entries_r, size_t *count_r);
/* Path of an entry's file. */
int maildir_entry_path(const char *path, const struct maildir_entry *e, char *buf, size_t size);
/* Opens an entry's file for reading: an fd, or -1. A file listed in new/
 * that an IMAP session has since seen is looked for in cur/ as well, under
 * its name as moved alone (NAME:2,) or with its directory (NAME). */
int maildir_entry_open(const char *path, const struct maildir_entry *e);
/* Size from a ",S=" field in a file name; -1 when there is none. */
int64_t maildir_name_size(const char *name);

/* POP3 QUIT's deletions, all or nothing. The base names (entry uid) are
 * first written durably to POP3_DELETE_INTENT in the mailbox; then the
 * files are removed (found by base name in new/ and cur/, wherever a sync
 * moved them) and both directories fsynced; then the record goes. A
 * record left by a crash is completed by maildir_delete_resume(): at the
 * mailbox's first use after a start (maildir_clean_tmp), at POP3 login
 * and when the index is opened. freed_r gets the bytes removed, failed_r
 * how many files could not be (the record then stays, to be retried).
 * Returns 0, or -1 when the record could not be written (nothing was
 * removed). */
#define POP3_DELETE_INTENT "pop3-delete.intent"
int maildir_delete_messages(const char *path, const char *const *uids, size_t n, uint64_t *freed_r,
			    unsigned *failed_r);
/* 1: a pending record was completed, 0: there was none, -1: error. */
int maildir_delete_resume(const char *path, uint64_t *freed_r);
bool maildir_delete_is_pending(const char *path);

#endif
