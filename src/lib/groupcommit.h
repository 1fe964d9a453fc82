#ifndef YUBIN_LIB_GROUPCOMMIT_H
#define YUBIN_LIB_GROUPCOMMIT_H

#include <stddef.h>

/* Group commit: one thread makes the durability work of many concurrent
 * requests into one batch. A request is a list of items (files to sync,
 * say) and a function to call once they are done. The thread takes every
 * request waiting when it wakes, hands all their items to the commit
 * function in one call, then calls each request's done() in the order they
 * came. Requests that arrive while a batch is being committed wait for the
 * next one, so batches grow with the load and an idle committer starts at
 * once: there is no fixed delay. */

struct group_commit;

/* The batch-end hooks a batch's requests name, at most this many distinct
 * ones per batch (more are not called: keep to one per kind of request). */
#define GROUP_COMMIT_ENDS_MAX 4
typedef void group_commit_end_fn(void);

/* Makes items[0..n) durable; each item records its own outcome. */
typedef void group_commit_fn(void **items, size_t n, void *arg);

struct group_commit_req {
	struct group_commit_req *next;	/* the committer's */
	void **items;
	size_t nitems;
	/* Called on the committer thread after the batch holding the items
	 * was committed; it may free the request. */
	void (*done)(struct group_commit_req *req);
	/* Optional: called once per batch, after every done() of it (on
	 * the committer thread), so the requests' follow-up work can be
	 * batched too (one database transaction for all, say). Requests of
	 * one batch with the same batch_end share the one call. */
	group_commit_end_fn *batch_end;
};

/* max_items bounds one batch (whole requests are never split; one request
 * larger than it makes a batch of its own). */
struct group_commit *group_commit_new(group_commit_fn *commit, void *arg, size_t max_items);
/* Queues a request; its done() always runs, once. */
void group_commit_submit(struct group_commit *gc, struct group_commit_req *req);
/* Commits what is queued, then stops the thread. NULL is fine. */
void group_commit_free(struct group_commit *gc);
/* Batches committed so far (for tests and logs). */
unsigned long group_commit_batches(struct group_commit *gc);

#endif
