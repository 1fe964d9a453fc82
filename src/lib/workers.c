#include "lib/workers.h"
#include "lib/log.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct worker_job {
	struct worker_job *next;
	struct event_base *base;
	worker_fn *work, *done;
	void *ctx;
};

struct worker_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct worker_job *head, *tail;
	bool stopping;
	unsigned nthreads;
	pthread_t threads[];
};

static void worker_job_done(evutil_socket_t fd, short what, void *arg)
{
	struct worker_job *job = arg;

	job->done(job->ctx);
	free(job);
}

static void *worker_main(void *arg)
{
	struct worker_pool *pool = arg;
	static const struct timeval now = { 0, 0 };

	for (;;) {
		struct worker_job *job;

		pthread_mutex_lock(&pool->lock);
		while (pool->head == NULL && !pool->stopping)
			pthread_cond_wait(&pool->cond, &pool->lock);
		job = pool->head;
		if (job == NULL) {
			pthread_mutex_unlock(&pool->lock);
			return NULL;
		}
		pool->head = job->next;
		if (pool->head == NULL)
			pool->tail = NULL;
		pthread_mutex_unlock(&pool->lock);

		job->work(job->ctx);
		if (job->done == NULL) {
			free(job);
		} else if (event_base_once(job->base, -1, EV_TIMEOUT, worker_job_done, job, &now) < 0) {
			/* The loop is gone: nothing can complete the job on it. */
			log_error(NULL, "workers: cannot return a job to its loop");
			free(job);
		}
	}
}

struct worker_pool *worker_pool_new(unsigned threads)
{
	struct worker_pool *pool = calloc(1, sizeof(*pool) + threads * sizeof(pthread_t));

	if (pool == NULL)
		log_fatal("workers: out of memory");
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	for (unsigned i = 0; i < threads; i++) {
		if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0)
			log_fatal("workers: cannot start a thread");
		pool->nthreads++;
	}
	return pool;
}

void worker_pool_free(struct worker_pool *pool)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->cond);
	free(pool);
}

void worker_pool_submit(struct worker_pool *pool, struct event_base *base,
			worker_fn *work, worker_fn *done, void *ctx)
{
	struct worker_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		log_fatal("workers: out of memory");
	job->base = base;
	job->work = work;
	job->done = done;
	job->ctx = ctx;
	pthread_mutex_lock(&pool->lock);
	if (pool->tail != NULL)
		pool->tail->next = job;
	else
		pool->head = job;
	pool->tail = job;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}
