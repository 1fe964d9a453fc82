#ifndef YUBIN_LIB_WORKERS_H
#define YUBIN_LIB_WORKERS_H

struct event_base;
struct worker_pool;

/* A small pool of threads for blocking work (password hashing, fsync'd
 * writes, SQLite writes). A job's work() runs on a worker thread; its done()
 * then runs on the event loop that submitted it, so session state is only
 * ever touched by its own loop. */
typedef void worker_fn(void *ctx);

struct worker_pool *worker_pool_new(unsigned threads);
/* Waits for queued jobs to finish, then joins the threads. NULL is fine. */
void worker_pool_free(struct worker_pool *pool);
/* Queues a job. done may be NULL; base may be NULL when done is NULL. */
void worker_pool_submit(struct worker_pool *pool, struct event_base *base,
			worker_fn *work, worker_fn *done, void *ctx);

#endif
