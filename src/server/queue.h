#ifndef YUBIN_SERVER_QUEUE_H
#define YUBIN_SERVER_QUEUE_H

#include <stddef.h>

#include "store/maildir.h"
#include "store/queue_file.h"

/* The outbound queue (DATA/queue, format in store/queue_file.h) and its
 * runner: a scheduler thread plus queue.max_parallel delivery threads of
 * its own, so slow remote servers never hold the daemon's worker pool. */

/* Queues a message for remote delivery. Blocking (call it on a worker
 * thread): returns 0 only once the queue file (envelope + prefix + body)
 * and its directory entry are on disk, so the caller may answer 250; the
 * queue id goes to id_r. from is "" for the null sender. Wakes the runner.
 * login: the authenticated login the message is submitted for, or NULL
 * (bounces, forwarded copies): its DKIM signature is only made for a
 * domain the login may send as (policy/sendas.h). */
int queue_submit(const char *login, const char *from, const char *const *rcpts, size_t nrcpts,
		 const struct maildir_msg *msg, char *id_r, size_t id_size, const char **error_r);

/* queue_submit in two steps, for the group commit (lib/groupcommit.h):
 * queue_stage writes the queue file under its temporary name into st (0,
 * or -1 with *error_r); once the committer has made it durable
 * (st->error NULL), queue_staged_done logs it and hands it to the runner.
 * A queued message whose recipients share one destination goes straight
 * to a delivery under way to it when one has room (no queue scan). */
struct maildir_staged;
int queue_stage(const char *login, const char *from, const char *const *rcpts, size_t nrcpts,
		const struct maildir_msg *msg, struct maildir_staged *st, const char **error_r);
void queue_staged_done(const struct maildir_staged *st, const char *from, const char *const *rcpts,
		       size_t nrcpts, size_t size);

/* Starts the runner (after the server's settings are loaded): resumes what
 * is in DATA/queue. */
void queue_start(void);
/* Asks the scheduler to look at the queue now (SIGUSR1 from yubinctl). */
void queue_wake(void);
/* Stops scheduling, lets deliveries in flight finish their current
 * message for up to grace seconds, then returns. */
void queue_stop(unsigned grace);

/* dsn.c: sends a delivery status notification (RFC 3464) to env->from
 * about the recipients idx[0..n-1]: failed ones, or delayed ones when
 * delayed is set. Into the sender's mailbox when the sender is local,
 * otherwise queued with the null sender. Never for a null sender. */
int dsn_send(const struct queue_env *env, const char *path, const size_t *idx, size_t n,
	     bool delayed, const char **error_r);

#endif
