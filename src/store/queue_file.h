#ifndef YUBIN_STORE_QUEUE_FILE_H
#define YUBIN_STORE_QUEUE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/maildir.h"

/* The outbound queue on disk: DATA/queue/ID, one file per message, shared
 * by the daemon and yubinctl. A file is an envelope header, the message
 * in wire form (CRLF), then an append-only log of recipient results:
 *
 *   YUBIN-QUEUE 1\n
 *   id ID\n  created UNIXTIME\n  from ADDRESS\n (empty: null sender)
 *   rcpt ADDRESS\n ... (one per recipient, numbered from 0)
 *   size N\n  \n
 *   <N bytes of message>
 *   D|F|T RCPT-INDEX UNIXTIME REPLY\n   delivered / failed (bounced) / deferred
 *   W UNIXTIME\n                        delay notice sent
 *
 * The header and message never change after the file is renamed into
 * place; results are appended and fdatasync'd (a torn last line, from a
 * crash, is ignored). The file's mtime is the time of the next attempt,
 * as Postfix does with its deferred queue. */

#define QUEUE_ID_MAX 24
#define QUEUE_ADDR_MAX 320
#define QUEUE_REPLY_MAX 512

enum queue_rcpt_state { QUEUE_PENDING, QUEUE_DELIVERED, QUEUE_FAILED };

struct queue_rcpt {
	char addr[QUEUE_ADDR_MAX + 1];
	enum queue_rcpt_state state;
	char reply[QUEUE_REPLY_MAX];	/* last reply or error, "" if none */
	int64_t ts;			/* when reply was recorded */
};

struct queue_env {
	char id[QUEUE_ID_MAX];
	char from[QUEUE_ADDR_MAX + 1];	/* "" = null sender (a bounce) */
	int64_t created;
	int64_t next_attempt;		/* the file's mtime */
	uint64_t body_off, body_len;
	struct queue_rcpt *rcpts;
	size_t nrcpts;
	unsigned attempts;		/* deferred results recorded (T lines) */
	bool warned;			/* delay notice sent */
};

struct maildir_staged;

/* Writes a new queue file in dir under a temporary name (.ID.tmp) and
 * fills st for the group commit (store/maildir_commit.h), which
 * fdatasyncs it, renames it to its id (st->name) and fsyncs dir: 0, or -1
 * with *error_r (nothing left behind). */
int queue_file_stage(const char *dir, const char *from, const char *const *rcpts, size_t nrcpts,
		     const struct maildir_msg *msg, struct maildir_staged *st, const char **error_r);
/* queue_file_stage and its commit at once: temporary name, fdatasync,
 * rename to its id, fsync dir. Durable when it returns 0; the id in id_r. */
int queue_file_create(const char *dir, const char *from, const char *const *rcpts, size_t nrcpts,
		      const struct maildir_msg *msg, char *id_r, size_t id_size,
		      const char **error_r);
/* A signer adds header fields in front of every message queued from then
 * on (DKIM-Signature, see policy/dkim_sign.h), so that every writer of
 * queue files (the daemon's queue_submit, yubinctl queue inject) signs
 * the same way, once, and retries send identical bytes. It returns the
 * fields in a malloc'd buffer (*len_r bytes), or NULL to queue the message
 * as it is. Set once at start-up, before any queue_file_create. */
typedef char *queue_file_signer_fn(void *ctx, const char *from, const struct maildir_msg *msg,
				   size_t *len_r);
void queue_file_set_signer(queue_file_signer_fn *fn, void *ctx);

/* Parses the queue file at path. env->rcpts is malloc'd: queue_env_free. */
int queue_file_read(const char *path, struct queue_env *env, const char **error_r);
void queue_env_free(struct queue_env *env);
/* Parses a file's bytes (header, message, log); pure. */
int queue_file_parse(const char *data, size_t len, struct queue_env *env, const char **error_r);
/* Appends one result line and fdatasyncs: state 'D', 'F', 'T' for rcpt,
 * or 'W' (rcpt ignored). */
int queue_file_record(const char *path, char state, size_t rcpt, const char *reply);
/* As queue_file_record, with the fdatasync only when sync; queue_file_sync
 * makes such lines durable later (the daemon records a whole attempt's
 * deliveries and syncs once, or not at all when the file is removed). */
int queue_file_record2(const char *path, char state, size_t rcpt, const char *reply, bool sync);
int queue_file_sync(const char *path);
/* Sets the next attempt time (the mtime). */
int queue_file_set_next(const char *path, int64_t when);
/* true when id looks like a queue id (so no path tricks). */
bool queue_id_is_valid(const char *id);
/* true when an address can go into a queue file (no controls, bounded). */
bool queue_addr_is_valid(const char *addr);
/* The number of recipients still pending. */
size_t queue_env_pending(const struct queue_env *env);

#endif
