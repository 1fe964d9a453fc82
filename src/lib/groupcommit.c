#include "lib/groupcommit.h"
#include "lib/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct group_commit {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct group_commit_req *head, *tail;
	bool stopping;
	unsigned long batches;
	group_commit_fn *commit;
	void *arg;
	size_t max_items;
	void **items;		/* the batch being committed (the thread's) */
	pthread_t thread;
};

/* Takes the requests of the next batch off the queue (lock held): at least
 * one, then more while they fit in max_items. */
static struct group_commit_req *group_commit_take(struct group_commit *gc, size_t *nitems_r)
{
	struct group_commit_req *first = gc->head, *last = first;
	size_t n = first->nitems;

	while (last->next != NULL && n + last->next->nitems <= gc->max_items) {
		last = last->next;
		n += last->nitems;
	}
	gc->head = last->next;
	if (gc->head == NULL)
		gc->tail = NULL;
	last->next = NULL;
	*nitems_r = n;
	return first;
}

static void group_commit_run(struct group_commit *gc, struct group_commit_req *reqs, size_t n)
{
	void **items = n <= gc->max_items ? gc->items : malloc(n * sizeof(*items));
	group_commit_end_fn *ends[GROUP_COMMIT_ENDS_MAX];
	size_t k = 0, nends = 0;

	if (items == NULL)
		log_fatal("groupcommit: out of memory");
	for (struct group_commit_req *r = reqs; r != NULL; r = r->next) {
		for (size_t i = 0; i < r->nitems; i++)
			items[k++] = r->items[i];
	}
	if (k > 0)
		gc->commit(items, k, gc->arg);
	if (items != gc->items)
		free(items);
	/* the batch-end hooks, each once, noted before done() may free */
	for (struct group_commit_req *r = reqs; r != NULL; r = r->next) {
		size_t j = 0;

		while (j < nends && ends[j] != r->batch_end)
			j++;
		if (r->batch_end != NULL && j == nends && nends < GROUP_COMMIT_ENDS_MAX)
			ends[nends++] = r->batch_end;
	}
	while (reqs != NULL) {
		struct group_commit_req *next = reqs->next;
		reqs->done(reqs);
		reqs = next;
	}
	for (size_t j = 0; j < nends; j++)
		ends[j]();
}

static void *group_commit_main(void *arg)
{
	struct group_commit *gc = arg;

	for (;;) {
		struct group_commit_req *reqs;
		size_t n;

		pthread_mutex_lock(&gc->lock);
		while (gc->head == NULL && !gc->stopping)
			pthread_cond_wait(&gc->cond, &gc->lock);
		if (gc->head == NULL) {
			pthread_mutex_unlock(&gc->lock);
			return NULL;
		}
		reqs = group_commit_take(gc, &n);
		gc->batches++;
		pthread_mutex_unlock(&gc->lock);
		group_commit_run(gc, reqs, n);
	}
}

struct group_commit *group_commit_new(group_commit_fn *commit, void *arg, size_t max_items)
{
	struct group_commit *gc = calloc(1, sizeof(*gc));

	if (gc == NULL || max_items == 0 || (gc->items = calloc(max_items, sizeof(void *))) == NULL)
		log_fatal("groupcommit: out of memory");
	gc->commit = commit;
	gc->arg = arg;
	gc->max_items = max_items;
	pthread_mutex_init(&gc->lock, NULL);
	pthread_cond_init(&gc->cond, NULL);
	if (pthread_create(&gc->thread, NULL, group_commit_main, gc) != 0)
		log_fatal("groupcommit: cannot start the thread");
	return gc;
}

void group_commit_submit(struct group_commit *gc, struct group_commit_req *req)
{
	req->next = NULL;
	pthread_mutex_lock(&gc->lock);
	if (gc->tail != NULL)
		gc->tail->next = req;
	else
		gc->head = req;
	gc->tail = req;
	pthread_cond_signal(&gc->cond);
	pthread_mutex_unlock(&gc->lock);
}

unsigned long group_commit_batches(struct group_commit *gc)
{
	unsigned long n;

	pthread_mutex_lock(&gc->lock);
	n = gc->batches;
	pthread_mutex_unlock(&gc->lock);
	return n;
}

void group_commit_free(struct group_commit *gc)
{
	if (gc == NULL)
		return;
	pthread_mutex_lock(&gc->lock);
	gc->stopping = true;
	pthread_cond_broadcast(&gc->cond);
	pthread_mutex_unlock(&gc->lock);
	pthread_join(gc->thread, NULL);
	pthread_mutex_destroy(&gc->lock);
	pthread_cond_destroy(&gc->cond);
	free(gc->items);
	free(gc);
}
